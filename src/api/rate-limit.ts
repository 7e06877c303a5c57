import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizeIP } from '@fastify/rate-limit';
import { bearerToken, type Authenticator } from './auth';
import { ApiError } from './errors';
import { hashToken } from './tokens';
import { BoundedMap } from '../shared/bounded-map';

const WINDOW_MS = 60_000;
// Tokens that authenticated lately, by hash: they pass an address that is over its budget.
const KNOWN_TOKENS_MAX = 10_000;
const KNOWN_TOKEN_TTL_MS = 60 * 60_000;

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/** Hashes of tokens that authenticated, each for a while; oldest forgotten first past the bound. */
class KnownTokens {
  private readonly seen = new BoundedMap<string, number>(KNOWN_TOKENS_MAX);

  has(hash: string): boolean {
    const until = this.seen.get(hash);
    return until !== undefined && until > Date.now();
  }

  add(hash: string): void {
    this.seen.set(hash, Date.now() + KNOWN_TOKEN_TTL_MS);
  }
}

/**
 * Rate limits for /api/ and the Codecov routes (/upload/), as a root onRequest hook so they run before any route's own hooks (the
 * plugin's global mode appends its hook after them, so authentication ran first):
 * - a request without a token, or whose token authenticates nobody, counts against its address;
 * - a request whose token authenticates counts against that token only;
 * - once an address is over its budget, its requests with a token not seen authenticating in the
 *   last hour (the admin token always counts as seen) are refused with 429 before the database is
 *   asked: a sha256 of the token is all they cost.
 * Both budgets are `perMinute` requests in a window of a minute.
 */
export function registerRateLimits(app: FastifyInstance, auth: Authenticator, adminTokenHash: string, perMinute: number): void {
  const limiter = (prefix: string, key: (request: FastifyRequest) => string): Limiter =>
    app.createRateLimit({ max: perMinute, timeWindow: WINDOW_MS, keyGenerator: (request) => `${prefix}:${key(request)}` });
  const byAddress = limiter('ip', (request) => normalizeIP(request.ip));
  // The limiter's memory holds hashes, never a secret.
  const byToken = limiter('token', (request) => hashToken(bearerToken(request) ?? ''));
  const known = new KnownTokens();

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/') && !request.url.startsWith('/upload/')) return;
    const token = bearerToken(request);
    // The route's own hook answers 401 within the budget.
    if (token === undefined) return charge(byAddress, request, reply);
    const hash = hashToken(token);
    // The admin is never locked out by a flood from its address.
    if (hash !== adminTokenHash && !known.has(hash)) {
      const address = await byAddress(request, { increment: false });
      if (!address.isAllowed && address.remaining <= 0) throw refuse(reply, address.max, address.ttlInSeconds);
    }
    const caller = await auth.identify(request);
    if (caller.kind === 'unknown') return charge(byAddress, request, reply);
    known.add(hash);
    return charge(byToken, request, reply);
  });
}

async function charge(limiter: Limiter, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const r = await limiter(request);
  if (r.isAllowed) return;
  void reply.header('x-ratelimit-limit', r.max).header('x-ratelimit-remaining', r.remaining).header('x-ratelimit-reset', r.ttlInSeconds);
  if (r.isExceeded) throw refuse(reply, r.max, r.ttlInSeconds);
}

function refuse(reply: FastifyReply, max: number, retryAfterSeconds: number): ApiError {
  const seconds = Math.max(1, retryAfterSeconds);
  void reply.header('x-ratelimit-limit', max).header('x-ratelimit-remaining', 0).header('retry-after', seconds);
  return new ApiError(429, 'rate_limited', `more than ${max} requests per minute; retry in ${seconds} s`);
}
