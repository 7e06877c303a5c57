/**
 * A filter's choice, for a GET form: its label and a select of the values, the first option
 * (empty value) meaning no filter.
 */
export function FilterSelect(props: { name: string; label: string; all: string; values: readonly string[]; selected: string | undefined }) {
  return (
    <>
      <label for={props.name}>{props.label}</label>{' '}
      <select id={props.name} name={props.name}>
        <option value="" selected={props.selected === undefined}>
          {props.all}
        </option>
        {props.values.map((v) => (
          <option value={v} selected={v === props.selected}>
            {v}
          </option>
        ))}
      </select>
    </>
  );
}

/** The flag filter of the pages that can restrict a report to one flag's uploads. */
export function FlagSelect(props: { flags: readonly string[]; flag: string | undefined }) {
  return <FilterSelect name="flag" label="Flag" all="all uploads" values={props.flags} selected={props.flag} />;
}
