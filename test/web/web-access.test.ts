/**
 * Access to pages and badges over a real gateway (a Temporal dev server, a worker, a real
 * database): read tokens, public repositories, the login form and its session cookie, security
 * headers, badges, source text, and that no token reaches the log. The pages themselves live
 * elsewhere; a tiny page route guarded by `repositoryPageAccess` stands in for them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server';
import { repositoryPageAccess, visibleTo } from '../../src/web/access';
import { SESSION_COOKIE } from '../../src/web/session';
import { call, openHarness, type Harness } from '../api/harness';
import { CORPUS, newSha } from '../support/pipeline';

let h: Harness;
let app: FastifyInstance;
let base: string;
let log = '';
const tokens: Record<string, string> = {};
const LCOV = readFileSync(path.join(CORPUS, 'negotiator-nyc/lcov.info'));
let shaA = '';
let uploadA = '';

async function form(pathname: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${base}${pathname}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The session cookie `name=value` a login answer sets. */
function sessionCookie(res: Response): string {
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  assert.ok(set, 'a session cookie is set');
  return set.split(';')[0]!;
}

async function login(token: string): Promise<string> {
  const res = await form('/login', { token, next: '/' });
  assert.equal(res.status, 303);
  return sessionCookie(res);
}

const get = (pathname: string, headers: Record<string, string> = {}) => fetch(`${base}${pathname}`, { redirect: 'manual', headers });

