import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '../storage/store';
import { forbidden, notFound, unauthorized } from './errors';
import { repoSlugOf } from './schemas';
import { hashesEqual, hashToken } from './tokens';
import { BoundedMap } from '../shared/bounded-map';

/**
 * Who is calling: the admin, the holder of a repository's upload token, the holder of one of its
 * read-only tokens (`tokenId` names it), or nobody known.
 */
export type Caller =
  | { kind: 'admin' }
  | { kind: 'repository'; slug: string }
  | { kind: 'reader'; slug: string; tokenId: string }
  | { kind: 'unknown' };
export type KnownCaller = Exclude<Caller, { kind: 'unknown' }>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request's token belongs to, once asked (null before, and on routes that never ask). */
    caller: Caller | null;
  }
}

// `token` is the scheme the Codecov uploaders send; their legacy endpoint uses X-Upload-Token.
const AUTHORIZATION = /^(?:Bearer|token)\s+(\S+)\s*$/i;

/**
 * The request's token, or undefined: `Authorization: Bearer <T>` (or `token <T>`), else an
 * `X-Upload-Token` header, else `?token=` on the routes whose config allows it (the legacy
 * Codecov upload, whose old clients send nothing else).
 */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.trim() !== '') return AUTHORIZATION.exec(header)?.[1];
  const upload = request.headers['x-upload-token'];
  if (typeof upload === 'string' && upload.trim() !== '') return upload.trim();
  if (request.routeOptions.config?.tokenInQuery === true) {
    const token = (request.query as { token?: unknown } | undefined)?.token;
    if (typeof token === 'string' && token.trim() !== '') return token.trim();
  }
  return undefined;
}

export interface Authenticator {
  /**
   * 401 without a token; otherwise who the token belongs to (possibly nobody), kept on
   * `request.caller`: the rate limit and the API's authentication both ask, the database once.
   */
  identify(request: FastifyRequest): Promise<Caller>;
}

/**
 * Whose token this is: the admin's, a repository's upload token, one of its read tokens, or
 * nobody's. The login form asks the same question as the API. `known` remembers upload tokens
 * found (hash -> slug): a repository's upload token is fixed at its creation and repositories are
 * never deleted, so a found one stays true and CI's uploads skip the look-up (one statement of
 * the two a registration costs). Read tokens can be revoked at once and are never remembered;
 * neither are tokens that matched nothing.
 */
export async function callerOfToken(store: Store, adminTokenHash: string, token: string, known?: BoundedMap<string, string>): Promise<Caller> {
  const hash = hashToken(token);
  if (hashesEqual(hash, adminTokenHash)) return { kind: 'admin' };
  const remembered = known?.get(hash);
  if (remembered !== undefined) return { kind: 'repository', slug: remembered };
  // Finding a row by hash leaks nothing useful (timing would reveal hashes, not tokens); the
  // comparison that grants access is still the constant-time one.
  const repo = await store.findRepositoryByTokenHash(hash);
  if (repo && hashesEqual(hash, repo.uploadTokenHash)) {
    known?.set(hash, repo.slug);
    return { kind: 'repository', slug: repo.slug };
  }
  const reader = await store.findReadTokenByHash(hash);
  if (reader && hashesEqual(hash, reader.tokenHash)) return { kind: 'reader', slug: reader.repo, tokenId: reader.id };
  return { kind: 'unknown' };
}

/** Upload tokens remembered at most (by hash, with their repository's slug). */
const UPLOAD_TOKENS_REMEMBERED = 10_000;

/** Decorates every request of `app` with its `caller`, resolved by `identify`. */
export function createAuthenticator(app: FastifyInstance, store: Store, adminTokenHash: string): Authenticator {
  app.decorateRequest('caller', null);
  const known = new BoundedMap<string, string>(UPLOAD_TOKENS_REMEMBERED);
  const lookUp = async (request: FastifyRequest): Promise<Caller> => {
    const token = bearerToken(request);
    if (token === undefined) throw unauthorized();
    return callerOfToken(store, adminTokenHash, token, known);
  };
  return {
    async identify(request) {
      // A request's hooks run one after the other, so nothing asks while a look-up is under way.
      request.caller ??= await lookUp(request);
      return request.caller;
    },
  };
}

/** The caller the API's authentication hook let through; 401 for a request it did not. */
export function knownCaller(request: FastifyRequest): KnownCaller {
  const caller = request.caller;
  if (caller === null || caller.kind === 'unknown') throw unauthorized();
  return caller;
}

/** A route hook: the admin, or 403. */
export async function adminOnly(request: FastifyRequest): Promise<void> {
  if (knownCaller(request).kind !== 'admin') throw forbidden();
}

/** Whether the caller may read the repository: the admin, or a token (upload or read) of it. */
export function canRead(caller: Caller | null, slug: string): boolean {
  if (caller === null) return false;
  switch (caller.kind) {
    case 'admin':
      return true;
    case 'repository':
    case 'reader':
      return caller.slug === slug;
    case 'unknown':
      return false;
  }
}

/** Whether the caller may upload to the repository: the admin or its upload token; never a read token. */
export function canWrite(caller: Caller | null, slug: string): boolean {
  return caller !== null && (caller.kind === 'admin' || (caller.kind === 'repository' && caller.slug === slug));
}

const slugOfParams = (request: FastifyRequest) => repoSlugOf(request.params as { owner?: string; repo?: string });

/**
 * A route hook for the reading routes under /repos/:owner/:repo: the admin, or an upload or read
 * token of that repository; a token of another one is 403 whether the repository exists or not,
 * so nothing is revealed.
 */
export async function repositoryAccess(request: FastifyRequest): Promise<void> {
  if (!canRead(knownCaller(request), slugOfParams(request))) throw forbidden();
}

/** A route hook for the writing routes under /repos/:owner/:repo (uploads): the admin or its upload token; a read token is 403. */
export async function repositoryWriteAccess(request: FastifyRequest): Promise<void> {
  if (!canWrite(knownCaller(request), slugOfParams(request))) throw forbidden();
}

/** For resources found by id (uploads): another repository's resource looks exactly like none. */
export function assertCanSee(caller: KnownCaller, slug: string, what: string): void {
  if (!canRead(caller, slug)) throw notFound(what);
}

/** The one repository a caller other than the admin is confined to (undefined: the admin, all of them). */
export function confinedTo(caller: KnownCaller): string | undefined {
  return caller.kind === 'admin' ? undefined : caller.slug;
}
