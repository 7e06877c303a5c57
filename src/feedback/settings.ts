/**
 * Secrets in repository settings (`github.token`, each webhook's `secret`) are write-only: what is
 * answered shows "***" in their place, and a write that sends "***" (or leaves one out) keeps the
 * stored value, so a client may send back what it read.
 */
import type { RepoSettings } from '../storage/rows';

export const REDACTED = '***';

export function redactSettings(s: RepoSettings): RepoSettings {
  const out: RepoSettings = { ...s };
  if (s.github !== undefined) out.github = { ...s.github, ...(s.github.token !== undefined ? { token: REDACTED } : {}) };
  if (s.webhooks !== undefined) out.webhooks = s.webhooks.map((w) => ({ ...w, ...(w.secret !== undefined ? { secret: REDACTED } : {}) }));
  return out;
}

export class MissingSecretError extends Error {
  constructor(readonly field: string) {
    super(`${field}: required (a secret is write-only: send it, or "${REDACTED}" to keep the stored one)`);
    this.name = 'MissingSecretError';
  }
}

/** The settings to store: `incoming` with kept secrets filled in from `stored`; throws MissingSecretError. */
export function mergeSecrets(incoming: RepoSettings, stored: RepoSettings): RepoSettings {
  const out: RepoSettings = { ...incoming };
  if (incoming.github !== undefined) {
    const given = incoming.github.token;
    const token = given === undefined || given === REDACTED ? stored.github?.token : given;
    if (token === undefined) throw new MissingSecretError('github.token');
    out.github = { ...incoming.github, token };
  }
  if (incoming.webhooks !== undefined) {
    out.webhooks = incoming.webhooks.map((w, i) => {
      const secret = w.secret === undefined || w.secret === REDACTED ? stored.webhooks?.find((s) => s.url === w.url)?.secret : w.secret;
      if (secret === undefined) throw new MissingSecretError(`webhooks.${i}.secret`);
      return { ...w, secret };
    });
  }
  return out;
}