before(async () => {
  h = await openHarness();
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      log += chunk.toString('utf8');
      done();
    },
  });
  app = await buildServer({ config: h.p.config, store: h.p.store, blobs: h.p.blobs, db: h.p.db, client: h.env.client, adminToken: h.adminToken, logStream, logLevel: 'info' });
  // A bare page behind the repository guard (what it renders does not matter here, who gets
  // through does); the operators' page is the real queue page.
  app.get('/:owner/:repo/probe', { preHandler: repositoryPageAccess }, async () => 'page');
  app.get('/visible', async (request) => visibleTo(request));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${addr.port}`;

  for (const slug of ['acme/app', 'acme/other', 'oss/lib']) {
    const res = await call(base, 'POST', '/api/v1/repos', { token: h.adminToken, json: { slug } });
    assert.equal(res.status, 201);
    tokens[slug] = res.body.uploadToken;
  }
  const made = await call(base, 'POST', '/api/v1/repos/acme/app/tokens', { token: h.adminToken, json: { kind: 'read', name: 'dashboard' } });
  assert.equal(made.status, 201);
  tokens.readA = made.body.token;
  tokens.readAId = made.body.id;
  const pub = await call(base, 'PUT', '/api/v1/repos/oss/lib/settings', { token: h.adminToken, json: { public: true } });
  assert.deepEqual(pub.body, { slug: 'oss/lib', settings: { public: true } });

  shaA = newSha();
  const up = await call(base, 'POST', `/api/v1/repos/acme/app/commits/${shaA}/uploads?branch=main&flags=unit`, {
    token: tokens['acme/app'],
    body: new Uint8Array(LCOV),
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(up.status, 202);
  uploadA = up.body.uploads[0].uploadId;
  const done = await call(base, 'GET', `/api/v1/repos/acme/app/commits/${shaA}?wait=60s`, { token: tokens['acme/app'] });
  assert.equal(done.body.state, 'complete');
});

after(async () => {
  await app?.close();
  await h?.close();
});

describe('read tokens', () => {
  test('read everything of their repository through the API, and nothing of another', async () => {
    const t = tokens.readA!;
    assert.equal((await call(base, 'GET', `/api/v1/repos/acme/app/commits/${shaA}`, { token: t })).status, 200);
    assert.equal((await call(base, 'GET', `/api/v1/repos/acme/app/commits/${shaA}/report`, { token: t })).status, 200);
    assert.equal((await call(base, 'GET', `/api/v1/uploads/${uploadA}`, { token: t })).status, 200);
    const repos = await call(base, 'GET', '/api/v1/repos', { token: t });
    assert.deepEqual(repos.body.repos.map((r: { slug: string }) => r.slug), ['acme/app']);
    assert.equal((await call(base, 'GET', `/api/v1/repos/acme/other/commits/${shaA}`, { token: t })).status, 403);
    // An upload token of B sees none of A either.
    assert.equal((await call(base, 'GET', `/api/v1/repos/acme/app/commits/${shaA}/report`, { token: tokens['acme/other'] })).status, 403);
  });

  test('can never upload or change anything', async () => {
    const t = tokens.readA!;
    const upload = await call(base, 'POST', `/api/v1/repos/acme/app/commits/${newSha()}/uploads`, { token: t, body: new Uint8Array(LCOV), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 403);
    assert.equal((await call(base, 'PUT', '/api/v1/repos/acme/app/settings', { token: t, json: { public: true } })).status, 403);
    assert.equal((await call(base, 'PUT', '/api/v1/repos/acme/app/mode', { token: t, json: { mode: 'serial' } })).status, 403);
    assert.equal((await call(base, 'POST', '/api/v1/repos/acme/app/tokens', { token: t, json: { kind: 'read' } })).status, 403);
    assert.equal((await call(base, 'POST', `/api/v1/uploads/${uploadA}/sources`, { token: t, json: { files: [{ path: 'x.js', content: 'x' }] } })).status, 403);
    // The Codecov uploader's route: a read token is not an upload token of the repository.
    const codecov = await call(base, 'POST', `/upload/v4?commit=${newSha()}&slug=acme::::app`, { headers: { authorization: `token ${t}` } });
    assert.equal(codecov.status, 404);
    const repo = await h.p.store.getRepository('acme/app');
    assert.equal(repo?.settings.public, undefined, 'nothing changed');
  });

  test('are listed without their secret, and admin-only', async () => {
    const list = await call(base, 'GET', '/api/v1/repos/acme/app/tokens', { token: h.adminToken });
    assert.equal(list.status, 200);
    assert.equal(list.body.tokens.length, 1);
    assert.deepEqual(Object.keys(list.body.tokens[0]).sort(), ['createdAt', 'id', 'kind', 'name', 'repo']);
    assert.equal(list.body.tokens[0].name, 'dashboard');
    assert.equal((await call(base, 'GET', '/api/v1/repos/acme/app/tokens', { token: tokens['acme/app'] })).status, 403);
    assert.equal((await call(base, 'GET', '/api/v1/repos/nobody/here/tokens', { token: h.adminToken })).status, 404);
  });
});

describe('login and sessions', () => {
  test('the form: one password field with a label, no script, and the security headers', async () => {
    const res = await get('/login?next=%2Facme%2Fapp');
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<label for="token">Token<\/label>/);
    assert.match(html, /<input id="token" name="token" type="password"/);
    assert.match(html, /<input type="hidden" name="next" value="\/acme\/app"\/>/);
    assert.doesNotMatch(html, /<script|style=/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'same-origin');
    assert.equal(res.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
  });

  test('a known token sets a signed, httpOnly, SameSite=Lax cookie that does not contain it', async () => {
    for (const token of [h.adminToken, tokens['acme/app']!, tokens.readA!]) {
      const res = await form('/login', { token, next: '/acme/app/probe' });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/acme/app/probe');
      const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
      assert.match(set, /; HttpOnly/);
      assert.match(set, /; SameSite=Lax/);
      assert.match(set, /; Path=\//);
      assert.match(set, /; Max-Age=\d+/);
      assert.doesNotMatch(set, /; Secure/, 'plain http');
      const value = decodeURIComponent(set.split(';')[0]!.slice(SESSION_COOKIE.length + 1));
      assert.ok(!value.includes(token), 'the cookie does not contain the token');
      const decoded = Buffer.from(value.split('.')[0]!, 'base64url').toString('utf8');
      assert.ok(!decoded.includes(token), 'nor does its decoded claim');
    }
  });

  test('a wrong or missing token: the form again with a clear error, 401, no cookie', async () => {
    const res = await form('/login', { token: 'not-a-token', next: '/acme/app' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.getSetCookie().length, 0);
    const html = await res.text();
    assert.match(html, /role="alert"/);
    assert.match(html, /not known here/);
    assert.match(html, /aria-invalid="true"/);
    assert.equal((await form('/login', { token: '' })).status, 401);
  });

  test('a forged cookie or a forged cross-site form is refused', async () => {
    const forged = `${SESSION_COOKIE}=${Buffer.from(JSON.stringify({ v: 1, kind: 'admin', ref: '', check: '0'.repeat(16), exp: Date.now() + 1e6 })).toString('base64url')}.bad`;
    assert.equal((await get('/acme/app/probe', { cookie: forged })).status, 303);
    const cross = await form('/login', { token: h.adminToken }, { origin: 'https://evil.example' });
    assert.equal(cross.status, 403);
    assert.equal(cross.headers.getSetCookie().length, 0);
    const byReferer = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: 'https://evil.example/page' },
      body: new URLSearchParams({ token: h.adminToken }).toString(),
    });
    assert.equal(byReferer.status, 403);
    const logoutCross = await form('/logout', {}, { origin: 'https://evil.example' });
    assert.equal(logoutCross.status, 403);
  });

  test('`next` is only ever a local path', async () => {
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '/\t/evil.example', 'evil.example', '/login']) {
      const res = await form('/login', { token: tokens.readA!, next });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/', `next=${JSON.stringify(next)}`);
    }
    const page = await (await get(`/login?next=${encodeURIComponent('//evil.example')}`)).text();
    assert.match(page, /name="next" value="\/"/);
    const kept = await form('/login', { token: tokens.readA!, next: '/acme/app/commit/abc?x=1#L3' });
    assert.equal(kept.headers.get('location'), '/acme/app/commit/abc?x=1#L3');
  });

  test('a private page without a session redirects to the login form; a public one needs none', async () => {
    const res = await get('/acme/app/probe?tab=files');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/login?next=${encodeURIComponent('/acme/app/probe?tab=files')}`);
    // A repository that does not exist looks the same to nobody.
    assert.equal((await get('/nobody/here/probe')).headers.get('location'), `/login?next=${encodeURIComponent('/nobody/here/probe')}`);
    const pub = await get('/oss/lib/probe');
    assert.equal(pub.status, 200);
    assert.equal(await pub.text(), 'page');
  });

  test('a session for A opens A and sees nothing of B: 404 for B and for what does not exist', async () => {
    for (const token of [tokens.readA!, tokens['acme/app']!]) {
      const cookie = await login(token);
      assert.equal((await get('/acme/app/probe', { cookie })).status, 200);
      const b = await get('/acme/other/probe', { cookie });
      assert.equal(b.status, 404);
      const missing = await get('/nobody/here/probe', { cookie });
      assert.equal(missing.status, 404);
      assert.equal(await b.text(), await missing.text(), 'B looks exactly like nothing');
      assert.equal((await get('/oss/lib/probe', { cookie })).status, 200);
      assert.deepEqual(await (await get('/visible', { cookie })).json(), { all: false, slugs: ['acme/app'] });
      assert.equal((await get('/queue', { cookie })).status, 403);
    }
    const admin = await login(h.adminToken);
    assert.equal((await get('/acme/other/probe', { cookie: admin })).status, 200);
    assert.equal((await get('/queue', { cookie: admin })).status, 200);
    assert.deepEqual(await (await get('/visible', { cookie: admin })).json(), { all: true });
    assert.equal((await get('/queue')).status, 303);
  });

  test('behind https (TRIBUTARY_PUBLIC_URL): the cookie is Secure and pages send HSTS', async () => {
    const config = { ...h.p.config, api: { ...h.p.config.api, publicUrl: 'https://coverage.example.com' } };
    const tls = await buildServer({ config, store: h.p.store, blobs: h.p.blobs, db: h.p.db, client: h.env.client, adminToken: h.adminToken });
    try {
      const page = await tls.inject({ method: 'GET', url: '/login' });
      assert.match(String(page.headers['strict-transport-security']), /max-age=\d+/);
      const res = await tls.inject({
        method: 'POST',
        url: '/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://coverage.example.com' },
        payload: new URLSearchParams({ token: tokens.readA!, next: '/acme/app' }).toString(),
      });
      assert.equal(res.statusCode, 303);
      const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
      assert.match(set, /; Secure/);
    } finally {
      await tls.close();
    }
  });

  test('logging out clears the cookie', async () => {
    const res = await form('/logout', {});
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/login');
    const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    assert.match(set, /Expires=Thu, 01 Jan 1970/);
  });

  test('revoking a read token ends its sessions and its API access', async () => {
    const made = await call(base, 'POST', '/api/v1/repos/acme/app/tokens', { token: h.adminToken, json: {} });
    const cookie = await login(made.body.token);
    assert.equal((await get('/acme/app/probe', { cookie })).status, 200);
    assert.equal((await call(base, 'GET', `/api/v1/repos/acme/app/commits/${shaA}`, { token: made.body.token })).status, 200);
    const revoked = await call(base, 'DELETE', `/api/v1/tokens/${made.body.id}`, { token: h.adminToken });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.repo, 'acme/app');
    assert.equal((await get('/acme/app/probe', { cookie })).status, 303, 'the session is gone');
    assert.equal((await call(base, 'GET', `/api/v1/repos/acme/app/commits/${shaA}`, { token: made.body.token })).status, 401);
    assert.equal((await call(base, 'DELETE', `/api/v1/tokens/${made.body.id}`, { token: h.adminToken })).status, 404);
    // Through the repository's route, another token of another repository is not found there.
    const other = await call(base, 'POST', '/api/v1/repos/acme/other/tokens', { token: h.adminToken, json: {} });
    assert.equal((await call(base, 'DELETE', `/api/v1/repos/acme/app/tokens/${other.body.id}`, { token: h.adminToken })).status, 404);
    assert.equal((await call(base, 'DELETE', `/api/v1/repos/acme/other/tokens/${other.body.id}`, { token: h.adminToken })).status, 200);
  });
});

