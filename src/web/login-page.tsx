import { Document } from './status-page';

/**
 * The token form. No script, no inline style: it works in any browser and under the pages' CSP.
 * The token field is a password field, so browsers neither show nor autofill it into the URL.
 */
export function LoginPage({ next, error }: { next: string; error?: string }) {
  return (
    <Document title="Sign in">
      <h1>Sign in to Tributary</h1>
      <p>
        Paste a token: the admin token, a repository&apos;s upload token, or a read-only token (<code>tributary token create --read OWNER/REPO</code>). It
        is checked once and never stored in your browser; a signed session cookie names it instead.
      </p>
      {error !== undefined ? (
        <p role="alert" id="login-error">
          {error}
        </p>
      ) : null}
      <form method="post" action="/login">
        <input type="hidden" name="next" value={next} />
        <p>
          <label for="token">Token</label>{' '}
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="current-password"
            required
            spellcheck={false}
            aria-invalid={error !== undefined ? 'true' : undefined}
            aria-describedby={error !== undefined ? 'login-error' : undefined}
          />
        </p>
        <p>
          <button type="submit">Sign in</button>
        </p>
      </form>
    </Document>
  );
}
