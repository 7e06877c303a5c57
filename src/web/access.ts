import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { h } from 'preact';
import { z } from 'zod';
import { callerOfToken, canRead, type KnownCaller } from '../api/auth';
import { RepoParams, repoSlugOf } from '../api/schemas';
import { hashToken } from '../api/tokens';
import type { Store } from '../storage/store';
import { LoginPage } from './login-page';
import { claimFor, decodeClaim, encodeClaim, resolveClaim, SESSION_COOKIE } from './session';
import { renderPage, StatusPage } from './status-page';

/** How long a page session lasts when the caller does not say (TRIBUTARY_SESSION_TTL's default). */
const DEFAULT_SESSION_TTL_MS = 7 * 86_400_000;

interface WebAccessState {
  store: Store;
  adminTokenHash: string;
  sessionTtlMs: number;
  /** TRIBUTARY_PUBLIC_URL: behind a proxy, the origin forms are posted from. */
  publicUrl?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    webAccess: WebAccessState;
  }
  interface FastifyRequest {
    /** Who the request's page session is (null: none, expired, or its token is gone); resolved for every page request. */
    webSession: KnownCaller | null;
  }
}

/**
 * Paths that never read the session cookie: the API and the Codecov routes (tokens only, so they
 * cannot be forged cross-site), their docs, probes, and static assets (no database look-up for
 * every stylesheet a page loads).
 */
const NOT_PAGES = /^\/(?:api|upload|docs|assets|healthz|readyz|metrics)(?:[/?]|$)/;

/**
 * The pages' Content-Security-Policy: everything from our own origin, no inline script or
 * style (pages load theirs from /assets/), no framing, forms posted only to us.
 */
const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** Registers /login, /logout, the cookie plugin and the request decorator. */
export async function registerWebAccess(
  app: FastifyInstance,
  deps: { store: Store; sessionSecret: string; adminTokenHash: string; sessionTtlMs?: number; publicUrl?: string },
): Promise<void> {
  const state: WebAccessState = {
    store: deps.store,
    adminTokenHash: deps.adminTokenHash,
    sessionTtlMs: deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
    publicUrl: deps.publicUrl,
  };
  app.decorate('webAccess', state);
  app.decorateRequest('webSession', null);

  // The API documentation's UI inlines its script and styles: it keeps its own headers. Added
  // before helmet's own onRoute hook, which reads the flag.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.helmet = false;
  });
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    referrerPolicy: { policy: 'same-origin' },
    // Sent only over https (below): over plain http it would mean nothing, or pin a dev host.
    strictTransportSecurity: false,
  });
  app.addHook('onSend', async (request, reply) => {
    if (isHttps(request, state)) void reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });

  await app.register(cookie, { secret: deps.sessionSecret, hook: 'onRequest' });

  // Registered here, before the pages, so it runs before their preHandlers.
  app.addHook('onRequest', async (request) => {
    if (NOT_PAGES.test(request.url)) return;
    const raw = request.cookies[SESSION_COOKIE];
    if (raw === undefined) return;
    const unsigned = request.unsignCookie(raw);
    const claim = unsigned.valid && unsigned.value !== null ? decodeClaim(unsigned.value) : null;
    request.webSession = claim === null ? null : await resolveClaim(state.store, state.adminTokenHash, claim);
  });

  // Form bodies only here: the API and the Codecov routes keep their own parsers.
  await app.register(async (scope) => {
    await scope.register(formbody, { bodyLimit: 16 * 1024 });

    scope.get('/login', async (request, reply) => {
      const next = localPath((request.query as { next?: unknown } | undefined)?.next);
      return sendHtml(reply, 200, renderPage(h(LoginPage, { next })));
    });

    const LoginForm = z.object({ token: z.string().max(1000).default(''), next: z.string().max(4096).optional() });
    scope.post('/login', async (request, reply) => {
      if (!sameOrigin(request, state)) return sendHtml(reply, 403, renderPage(h(StatusPage, { status: 403 })));
      const form = LoginForm.safeParse(request.body ?? {});
      const next = localPath(form.success ? form.data.next : undefined);
      const token = form.success ? form.data.token.trim() : '';
      const caller = token === '' ? ({ kind: 'unknown' } as const) : await callerOfToken(state.store, state.adminTokenHash, token);
      if (caller.kind === 'unknown') {
        const error = token === '' ? 'Enter a token.' : 'That token is not known here: check it, or ask for a new one (tributary token create --read OWNER/REPO).';
        return sendHtml(reply, 401, renderPage(h(LoginPage, { next, error })));
      }
      const expires = new Date(Date.now() + state.sessionTtlMs);
      const value = encodeClaim(claimFor(caller, hashToken(token), expires.getTime()));
      void reply.setCookie(SESSION_COOKIE, value, {
        signed: true,
        httpOnly: true,
        // Lax, not Strict: the link from the Temporal Web UI (another origin) back to a page is a
        // cross-site navigation, which a Strict cookie would not follow, showing the form again.
        // Lax still leaves the cookie off cross-site POSTs, subresources and frames.
        sameSite: 'lax',
        secure: isHttps(request, state),
        path: '/',
        expires,
        maxAge: Math.floor(state.sessionTtlMs / 1000),
      });
      return reply.redirect(next, 303);
    });

    scope.post('/logout', async (request, reply) => {
      if (!sameOrigin(request, state)) return sendHtml(reply, 403, renderPage(h(StatusPage, { status: 403 })));
      void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: isHttps(request, state) });
      return reply.redirect('/login', 303);
    });
  });
}

