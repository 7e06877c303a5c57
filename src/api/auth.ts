import type { FastifyRequest } from 'fastify';
import type { Store } from '../storage/store';
import { forbidden, notFound, unauthorized } from './errors';
import { hashesEqual, hashToken } from './tokens';

/** Who is calling: the admin, the holder of a repository's upload token, or nobody known. */
export type Caller = { kind: 'admin' } | { kind: 'repository'; slug: string } | { kind: 'unknown' };

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The bearer token of the request, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  return BEARER.exec(header)?.[1];
}

export interface Authenticator {
  /** 401 without a token; otherwise who the token belongs to (possibly nobody). */
  identify(request: FastifyRequest): Promise<Caller>;
  /** The admin, or 401 / 403. */
  requireAdmin(request: FastifyRequest): Promise<void>;
  /**
   * The admin, or the upload token of `slug`; else 401 (unknown token) or 403 (a token of another
   * repository, whether `slug` exists or not, so nothing is revealed). Resolves to the caller.
   */
  requireRepository(request: FastifyRequest, slug: string): Promise<Caller>;
}

export function createAuthenticator(store: Store, adminTokenHash: string): Authenticator {
  // Hooks and handlers of one request ask more than once; the database is asked once.
  const known = new WeakMap<FastifyRequest, Promise<Caller>>();
  const identify = (request: FastifyRequest): Promise<Caller> => {
    let caller = known.get(request);
    if (caller === undefined) {
      caller = lookUp(request);
      known.set(request, caller);
    }
    return caller;
  };
  const lookUp = async (request: FastifyRequest): Promise<Caller> => {
    const token = bearerToken(request);
    if (token === undefined) throw unauthorized();
    const hash = hashToken(token);
    if (hashesEqual(hash, adminTokenHash)) return { kind: 'admin' };
    const repo = await store.findRepositoryByTokenHash(hash);
    // Finding the row by hash leaks nothing useful (timing would reveal hashes, not tokens); the
    // comparison that grants access is still the constant-time one.
    if (repo && hashesEqual(hash, repo.uploadTokenHash)) return { kind: 'repository', slug: repo.slug };
    return { kind: 'unknown' };
  };
  return {
    identify,
    async requireAdmin(request) {
      const caller = await identify(request);
      if (caller.kind === 'unknown') throw unauthorized();
      if (caller.kind !== 'admin') throw forbidden();
    },
    async requireRepository(request, slug) {
      const caller = await identify(request);
      if (caller.kind === 'unknown') throw unauthorized();
      if (caller.kind === 'repository' && caller.slug !== slug) throw forbidden();
      return caller;
    },
  };
}

/** For resources found by id (uploads): another repository's resource looks exactly like none. */
export function assertCanSee(caller: Caller, slug: string, what: string): void {
  if (caller.kind === 'admin') return;
  if (caller.kind === 'repository' && caller.slug === slug) return;
  throw notFound(what);
}
