import type { ComponentChildren } from 'preact';

/** A region of a page, named by its heading (`aria-labelledby`), so landmarks list it by name. */
export function Section(props: { id: string; title: ComponentChildren; children: ComponentChildren }) {
  return (
    <section aria-labelledby={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      {props.children}
    </section>
  );
}
