import type { ComponentChildren } from 'preact';
import { render } from 'preact-render-to-string';
import { assetUrl, type AssetName } from './assets';
import { band, percent } from './format';

/** The frame of every page: landmarks, a skip link, one h1 per page (the page's own). */
export function Layout(props: { title: string; crumbs?: { href: string; text: string }[]; scripts?: AssetName[]; styles?: AssetName[]; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Tributary`}</title>
        <link rel="stylesheet" href={assetUrl('style.css')} />
        {(props.styles ?? []).map((s) => (
          <link rel="stylesheet" href={assetUrl(s)} />
        ))}
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <nav aria-label="Site">
            <a class="brand" href="/">
              Tributary
            </a>
            {props.crumbs !== undefined && props.crumbs.length > 0 && (
              <ol class="crumbs">
                {props.crumbs.map((c) => (
                  <li>
                    <a href={c.href}>{c.text}</a>
                  </li>
                ))}
              </ol>
            )}
            <a class="right" href="/queue">
              Queue
            </a>
          </nav>
        </header>
        <main id="main">{props.children}</main>
        <footer class="bottom">
          <p>
            Tributary · <a href="/docs">API</a>
          </p>
        </footer>
        {(props.scripts ?? []).map((s) => (
          <script src={assetUrl(s)} defer />
        ))}
      </body>
    </html>
  );
}

export function html(node: preact.VNode): string {
  return `<!doctype html>${render(node)}`;
}

/** A coverage figure with its colour band (colour is never the only cue: the number is there). */
export function Coverage(props: { value: string | null | undefined }) {
  return <span class={`cov cov-${band(props.value)}`}>{percent(props.value)}</span>;
}

/** JSON for a script to read, in a non-executable script element (no inline code under the CSP). */
export function JsonData(props: { id: string; value: unknown }) {
  // `<` escaped so no string in the data can close the element.
  const text = JSON.stringify(props.value).replace(/</g, '\\u003c');
  return <script type="application/json" id={props.id} dangerouslySetInnerHTML={{ __html: text }} />;
}
