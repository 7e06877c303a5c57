import type { ComponentChildren } from 'preact';
import type { SortOrder } from '../tree';

/**
 * A data table inside a region that scrolls sideways on narrow screens. The region is focusable
 * and labelled so a keyboard can scroll it and a screen reader says what it is (axe's
 * scrollable-region rule).
 */
export function ScrollTable(props: { id?: string; class?: string; caption: ComponentChildren; head: ComponentChildren; children: ComponentChildren }) {
  return (
    <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
      <table id={props.id} class={props.class}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>{props.head}</tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** A column's header; `num` aligns it with the figures below it. */
export function Col(props: { num?: boolean; class?: string; children: ComponentChildren }) {
  return (
    <th scope="col" class={[props.num === true ? 'num' : '', props.class ?? ''].filter(Boolean).join(' ') || undefined}>
      {props.children}
    </th>
  );
}

/** The header cell of a row: what the row is about, for screen readers reading across. */
export function RowHead(props: { num?: boolean; children: ComponentChildren }) {
  return (
    <th scope="row" class={props.num === true ? 'num' : undefined}>
      {props.children}
    </th>
  );
}

export const ORDER_WORDS: Record<SortOrder, 'ascending' | 'descending'> = { asc: 'ascending', desc: 'descending' };

/** "sorted by misses, descending", for a sortable table's caption. */
export function sortedBy(label: string, order: SortOrder): string {
  return `sorted by ${label.toLowerCase()}, ${ORDER_WORDS[order]}`;
}

/**
 * The header of a column the table sorts by: a link to the table sorted by it (its default order,
 * or the other order once it is the sort), with `aria-sort` and an arrow saying which is current.
 */
export function SortCol<S extends string>(props: {
  sort: S;
  label: string;
  num?: boolean;
  current: S;
  order: SortOrder;
  defaultOrder: SortOrder;
  href: (order: SortOrder) => string;
}) {
  const active = props.current === props.sort;
  const next: SortOrder = active ? (props.order === 'asc' ? 'desc' : 'asc') : props.defaultOrder;
  return (
    <th scope="col" class={props.num === true ? 'num' : undefined} aria-sort={active ? ORDER_WORDS[props.order] : undefined}>
      <a href={props.href(next)} data-sort={props.sort}>
        {props.label}
        {active ? (props.order === 'asc' ? ' ▲' : ' ▼') : ''}
      </a>
    </th>
  );
}
