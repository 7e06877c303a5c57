import type { ComponentChildren, VNode } from 'preact';
import { render } from 'preact-render-to-string';

/** The document every page of ours shares at the least: language, viewport, title, one main landmark. */
export function Document({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${title} · Tributary`}</title>
      </head>
      <body>
        <main>{children}</main>
      </body>
    </html>
  );
}

/** A page as sent: the doctype, then the rendered tree. */
export function renderPage<P>(tree: VNode<P>): string {
  // render() is typed for props-less nodes; any component's node renders alike.
  return `<!doctype html>${render(tree as unknown as VNode)}`;
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