describe('badges', () => {
  test('private: 404 without access, as for a repository that does not exist; with a session or a token, the badge', async () => {
    const none = await get('/badge/acme/app.svg');
    const missing = await get('/badge/nobody/here.svg');
    assert.equal(none.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(await none.text(), await missing.text());
    assert.equal((await get('/badge/acme/app.svg', { authorization: `Bearer ${tokens['acme/other']}` })).status, 404, "B's token");
    const cookie = await login(tokens.readA!);
    const bySession = await get('/badge/acme/app.svg?branch=main', { cookie });
    assert.equal(bySession.status, 200);
    const byToken = await get('/badge/acme/app.svg?branch=main', { authorization: `Bearer ${tokens.readA}` });
    assert.equal(byToken.status, 200);
    assert.equal(byToken.headers.get('cache-control'), 'private, no-cache');
    assert.equal(byToken.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
    assert.equal(byToken.headers.get('cross-origin-resource-policy'), 'cross-origin');
    const svg = await byToken.text();
    const report = await call(base, 'GET', `/api/v1/repos/acme/app/commits/${shaA}`, { token: tokens.readA });
    const percent = `${Math.floor(Number(report.body.totals.coverage))}%`;
    assert.match(svg, new RegExp(`<title>coverage: ${percent}</title>`));
    assert.match(svg, new RegExp(`aria-label="coverage: ${percent}"`));
    assert.match(svg, /role="img"/);
    // The default branch: TRIBUTARY_DEFAULT_BRANCH (main) for a repository that names none.
    assert.equal(await (await get('/badge/acme/app.svg', { authorization: `Bearer ${tokens.readA}` })).text(), svg);
  });

  test('ETag and 304; the JSON of shields endpoint badges; unknown without a complete commit; flags', async () => {
    const auth = { authorization: `Bearer ${tokens.readA}` };
    const first = await get('/badge/acme/app.svg?branch=main', auth);
    const etag = first.headers.get('etag')!;
    assert.match(etag, /^"[A-Za-z0-9_-]+"$/, 'a strong ETag');
    const again = await get('/badge/acme/app.svg?branch=main', { ...auth, 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');
    assert.equal((await get('/badge/acme/app.svg?branch=main', { ...auth, 'if-none-match': '"other"' })).status, 200);
    const json = await (await get('/badge/acme/app.json?branch=main', auth)).json();
    const report = await call(base, 'GET', `/api/v1/repos/acme/app/commits/${shaA}`, { token: tokens.readA });
    assert.deepEqual(Object.keys(json).sort(), ['color', 'label', 'message', 'schemaVersion']);
    assert.equal(json.schemaVersion, 1);
    assert.equal(json.label, 'coverage');
    assert.equal(json.message, `${Math.floor(Number(report.body.totals.coverage))}%`);
    assert.deepEqual(await (await get('/badge/acme/app.json?branch=feature', auth)).json(), { schemaVersion: 1, label: 'coverage', message: 'unknown', color: 'lightgrey' });
    // The upload carried the flag `unit`: its sessions are the whole report; another flag has none.
    const unit = await (await get('/badge/acme/app.json?branch=main&flag=unit', auth)).json();
    assert.equal(unit.message, json.message);
    assert.equal(unit.label, 'unit coverage');
    assert.equal((await (await get('/badge/acme/app.json?branch=main&flag=e2e', auth)).json()).message, 'unknown');
  });

  test('public: readable by anyone and cacheable by anyone for five minutes', async () => {
    const res = await get('/badge/oss/lib.svg');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
    assert.match(await res.text(), /coverage: unknown/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  });
});

describe('sources', () => {
  test('attached to an upload by its token, read back as text/plain by who may read the report', async () => {
    const report = await call(base, 'GET', `/api/v1/repos/acme/app/commits/${shaA}/report`, { token: tokens.readA });
    const file = Object.keys(report.body.files)[0]!;
    const sent = await call(base, 'POST', `/api/v1/uploads/${uploadA}/sources`, { token: tokens['acme/app'], json: { files: [{ path: file, content: 'line 1\nline 2 é\n' }] } });
    assert.equal(sent.status, 200);
    assert.deepEqual(sent.body, { stored: 1, skipped: [] });
    const url = `/api/v1/repos/acme/app/commits/${shaA}/sources/${file}`;
    const read = await get(url, { authorization: `Bearer ${tokens.readA}` });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await read.text(), 'line 1\nline 2 é\n');
    assert.equal((await get(url, { authorization: `Bearer ${tokens['acme/other']}` })).status, 403);
    assert.equal((await get(url)).status, 401, 'the API stays token-only');
    assert.equal((await get(`/api/v1/repos/acme/app/commits/${shaA}/sources/no/such/file.js`, { authorization: `Bearer ${tokens.readA}` })).status, 404);
    assert.equal((await call(base, 'POST', `/api/v1/uploads/${uploadA}/sources`, { token: tokens['acme/other'], json: { files: [] } })).status, 404);
  });
});

describe('repository owners', () => {
  test('that collide with top-level routes are refused with a clear error', async () => {
    for (const slug of ['api/x', 'Login/app', 'badge/a/b', 'assets/app', 'healthz/app', 'upload/app', 'docs/app']) {
      const res = await call(base, 'POST', '/api/v1/repos', { token: h.adminToken, json: { slug } });
      assert.equal(res.status, 400, slug);
      assert.equal(res.body.error.field, 'slug');
      assert.match(res.body.error.message, /top-level route/);
    }
    assert.equal((await call(base, 'POST', '/api/v1/repos', { token: h.adminToken, json: { slug: 'apis/app' } })).status, 201);
  });
});

describe('the log', () => {
  test('never holds a token or a session cookie', async () => {
    const cookie = await login(tokens.readA!);
    await get('/acme/app/probe', { cookie });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(log.includes('/login'), 'the requests were logged');
    for (const [name, token] of Object.entries({ admin: h.adminToken, ...tokens })) {
      if (name === 'readAId') continue;
      assert.ok(!log.includes(token), `${name} is not in the log`);
    }
    assert.ok(!log.includes(cookie.split('=')[1]!), 'the session cookie is not in the log');
  });
});
