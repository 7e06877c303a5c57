import type { ComponentChildren, VNode } from 'preact';
import { html, Layout } from './layout';

/** The access layer's pages (sign-in, 403, 404) in the frame every page shares. */
export function Document({ title, children }: { title: string; children: ComponentChildren }) {
  return <Layout title={title}>{children}</Layout>;
}

/** A page as sent: the doctype, then the rendered tree. */
export function renderPage<P>(tree: VNode<P>): string {
  // html() is typed for props-less nodes; any component's node renders alike.
  return html(tree as unknown as VNode);
}

/** The page of a 403 or 404: says what, reveals nothing else. */
export function StatusPage({ status }: { status: 403 | 404 }) {
  const [title, text] =
    status === 404 ? ['Not found', 'There is nothing here, or it is not yours to see.'] : ['Forbidden', 'This session may not open this page; sign in with another token.'];
  return (
    <Document title={title}>
      <h1>{title}</h1>
      <p>{text}</p>
      <p>
        <a href="/">Home</a> · <a href="/login">Sign in</a>
      </p>
    </Document>
  );
}
