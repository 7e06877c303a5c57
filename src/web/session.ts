import path from 'node:path';
import { z } from 'zod';
import type { KnownCaller } from '../api/auth';
import { generateToken, hashesEqual } from '../api/tokens';
import type { Config } from '../config';
import { ensureSecretFile } from '../private-files';
import type { Store } from '../storage/store';
import { RepoSlugSchema } from '../vocabulary';

/**
 * Page sessions. The cookie names the token it was opened with, never the token itself: its
 * kind, which one (the repository of an upload token, a read token's id) and the first 16 hex
 * digits of its sha256, plus an expiry; @fastify/cookie signs it (HMAC-SHA256 with the session
 * secret). Every request looks the token up again, so a revoked read token (or a changed admin
 * token) ends its sessions at once.
 */

export const SESSION_COOKIE = 'tributary_session';
export const SESSION_SECRET_FILE = 'session-secret';

/** Enough of the token's hash to tell a replaced token from the one the session was opened with. */
const CHECK_DIGITS = 16;

const ClaimSchema = z.object({
  v: z.literal(1),
  kind: z.enum(['admin', 'repository', 'reader']),
  /** The repository (upload token) or the read token's id; empty for the admin. */
  ref: z.string().max(300),
  check: z.string().regex(/^[0-9a-f]{16}$/),
  /** Expiry, ms since the epoch. */
  exp: z.number().int().positive(),
});
export type SessionClaim = z.infer<typeof ClaimSchema>;

/** The claim of a session opened by `caller` with the token of hash `tokenHash`. */
export function claimFor(caller: KnownCaller, tokenHash: string, expiresAt: number): SessionClaim {
  const ref = caller.kind === 'admin' ? '' : caller.kind === 'repository' ? caller.slug : caller.tokenId;
  return { v: 1, kind: caller.kind, ref, check: tokenHash.slice(0, CHECK_DIGITS), exp: expiresAt };
}

export function encodeClaim(claim: SessionClaim): string {
  return Buffer.from(JSON.stringify(claim), 'utf8').toString('base64url');
}

/** The claim in a (verified) cookie value; null for anything malformed. */
export function decodeClaim(value: string): SessionClaim | null {
  try {
    const parsed = ClaimSchema.safeParse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Who the claim's session is now: null once expired, or when its token is gone or was replaced. */
export async function resolveClaim(store: Store, adminTokenHash: string, claim: SessionClaim, now = Date.now()): Promise<KnownCaller | null> {
  if (claim.exp <= now) return null;
  const matches = (hash: string) => hashesEqual(hash.slice(0, CHECK_DIGITS), claim.check);
  switch (claim.kind) {
    case 'admin':
      return matches(adminTokenHash) ? { kind: 'admin' } : null;
    case 'repository': {
      if (!RepoSlugSchema.safeParse(claim.ref).success) return null;
      const repo = await store.getRepository(claim.ref);
      return repo !== null && matches(repo.uploadTokenHash) ? { kind: 'repository', slug: repo.slug } : null;
    }
    case 'reader': {
      const token = await store.getReadToken(claim.ref);
      return token !== null && matches(token.tokenHash) ? { kind: 'reader', slug: token.repo, tokenId: token.id } : null;
    }
  }
}

/**
 * TRIBUTARY_SESSION_SECRET when set; otherwise the secret in `<dataDir>/session-secret`,
 * generated (0600) the first time, so sessions survive restarts with no configuration. Several
 * gateways must share one: set the variable, or the same data folder.
 */
export async function ensureSessionSecret(config: Config): Promise<string> {
  if (config.api.sessionSecret !== undefined) return config.api.sessionSecret;
  return (await ensureSecretFile(path.join(config.dataDir, SESSION_SECRET_FILE), 'session secret', generateToken)).secret;
}