/**
 * preHandler for routes with :owner and :repo params: public repo -> through; a session
 * granting that repo (admin, its upload or read token) -> through; no session -> 303 to
 * /login?next=<url>; a session for another repo -> 404 page (reveals nothing).
 */
export async function repositoryPageAccess(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const params = RepoParams.safeParse(request.params);
  if (!params.success) return notFoundPage(reply);
  const slug = repoSlugOf(params.data);
  const repo = await request.server.webAccess.store.getRepository(slug);
  if (repo?.settings.public === true) return;
  if (request.webSession === null) return toLogin(request, reply);
  // A repository that does not exist looks like one the session may not see.
  if (repo !== null && canRead(request.webSession, slug)) return;
  return notFoundPage(reply);
}

/** preHandler for operator pages (queue): admin session only; else 303 to /login, or 403. */
export async function operatorPageAccess(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.webSession === null) return toLogin(request, reply);
  if (request.webSession.kind === 'admin') return;
  await sendHtml(reply, 403, renderPage(h(StatusPage, { status: 403 })));
}

/** Which repositories the request's session may see, for the home page list. */
export function visibleTo(request: FastifyRequest): { all: true } | { all: false; slugs: string[] } {
  const session = request.webSession;
  if (session === null) return { all: false, slugs: [] };
  return session.kind === 'admin' ? { all: true } : { all: false, slugs: [session.slug] };
}

/** The session (page cookie) of a request, for routes outside the pages that accept one (badges). */
export function sessionOf(request: FastifyRequest): KnownCaller | null {
  return request.webSession;
}

/**
 * `next` as a path of this site, else `/`: only `/…` that stays on our origin (no `//host`,
 * no backslashes or control characters, which browsers read as another host), and never the
 * login or logout pages themselves.
 */
export function localPath(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2048) return '/';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (!next.startsWith('/') || next.startsWith('//') || next.includes('\\') || /[\u0000-\u001f\u007f]/.test(next)) return '/';
  const base = 'http://tributary.invalid';
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return '/';
  }
  if (url.origin !== base || url.pathname === '/login' || url.pathname === '/logout') return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}

function isHttps(request: FastifyRequest, state: WebAccessState): boolean {
  return request.protocol === 'https' || (state.publicUrl?.startsWith('https://') ?? false);
}

/**
 * A form post from one of our own pages: its Origin (or, without one, its Referer) is this
 * server's. Browsers send Origin with every POST; a request with neither comes from no browser,
 * so it cannot be a forgery riding a victim's session.
 */
function sameOrigin(request: FastifyRequest, state: WebAccessState): boolean {
  const own = new Set([`${request.protocol}://${request.host}`]);
  if (state.publicUrl !== undefined) own.add(new URL(state.publicUrl).origin);
  const origin = request.headers.origin;
  if (typeof origin === 'string') return own.has(origin);
  const referer = request.headers.referer;
  if (typeof referer !== 'string') return true;
  try {
    return own.has(new URL(referer).origin);
  } catch {
    return false;
  }
}

function toLogin(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.redirect(`/login?next=${encodeURIComponent(localPath(request.url))}`, 303);
}

function notFoundPage(reply: FastifyReply): Promise<FastifyReply> {
  return sendHtml(reply, 404, renderPage(h(StatusPage, { status: 404 })));
}

async function sendHtml(reply: FastifyReply, status: number, html: string): Promise<FastifyReply> {
  // Pages depend on who asks: never stored by shared caches.
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'private, no-store').send(html);
}
