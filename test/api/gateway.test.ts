/**
 * The HTTP gateway on 127.0.0.1 over the real pipeline (dev server, worker, database, blobs):
 * every route, the security rules, idempotent retries, long-polls that time out and that
 * complete, cancellation through the task API, and the report route against the stored report.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { toParseJson } from '../../src/coverage/json-output';
import { readReport } from '../../src/coverage/report-format';
import { buildServer } from '../../src/api/server';
import { commitWorkflowId } from '../../src/workflows/commit-contracts';
import { runParse } from '../../src/cli/parse-command';
import { readFileChunks } from '../../src/cli/io';
import { CORPUS, corpusFiles, newSha, type CorpusFile } from '../support/pipeline';
import { call, openHarness, type Answer, type Gateway, type Harness } from './harness';

let h: Harness;
let base: string;
let admin: string;
let corpus: CorpusFile[];

const file = (name: string) => {
  const f = corpus.find((c) => c.name === name);
  if (!f) throw new Error(`no corpus file ${name}`);
  return f;
};

async function createRepo(slug: string, g: Gateway = h.gateway): Promise<string> {
  const res = await call(g.base, 'POST', '/api/v1/repos', { token: admin, json: { slug } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.uploadToken as string;
}

function uploadPath(slug: string, sha: string, query = ''): string {
  return `/api/v1/repos/${slug}/commits/${sha}/uploads${query}`;
}

function rawUpload(slug: string, sha: string, token: string, body: Uint8Array, opts: { query?: string; headers?: Record<string, string>; g?: Gateway } = {}): Promise<Answer> {
  return call((opts.g ?? h.gateway).base, 'POST', uploadPath(slug, sha, opts.query), {
    token,
    body: new Uint8Array(body),
    headers: { 'content-type': 'application/octet-stream', ...opts.headers },
  });
}

/** Retries `fn` until `ok` (visibility is eventually consistent); fails after `tries`. */
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, tries = 100): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what}: last ${JSON.stringify(last)}`);
}

before(async () => {
  [h, corpus] = await Promise.all([openHarness(), corpusFiles()]);
  base = h.gateway.base;
  admin = h.adminToken;
});
after(async () => {
  await h?.close();
});

describe('health, metrics and docs', () => {
  test('/healthz, /readyz, /docs/json', async () => {
    assert.deepEqual((await call(base, 'GET', '/healthz')).body, { status: 'ok' });
    const ready = await call(base, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ok', checks: { temporal: 'ok', database: 'ok', blobs: 'ok' } });
    const docs = await call(base, 'GET', '/docs/json');
    assert.equal(docs.status, 200);
    for (const path of ['/api/v1/repos', '/api/v1/repos/{owner}/{repo}/commits/{sha}/uploads', '/api/v1/uploads/{id}', '/api/v1/tasks']) {
      assert.ok(docs.body.paths[path], `OpenAPI documents ${path}`);
    }
    const ui = await fetch(`${base}/docs/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
  });

  test('/readyz answers 503 naming the part that is down', async () => {
    // A blob store that cannot be reached, in a gateway of its own.
    const broken = await buildServer({
      config: h.p.config,
      store: h.p.store,
      blobs: {
        put: (k, b) => h.p.blobs.put(k, b),
        get: (k) => h.p.blobs.get(k),
        delete: (k) => h.p.blobs.delete(k),
        list: (prefix, page) => h.p.blobs.list(prefix, page),
        exists: async () => {
          throw new Error('blob store down');
        },
      },
      db: h.p.db,
      client: h.env.client,
      adminToken: admin,
    });
    try {
      const res = await broken.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 503);
      const body = res.json();
      assert.equal(body.status, 'unavailable');
      assert.equal(body.checks.temporal, 'ok');
      assert.equal(body.checks.database, 'ok');
      assert.match(body.checks.blobs, /blob store down/);
    } finally {
      await broken.close();
    }
  });
});

describe('repositories and flags', () => {
  test('create answers a 32-byte token once; a taken slug is 409; a bad slug names the field', async () => {
    const res = await call(base, 'POST', '/api/v1/repos', { token: admin, json: { slug: 'acme/web', settings: { fixes: ['a::b'] } } });
    assert.equal(res.status, 201);
    assert.equal(res.body.slug, 'acme/web');
    assert.equal(Buffer.from(res.body.uploadToken, 'base64url').length, 32);
    const repo = await h.p.store.getRepository('acme/web');
    assert.notEqual(repo?.uploadTokenHash, res.body.uploadToken, 'only a hash is stored');
    assert.deepEqual(repo?.settings, { fixes: ['a::b'] });

    const again = await call(base, 'POST', '/api/v1/repos', { token: admin, json: { slug: 'acme/web' } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'conflict');

    const bad = await call(base, 'POST', '/api/v1/repos', { token: admin, json: { slug: 'no-slash' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'slug');
    const badSettings = await call(base, 'POST', '/api/v1/repos', { token: admin, json: { slug: 'acme/x', settings: { fixes: 'nope' } } });
    assert.equal(badSettings.status, 400);
    assert.equal(badSettings.body.error.field, 'settings');
  });

  test('settings are replaced by the admin; the default branch and urgency give a commit its priority', async () => {
    const token = await createRepo('acme/prio');
    const put = (json: unknown, as = admin) => call(base, 'PUT', '/api/v1/repos/acme/prio/settings', { token: as, json });
    assert.equal((await put({ defaultBranch: 'develop' }, token)).status, 403, 'not with an upload token');
    assert.equal((await put({ urgent: 'yes' })).body.error?.field, 'urgent');
    assert.equal((await call(base, 'PUT', '/api/v1/repos/acme/none/settings', { token: admin, json: {} })).status, 404);
    const set = await put({ defaultBranch: 'develop', fixes: ['a::b'] });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body, { slug: 'acme/prio', settings: { defaultBranch: 'develop', fixes: ['a::b'] } });

    const priorityOf = async (query: string) => {
      const sha = newSha();
      const res = await rawUpload('acme/prio', sha, token, file('negotiator-nyc/lcov.info').body, { query });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return (await call(base, 'GET', `/api/v1/repos/acme/prio/commits/${sha}`, { token })).body.priority;
    };
    assert.deepEqual(await priorityOf('?branch=develop'), { key: 2, reason: 'default_branch' });
    assert.deepEqual(await priorityOf('?branch=feature'), { key: 4, reason: 'other_branch' });
    assert.deepEqual(await priorityOf(''), { key: 3, reason: 'unknown' });
    await put({ defaultBranch: 'develop', urgent: true });
    assert.deepEqual(await priorityOf('?branch=feature'), { key: 1, reason: 'urgent' });
  });

  test('settings declare flags (named as upload flags, each once) and which are carried forward, with a bounded depth', async () => {
    await createRepo('acme/flags');
    const put = (json: unknown) => call(base, 'PUT', '/api/v1/repos/acme/flags/settings', { token: admin, json });
    const flags = [
      { name: 'unit', carryforward: true },
      { name: 'integration', carryforward: false },
    ];
    const set = await put({ flags, carryforwardDepth: 3 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body, { slug: 'acme/flags', settings: { flags, carryforwardDepth: 3 } });
    for (const bad of [
      { flags: [{ name: 'has space', carryforward: true }] },
      { flags: [{ name: '', carryforward: true }] },
      { flags: [{ name: 'unit', carryforward: true }, { name: 'unit', carryforward: false }] },
      { flags: [{ name: 'unit' }] },
      { flags: [{ name: 'unit', carryforward: true, extra: 1 }] },
    ]) {
      const res = await put(bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.match(res.body.error.field, /^flags/, JSON.stringify(res.body));
    }
    for (const depth of [0, 101, 2.5]) assert.equal((await put({ carryforwardDepth: depth })).body.error?.field, 'carryforwardDepth');
    assert.deepEqual((await h.p.store.getRepository('acme/flags'))?.settings, { flags, carryforwardDepth: 3 }, 'refused settings change nothing');
  });

  test('mode overrides are set, listed and cleared', async () => {
    await createRepo('acme/modes');
    const set = await call(base, 'PUT', '/api/v1/repos/acme/modes/mode', { token: admin, json: { mode: 'experiment' } });
    assert.equal(set.status, 200);
    assert.deepEqual(set.body, { slug: 'acme/modes', mode: 'experiment' });
    const flags = await call(base, 'GET', '/api/v1/flags', { token: admin });
    assert.equal(flags.status, 200);
    assert.equal(flags.body.defaultMode, h.p.config.pipeline.defaultMode);
    assert.deepEqual(flags.body.rollout, {});
    assert.ok(flags.body.overrides.some((o: { slug: string; mode: string }) => o.slug === 'acme/modes' && o.mode === 'experiment'));

    const cleared = await call(base, 'PUT', '/api/v1/repos/acme/modes/mode', { token: admin, json: { mode: null } });
    assert.deepEqual(cleared.body, { slug: 'acme/modes', mode: null });
    assert.equal(await h.p.store.getModeOverride('acme/modes'), null);

    const bad = await call(base, 'PUT', '/api/v1/repos/acme/modes/mode', { token: admin, json: { mode: 'sideways' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'mode');
    const unknown = await call(base, 'PUT', '/api/v1/repos/acme/nothing/mode', { token: admin, json: { mode: 'serial' } });
    assert.equal(unknown.status, 404);
  });
});

describe('security', () => {
  let tokenA: string;
  let tokenB: string;
  let uploadOfA: string;
  const sha = newSha();
  before(async () => {
    tokenA = await createRepo('sec/a');
    tokenB = await createRepo('sec/b');
    const res = await rawUpload('sec/a', sha, tokenA, file('negotiator-nyc/lcov.info').body);
    assert.equal(res.status, 202);
    uploadOfA = res.body.uploads[0].uploadId;
  });

  test('no token or an unknown token is 401 on every API route', async () => {
    const routes: [string, string][] = [
      ['POST', '/api/v1/repos'],
      ['PUT', '/api/v1/repos/sec/a/mode'],
      ['GET', '/api/v1/flags'],
      ['POST', uploadPath('sec/a', sha)],
      ['GET', `/api/v1/uploads/${uploadOfA}`],
      ['GET', `/api/v1/repos/sec/a/commits/${sha}`],
      ['GET', `/api/v1/repos/sec/a/commits/${sha}/report`],
      ['GET', '/api/v1/tasks'],
      ['POST', '/api/v1/tasks/whatever/cancel'],
    ];
    for (const [method, path] of routes) {
      for (const token of [undefined, 'not-a-token', `${admin}x`]) {
        const res = await call(base, method, path, { token, json: method === 'GET' ? undefined : {} });
        assert.equal(res.status, 401, `${method} ${path} with ${token === undefined ? 'no token' : 'an unknown token'}`);
        assert.equal(res.body.error.code, 'unauthorized');
      }
    }
    const basic = await call(base, 'GET', '/api/v1/flags', { headers: { authorization: `Basic ${Buffer.from(`x:${admin}`).toString('base64')}` } });
    assert.equal(basic.status, 401);
  });

  test('an upload token is 403 for admin routes and for other repositories, existing or not', async () => {
    for (const [method, path, json] of [
      ['POST', '/api/v1/repos', { slug: 'sec/c' }],
      ['PUT', '/api/v1/repos/sec/a/mode', { mode: 'serial' }],
      ['GET', '/api/v1/flags', undefined],
      ['GET', '/api/v1/tasks', undefined],
      ['POST', `/api/v1/tasks/${encodeURIComponent(commitWorkflowId('sec/a', sha))}/cancel`, {}],
    ] as const) {
      const res = await call(base, method, path, { token: tokenA, json });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.error.code, 'forbidden');
    }
    const toB = await rawUpload('sec/b', sha, tokenA, Buffer.from('TN:\n'));
    const toNowhere = await rawUpload('sec/nowhere', sha, tokenA, Buffer.from('TN:\n'));
    assert.equal(toB.status, 403);
    assert.deepEqual(toNowhere.body, toB.body, 'an existing and a missing repository look the same');
    assert.equal(toNowhere.status, 403);
    const commitOfB = await call(base, 'GET', `/api/v1/repos/sec/b/commits/${sha}`, { token: tokenA });
    const commitOfNowhere = await call(base, 'GET', `/api/v1/repos/sec/nowhere/commits/${sha}`, { token: tokenA });
    assert.equal(commitOfB.status, 403);
    assert.deepEqual(commitOfNowhere.body, commitOfB.body);
    assert.equal((await call(base, 'GET', `/api/v1/repos/sec/b/commits/${sha}/report`, { token: tokenA })).status, 403);
  });

  test("another repository's upload looks exactly like a missing one (404)", async () => {
    const other = await call(base, 'GET', `/api/v1/uploads/${uploadOfA}`, { token: tokenB });
    const missing = await call(base, 'GET', '/api/v1/uploads/no-such-upload', { token: tokenB });
    assert.equal(other.status, 404);
    assert.deepEqual(other.body, missing.body);
    assert.equal((await call(base, 'GET', `/api/v1/uploads/${uploadOfA}`, { token: tokenA })).status, 200);
    assert.equal((await call(base, 'GET', `/api/v1/uploads/${uploadOfA}`, { token: admin })).status, 200);
  });

  test('the admin gets 404 for what does not exist', async () => {
    assert.equal((await rawUpload('sec/nowhere', sha, admin, Buffer.from('TN:\n'))).status, 404);
    assert.equal((await call(base, 'GET', `/api/v1/repos/sec/nowhere/commits/${sha}`, { token: admin })).status, 404);
    assert.equal((await call(base, 'GET', `/api/v1/repos/sec/b/commits/${sha}`, { token: admin })).status, 404);
    assert.equal((await call(base, 'GET', `/api/v1/repos/sec/b/commits/${sha}/report`, { token: admin })).status, 404);
    assert.equal((await call(base, 'POST', '/api/v1/tasks/commit:sec%2Fb:0000000/cancel', { token: admin, json: {} })).status, 404);
  });

  test('invalid input is 400 naming the field', async () => {
    const lcov = file('negotiator-nyc/lcov.info').body;
    const cases: [string, Promise<Answer>][] = [
      ['format', rawUpload('sec/a', sha, tokenA, lcov, { query: '?format=word' })],
      ['fixes', rawUpload('sec/a', sha, tokenA, lcov, { query: '?fixes=no-separator' })],
      ['flags', rawUpload('sec/a', sha, tokenA, lcov, { query: '?flags=has%20space' })],
      ['ci_url', rawUpload('sec/a', sha, tokenA, lcov, { query: '?ci_url=ftp://x' })],
      ['name', rawUpload('sec/a', sha, tokenA, lcov, { query: '?name=a&name=b' })],
      ['sha', rawUpload('sec/a', 'not-hex', tokenA, lcov)],
      ['Idempotency-Key', rawUpload('sec/a', sha, tokenA, lcov, { headers: { 'idempotency-key': 'k'.repeat(401) } })],
      ['body', rawUpload('sec/a', sha, tokenA, new Uint8Array(0))],
      ['body', rawUpload('sec/a', sha, tokenA, lcov, { headers: { 'content-encoding': 'gzip' } })],
      ['wait', call(base, 'GET', `/api/v1/uploads/${uploadOfA}?wait=soon`, { token: tokenA })],
      ['limit', call(base, 'GET', '/api/v1/tasks?limit=0', { token: admin })],
      ['status', call(base, 'GET', '/api/v1/tasks?status=sleeping', { token: admin })],
      ['since', call(base, 'GET', '/api/v1/tasks?since=yesterday', { token: admin })],
    ];
    for (const [field, pending] of cases) {
      const res = await pending;
      assert.equal(res.status, 400, `${field}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'invalid_input');
      assert.equal(res.body.error.field, field, JSON.stringify(res.body));
    }
  });

  test('unsupported media types and encodings are 415', async () => {
    const mixed = await rawUpload('sec/a', sha, tokenA, Buffer.from('x'), { headers: { 'content-type': 'multipart/mixed; boundary=x' } });
    assert.equal(mixed.status, 415);
    assert.equal(mixed.body.error.code, 'unsupported_media_type');
    const br = await rawUpload('sec/a', sha, tokenA, Buffer.from('x'), { headers: { 'content-encoding': 'br' } });
    assert.equal(br.status, 415);
    const json = await call(base, 'POST', '/api/v1/repos', { token: admin, body: 'slug=a/b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(json.status, 415);
  });

  test('uploads over the size limit are 413, declared or streamed, raw or multipart', async () => {
    const limit = 64 * 1024;
    const g = await h.extraGateway((c) => ({ ...c, api: { ...c.api, maxUploadBytes: limit } }));
    const big = Buffer.alloc(limit + 1, 0x41);
    const declared = await rawUpload('sec/a', sha, tokenA, big, { g });
    assert.equal(declared.status, 413);
    assert.equal(declared.body.error.code, 'payload_too_large');

    // Chunked, no Content-Length: refused once the count passes the limit.
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${g.base}${uploadPath('sec/a', sha)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokenA}`, 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      // The server may stop reading once it has answered; that is the point.
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
      for (let i = 0; i < 8; i++) req.write(Buffer.alloc(16 * 1024, 0x42));
      req.end();
    });
    assert.equal(streamed.status, 413, JSON.stringify(streamed.body));

    const form = new FormData();
    form.append('a', new Blob([Buffer.alloc(limit / 2 + 10, 0x43)]), 'a.info');
    form.append('b', new Blob([Buffer.alloc(limit / 2 + 10, 0x44)]), 'b.info');
    const multi = await call(g.base, 'POST', uploadPath('sec/a', sha), { token: tokenA, body: form });
    assert.equal(multi.status, 413);
    const before = await h.p.store.listUploads('sec/a', sha);
    assert.ok(before.every((u) => u.rawBytes <= limit), 'nothing over the limit was registered');
  });

  test('past the per-token rate limit requests are 429; other tokens keep their budget', async () => {
    const g = await h.extraGateway((c) => ({ ...c, api: { ...c.api, rateLimitPerMinute: 3 } }));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(g.base, 'GET', `/api/v1/uploads/${uploadOfA}`, { token: tokenA })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    const limited = await call(g.base, 'GET', `/api/v1/uploads/${uploadOfA}`, { token: tokenA });
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.equal((await call(g.base, 'GET', `/api/v1/uploads/${uploadOfA}`, { token: admin })).status, 200);
    assert.equal((await call(g.base, 'GET', '/healthz')).status, 200, 'health checks are not limited');
  });

  test('tokens never reach the log', async () => {
    const lines: string[] = [];
    const sink = new PassThrough();
    sink.on('data', (d: Buffer) => lines.push(d.toString()));
    const g = await h.extraGateway((c) => c, sink);
    await call(g.base, 'GET', `/api/v1/uploads/${uploadOfA}`, { token: tokenA });
    await call(g.base, 'GET', '/api/v1/flags', { token: admin });
    await call(g.base, 'GET', '/api/v1/flags', { token: 'wrong-token-value' });
    await new Promise((r) => setTimeout(r, 50));
    const log = lines.join('');
    assert.ok(log.includes('/api/v1/flags'), 'requests were logged');
    for (const secret of [tokenA, admin, 'wrong-token-value']) assert.ok(!log.includes(secret), 'a token is in the log');
  });
});

describe('uploads, status and reports', () => {
  test('a raw upload is merged; long-polls complete; the report route equals the stored report', async () => {
    const token = await createRepo('flow/raw');
    const sha = newSha();
    const lcov = file('negotiator-nyc/lcov.info');
    const res = await rawUpload('flow/raw', sha, token, lcov.body, { query: '?flags=unit,node&flags=linux&name=lcov&build=7&job=test&branch=main&ci_url=https://ci.example/1' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.uploads.length, 1);
    const [u] = res.body.uploads;
    assert.equal(u.session, 0);
    assert.equal(u.state, 'uploaded');
    assert.equal(u.created, true);
    assert.equal(u.statusUrl, `${base}/api/v1/uploads/${u.uploadId}`);
    assert.equal(res.body.commitUrl, `${base}/api/v1/repos/flow/raw/commits/${sha}`);
    const row = await h.p.store.getUpload(u.uploadId);
    assert.deepEqual(row?.flags, ['unit', 'node', 'linux']);
    assert.equal(row?.name, 'lcov');
    assert.equal(row?.ciUrl, 'https://ci.example/1');
    assert.ok(Buffer.from((await h.p.blobs.get(row!.rawKey))!).equals(lcov.body), 'stored as sent');

    const status = await call(base, 'GET', `/api/v1/uploads/${u.uploadId}?wait=30s`, { token });
    assert.equal(status.status, 200);
    assert.equal(status.body.state, 'merged', JSON.stringify(status.body));
    assert.equal(status.body.repo, 'flow/raw');
    assert.equal(status.body.sha, sha);
    assert.equal(status.body.error, null);
    assert.deepEqual(status.body.warnings, []);
    for (const k of ['createdAt', 'processingStartedAt', 'mergedAt']) assert.ok(!Number.isNaN(Date.parse(status.body.timings[k])), k);

    const commit = await call(base, 'GET', `/api/v1/repos/flow/raw/commits/${sha}?wait=30s`, { token });
    assert.equal(commit.status, 200);
    assert.equal(commit.body.state, 'complete');
    assert.equal(commit.body.totals.sessions, 1);
    assert.equal(commit.body.mode, 'parallel');
    assert.equal(commit.body.experimentOutcome, null);
    assert.deepEqual(commit.body.uploads, [{ uploadId: u.uploadId, session: 0, state: 'merged', error: null, warnings: 0 }]);
    assert.equal(commit.body.reportUrl, `${base}/api/v1/repos/flow/raw/commits/${sha}/report`);

    const report = await call(base, 'GET', `/api/v1/repos/flow/raw/commits/${sha}/report`, { token });
    assert.equal(report.status, 200);
    const saved = await h.p.store.getCommitReport('flow/raw', sha);
    const expected = toParseJson(readReport((await h.p.blobs.get(saved!.reportKey))!));
    assert.deepEqual(report.body, expected);
    assert.equal(commit.body.totals.lines, expected.totals.lines);
    assert.equal(commit.body.totals.coverage, expected.totals.coverage);

    const one = Object.keys(expected.files)[0]!;
    const single = await call(base, 'GET', `/api/v1/repos/flow/raw/commits/${sha}/report?file=${encodeURIComponent(one)}`, { token });
    assert.deepEqual(Object.keys(single.body.files), [one]);
    assert.deepEqual(single.body.files[one], expected.files[one]);
    const absent = await call(base, 'GET', `/api/v1/repos/flow/raw/commits/${sha}/report?file=no/such/file.js`, { token });
    assert.equal(absent.status, 404);
  });

  test('multipart: one upload per file part, in order, with fields and the repository file list', async () => {
    const token = await createRepo('flow/multi');
    const sha = newSha();
    const form = new FormData();
    form.append('flags', 'integration');
    form.append('files', 'index.js\nlib/util.js\n');
    form.append('report', new Blob([new Uint8Array(file('negotiator-nyc/lcov.info').body)]), 'lcov.info');
    form.append('report', new Blob([gzipSync(file('negotiator-nyc/clover.xml').body)]), 'clover.xml.gz');
    form.append('report', new Blob([Buffer.from('not coverage at all\n')]), 'junk.txt');
    const res = await call(base, 'POST', uploadPath('flow/multi', sha, '?build=42'), { token, body: form });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(res.body.uploads.map((u: { session: number }) => u.session), [0, 1, 2]);
    const rows = await h.p.store.listUploads('flow/multi', sha);
    assert.deepEqual(rows.map((r) => r.name), ['lcov.info', 'clover.xml.gz', 'junk.txt']);
    assert.ok(rows.every((r) => r.build === '42' && r.flags.join() === 'integration' && r.repoFilesKey !== null));

    const commit = await call(base, 'GET', `/api/v1/repos/flow/multi/commits/${sha}?wait=30s`, { token });
    assert.equal(commit.body.state, 'complete', JSON.stringify(commit.body));
    assert.deepEqual(commit.body.uploads.map((u: { state: string }) => u.state), ['merged', 'merged', 'error']);
    assert.equal(commit.body.uploads[2].error.code, 'report_invalid');
    const junk = await call(base, 'GET', `/api/v1/uploads/${res.body.uploads[2].uploadId}`, { token });
    assert.equal(junk.body.state, 'error');
    assert.equal(junk.body.error.code, 'report_invalid');
  });

  test('gzip bodies, sent as gzip bytes or with Content-Encoding, are stored as sent and merged', async () => {
    const token = await createRepo('flow/gzip');
    const sha = newSha();
    const xml = gzipSync(file('tomli-misc/coverage-py.xml').body);
    const a = await rawUpload('flow/gzip', sha, token, xml, { headers: { 'content-encoding': 'gzip', 'content-type': 'application/xml' } });
    const b = await rawUpload('flow/gzip', sha, token, gzipSync(file('tomli-misc/coverage-py.json').body), { headers: { 'content-type': 'application/json' }, query: '?format=coveragepy' });
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    const row = await h.p.store.getUpload(a.body.uploads[0].uploadId);
    assert.ok(Buffer.from((await h.p.blobs.get(row!.rawKey))!).equals(xml));
    const commit = await call(base, 'GET', `/api/v1/repos/flow/gzip/commits/${sha}?wait=30s`, { token });
    assert.deepEqual(commit.body.uploads.map((u: { state: string }) => u.state), ['merged', 'merged'], JSON.stringify(commit.body));
  });

  test('retries with the same Idempotency-Key answer the same upload, raw and multipart', async () => {
    const token = await createRepo('flow/retry');
    const sha = newSha();
    const body = file('negotiator-c8/lcov.info').body;
    const first = await rawUpload('flow/retry', sha, token, body, { headers: { 'idempotency-key': 'job-1' } });
    const again = await rawUpload('flow/retry', sha, token, body, { headers: { 'idempotency-key': 'job-1' } });
    assert.equal(first.body.uploads[0].created, true);
    assert.equal(again.body.uploads[0].created, false);
    assert.equal(again.body.uploads[0].uploadId, first.body.uploads[0].uploadId);
    assert.equal(again.body.uploads[0].session, first.body.uploads[0].session);

    const form = () => {
      const f = new FormData();
      f.append('a', new Blob([new Uint8Array(file('negotiator-nyc/lcov.info').body)]), 'a');
      f.append('b', new Blob([new Uint8Array(file('negotiator-nyc/clover.xml').body)]), 'b');
      return f;
    };
    const m1 = await call(base, 'POST', uploadPath('flow/retry', sha), { token, body: form(), headers: { 'idempotency-key': 'job-2' } });
    const m2 = await call(base, 'POST', uploadPath('flow/retry', sha), { token, body: form(), headers: { 'idempotency-key': 'job-2' } });
    assert.deepEqual(m1.body.uploads.map((u: { created: boolean }) => u.created), [true, true]);
    assert.deepEqual(m2.body.uploads.map((u: { created: boolean }) => u.created), [false, false]);
    assert.deepEqual(
      m2.body.uploads.map((u: { uploadId: string; session: number }) => [u.uploadId, u.session]),
      m1.body.uploads.map((u: { uploadId: string; session: number }) => [u.uploadId, u.session]),
    );
    const rows = await h.p.store.listUploads('flow/retry', sha);
    assert.deepEqual(rows.map((r) => r.session), [0, 1, 2], 'no duplicate registrations');
  });

  test('the same Idempotency-Key with another body is 409 idempotency_conflict and changes nothing, raw and multipart', async () => {
    const token = await createRepo('flow/conflict');
    const sha = newSha();
    const lcov = file('negotiator-nyc/lcov.info').body;
    const cobertura = file('tomli-misc/coverage-py.xml').body;
    const first = await rawUpload('flow/conflict', sha, token, lcov, { headers: { 'idempotency-key': 'ci-7' } });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const done = await call(base, 'GET', `/api/v1/repos/flow/conflict/commits/${sha}?wait=30s`, { token });
    assert.equal(done.body.state, 'complete', JSON.stringify(done.body));
    const reportBefore = await call(base, 'GET', `/api/v1/repos/flow/conflict/commits/${sha}/report`, { token });
    const row = (await h.p.store.getUpload(first.body.uploads[0].uploadId))!;

    const other = await rawUpload('flow/conflict', sha, token, cobertura, { headers: { 'idempotency-key': 'ci-7' } });
    assert.equal(other.status, 409, JSON.stringify(other.body));
    assert.equal(other.body.error.code, 'idempotency_conflict');
    assert.equal(other.body.error.field, 'Idempotency-Key');
    assert.match(other.body.error.message, /"ci-7"/);
    assert.match(other.body.error.message, new RegExp(row.uploadId));
    assert.deepEqual((await h.p.store.listUploads('flow/conflict', sha)).map((u) => u.uploadId), [row.uploadId]);
    assert.ok(Buffer.from((await h.p.blobs.get(row.rawKey))!).equals(lcov), 'the first upload keeps its bytes');
    const commit = await call(base, 'GET', `/api/v1/repos/flow/conflict/commits/${sha}`, { token });
    assert.equal(commit.body.state, 'complete');
    assert.equal(commit.body.totals.sessions, 1);
    assert.deepEqual((await call(base, 'GET', `/api/v1/repos/flow/conflict/commits/${sha}/report`, { token })).body, reportBefore.body);
    // The same body again is still answered.
    const retry = await rawUpload('flow/conflict', sha, token, lcov, { headers: { 'idempotency-key': 'ci-7' } });
    assert.equal(retry.status, 202);
    assert.deepEqual(retry.body.uploads[0], { ...first.body.uploads[0], created: false });

    // Multipart: a request whose part 1 differs is refused whole, its new part 2 included.
    const form = (...bodies: Buffer[]) => {
      const f = new FormData();
      for (const [i, b] of bodies.entries()) f.append('report', new Blob([new Uint8Array(b)]), `r${i}`);
      return f;
    };
    const clover = file('negotiator-nyc/clover.xml').body;
    const m1 = await call(base, 'POST', uploadPath('flow/conflict', sha), { token, body: form(lcov, clover), headers: { 'idempotency-key': 'ci-8' } });
    assert.equal(m1.status, 202, JSON.stringify(m1.body));
    const afterM1 = await call(base, 'GET', `/api/v1/repos/flow/conflict/commits/${sha}?wait=30s`, { token });
    assert.equal(afterM1.body.totals?.sessions, 3, JSON.stringify(afterM1.body));
    const reportM1 = await call(base, 'GET', `/api/v1/repos/flow/conflict/commits/${sha}/report`, { token });
    const m2 = await call(base, 'POST', uploadPath('flow/conflict', sha), { token, body: form(lcov, cobertura, cobertura), headers: { 'idempotency-key': 'ci-8' } });
    assert.equal(m2.status, 409, JSON.stringify(m2.body));
    assert.equal(m2.body.error.code, 'idempotency_conflict');
    assert.equal(m2.body.error.field, 'Idempotency-Key');
    assert.match(m2.body.error.message, /"ci-8".*part 1/);
    const rows = await h.p.store.listUploads('flow/conflict', sha);
    assert.equal(rows.length, 3, 'nothing of the refused request was registered');
    assert.ok(Buffer.from((await h.p.blobs.get(rows[2]!.rawKey))!).equals(clover));
    assert.deepEqual((await call(base, 'GET', `/api/v1/repos/flow/conflict/commits/${sha}/report`, { token })).body, reportM1.body);
  });

  test("a raw upload's key and a multipart part's key that look alike (mk:0, mk part 0) are two uploads", async () => {
    const token = await createRepo('flow/scopes');
    const sha = newSha();
    const lcov = file('negotiator-nyc/lcov.info').body;
    const cobertura = file('tomli-misc/coverage-py.xml').body;
    const raw = await rawUpload('flow/scopes', sha, token, lcov, { headers: { 'idempotency-key': 'mk:0' } });
    const f = new FormData();
    f.append('report', new Blob([new Uint8Array(cobertura)]), 'coverage.xml');
    const multi = await call(base, 'POST', uploadPath('flow/scopes', sha), { token, body: f, headers: { 'idempotency-key': 'mk' } });
    assert.equal(raw.status, 202, JSON.stringify(raw.body));
    assert.equal(multi.status, 202, JSON.stringify(multi.body));
    assert.equal(multi.body.uploads[0].created, true);
    assert.notEqual(multi.body.uploads[0].uploadId, raw.body.uploads[0].uploadId);
    const [a, b] = await h.p.store.listUploads('flow/scopes', sha);
    assert.ok(Buffer.from((await h.p.blobs.get(a!.rawKey))!).equals(lcov));
    assert.ok(Buffer.from((await h.p.blobs.get(b!.rawKey))!).equals(cobertura));

    const commit = await call(base, 'GET', `/api/v1/repos/flow/scopes/commits/${sha}?wait=30s`, { token });
    assert.equal(commit.body.state, 'complete', JSON.stringify(commit.body));
    assert.equal(commit.body.totals.sessions, 2);
    const report = await call(base, 'GET', `/api/v1/repos/flow/scopes/commits/${sha}/report`, { token });
    const files = Object.keys(report.body.files);
    assert.ok(files.some((p) => p.endsWith('index.js')), `the LCOV files are in the report: ${files.join(', ')}`);
    assert.ok(files.some((p) => p.endsWith('.py')), `the Cobertura files are in the report: ${files.join(', ')}`);
  });

  test('concurrent twins (same key, same body, sent at once) are one upload; the twins leave no blob behind', async () => {
    const token = await createRepo('flow/twins');
    const sha = newSha();
    const body = file('negotiator-c8/lcov.info').body;
    const rawDir = path.join(h.p.config.blobDir, 'raw');
    const before = new Set(await readdir(rawDir));
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => rawUpload('flow/twins', sha, token, body, { headers: { 'idempotency-key': 'twin', 'content-type': 'text/plain' } })),
    );
    assert.ok(answers.every((a) => a.status === 202), JSON.stringify(answers.map((a) => a.body)));
    const ids = new Set(answers.map((a) => a.body.uploads[0].uploadId));
    assert.equal(ids.size, 1);
    assert.equal(answers.filter((a) => a.body.uploads[0].created).length, 1);
    const rows = await h.p.store.listUploads('flow/twins', sha);
    assert.deepEqual(rows.map((r) => r.uploadId), [...ids]);
    const added = (await readdir(rawDir)).filter((n) => !before.has(n));
    assert.deepEqual(added, [path.basename(rows[0]!.rawKey)], 'only the winner\'s blob is kept');
    const commit = await call(base, 'GET', `/api/v1/repos/flow/twins/commits/${sha}?wait=30s`, { token });
    assert.equal(commit.body.totals?.sessions, 1, JSON.stringify(commit.body));
  });

  test('GET /repos lists every repository for the admin, only its own for an upload token', async () => {
    const tokenX = await createRepo('list/x');
    await createRepo('list/y');
    assert.equal((await call(base, 'PUT', '/api/v1/repos/list/y/mode', { token: admin, json: { mode: 'serial' } })).status, 200);
    const all = await call(base, 'GET', '/api/v1/repos', { token: admin });
    assert.equal(all.status, 200);
    const slugs = (all.body.repos as { slug: string }[]).map((r) => r.slug);
    assert.ok(slugs.includes('list/x') && slugs.includes('list/y'), slugs.join(', '));
    assert.deepEqual([...slugs].sort(), slugs, 'by slug');
    assert.equal((all.body.repos as { slug: string; mode: string | null }[]).find((r) => r.slug === 'list/y')?.mode, 'serial');
    const own = await call(base, 'GET', '/api/v1/repos', { token: tokenX });
    assert.equal(own.status, 200);
    assert.deepEqual((own.body.repos as { slug: string }[]).map((r) => r.slug), ['list/x']);
    assert.equal((await call(base, 'GET', '/api/v1/repos', { token: 'nobody-knows-this-token-0123456789' })).status, 401);
  });

  test('bodies are streamed to storage; every refused request leaves no raw blob and no upload behind', async () => {
    const token = await createRepo('flow/refused');
    const sha = newSha();
    const lcov = file('negotiator-c8/lcov.info').body;
    const rawDir = path.join(h.p.config.blobDir, 'raw');
    const limit = 64 * 1024;
    const g = await h.extraGateway((c) => ({ ...c, api: { ...c.api, maxUploadBytes: limit } }));
    const first = await rawUpload('flow/refused', sha, token, lcov, { headers: { 'idempotency-key': 'r-1' } });
    assert.equal(first.status, 202);
    const kept = new Set(await readdir(rawDir));

    const form = (...parts: Buffer[]) => {
      const f = new FormData();
      parts.forEach((b, i) => f.append(`r${i}`, new Blob([new Uint8Array(b)]), `r${i}.info`));
      return f;
    };
    const refusals: Array<[string, number, Promise<Answer>]> = [
      ['the same key with another body', 409, rawUpload('flow/refused', sha, token, Buffer.concat([lcov, Buffer.from('\n')]), { headers: { 'idempotency-key': 'r-1' } })],
      ['an empty body', 400, rawUpload('flow/refused', sha, token, new Uint8Array(0))],
      ['gzip claimed, plain sent', 400, rawUpload('flow/refused', sha, token, lcov, { headers: { 'content-encoding': 'gzip' } })],
      ['a bad metadata field after the file part', 400, (async () => {
        const f = form(lcov);
        f.append('ci_url', 'not a url');
        return call(base, 'POST', uploadPath('flow/refused', sha), { token, body: f });
      })()],
      ['a second part past the limit (the first was stored)', 413, call(g.base, 'POST', uploadPath('flow/refused', sha), { token, body: form(Buffer.alloc(limit / 2, 0x41), Buffer.alloc(limit, 0x42)) })],
      ['an empty second part', 400, call(base, 'POST', uploadPath('flow/refused', sha), { token, body: form(lcov, Buffer.alloc(0)) })],
    ];
    for (const [what, status, answer] of refusals) assert.equal((await answer).status, status, what);
    // A repeated key with the same body is answered from the first upload; its streamed copy goes.
    const again = await rawUpload('flow/refused', sha, token, lcov, { headers: { 'idempotency-key': 'r-1' } });
    assert.equal(again.status, 202);
    assert.equal(again.body.uploads[0].created, false);

    assert.deepEqual((await readdir(rawDir)).filter((n) => !kept.has(n)), [], 'no blob of a refused or repeated request is left');
    const rows = await h.p.store.listUploads('flow/refused', sha);
    assert.deepEqual(rows.map((r) => r.uploadId), [first.body.uploads[0].uploadId]);
    assert.ok(Buffer.from((await h.p.blobs.get(rows[0]!.rawKey))!).equals(lcov), 'the first upload keeps its bytes');
    assert.equal(rows[0]!.bodyDigest, createHash('sha256').update(lcov).digest('hex'), 'the digest computed while streaming is the bytes\' sha256');
  });

  test("every mode's report has the files and totals of `tributary parse --json` of the same files, byte for byte", async () => {
    const names = corpus.filter((f) => f.name.startsWith('negotiator-nyc/')).map((f) => f.name);
    let parsed = '';
    const code = await runParse(
      names.map((n) => path.join(CORPUS, n)),
      { json: true },
      { stdout: (t) => void (parsed += t), stderr: () => undefined, open: readFileChunks, setExitCode: () => undefined },
    );
    assert.equal(code, 0);
    const local = JSON.parse(parsed) as { files: unknown; totals: unknown };
    const sha = newSha();
    for (const mode of ['serial', 'parallel', 'experiment']) {
      const slug = `same/${mode}`;
      const token = await createRepo(slug);
      await call(base, 'PUT', `/api/v1/repos/${slug}/mode`, { token: admin, json: { mode } });
      const form = new FormData();
      for (const n of names) form.append('file', new Blob([new Uint8Array(file(n).body)]), n);
      assert.equal((await call(base, 'POST', uploadPath(slug, sha), { token, body: form })).status, 202);
      const commit = await call(base, 'GET', `/api/v1/repos/${slug}/commits/${sha}?wait=45s`, { token });
      assert.equal(commit.body.state, 'complete', JSON.stringify(commit.body));
      assert.equal(commit.body.mode, mode);
      assert.equal(commit.body.experimentOutcome, mode === 'experiment' ? 'match' : null);
      const report = await fetch(`${base}/api/v1/repos/${slug}/commits/${sha}/report`, { headers: { authorization: `Bearer ${token}` } });
      const remote = JSON.parse(await report.text()) as { files: unknown; totals: unknown };
      assert.equal(JSON.stringify(remote.files), JSON.stringify(local.files), `${mode}: files`);
      assert.equal(JSON.stringify(remote.totals), JSON.stringify(local.totals), `${mode}: totals`);
    }
  });

  test('experiment mode shows the mode and a match outcome', async () => {
    const token = await createRepo('flow/exp');
    await call(base, 'PUT', '/api/v1/repos/flow/exp/mode', { token: admin, json: { mode: 'experiment' } });
    const sha = newSha();
    await rawUpload('flow/exp', sha, token, file('negotiator-nyc/lcov.info').body);
    await rawUpload('flow/exp', sha, token, file('negotiator-nyc/cobertura-coverage.xml').body);
    const commit = await call(base, 'GET', `/api/v1/repos/flow/exp/commits/${sha}?wait=45s`, { token });
    assert.equal(commit.body.state, 'complete', JSON.stringify(commit.body));
    assert.equal(commit.body.experimentOutcome, 'match');
    assert.equal(commit.body.mode, 'experiment');
  });
});

describe('long-polls, tasks and cancellation', () => {
  let slow: Gateway;
  let token: string;
  before(async () => {
    // Long debounce: the workflow keeps waiting, so nothing finishes unless cancelled.
    slow = await h.extraGateway((c) => ({ ...c, pipeline: { ...c.pipeline, debounceMs: 120_000, maxDebounceMs: 240_000, idleTimeoutMs: 600_000 } }));
    token = await createRepo('slow/app');
  });

  test('wait=1s on work that cannot finish answers the current, non-terminal state', async () => {
    const sha = newSha();
    const res = await rawUpload('slow/app', sha, token, file('negotiator-nyc/lcov.info').body, { g: slow });
    const id = res.body.uploads[0].uploadId;
    const upload = await call(slow.base, 'GET', `/api/v1/uploads/${id}?wait=1s`, { token });
    assert.equal(upload.status, 200);
    assert.equal(upload.body.state, 'uploaded');
    const commit = await call(slow.base, 'GET', `/api/v1/repos/slow/app/commits/${sha}?wait=1s`, { token });
    assert.equal(commit.status, 200);
    assert.equal(commit.body.state, 'pending');
    assert.equal(commit.body.totals, null);
    assert.equal((await call(slow.base, 'GET', `/api/v1/repos/slow/app/commits/${sha}/report`, { token })).status, 404);
  });

  test('a client that leaves a long-poll does not keep the gateway busy', async () => {
    const sha = newSha();
    const res = await rawUpload('slow/app', sha, token, file('negotiator-nyc/lcov.info').body, { g: slow });
    const controller = new AbortController();
    const leaving = fetch(`${slow.base}/api/v1/uploads/${res.body.uploads[0].uploadId}?wait=60s`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    }).catch((err: Error) => err.name);
    const activePolls = async () => Number(/tributary_long_polls_active (\d+)/.exec((await slow.app.inject({ method: 'GET', url: '/metrics' })).body)?.[1]);
    await eventually(activePolls, (n) => n === 1, 'the long-poll is waiting');
    controller.abort();
    assert.equal(await leaving, 'AbortError');
    await eventually(activePolls, (n) => n === 0, 'the long-poll stopped when its client left');
  });

  test('tasks are listed with filters; cancelling one ends its uploads cancelled', async () => {
    const sha = newSha();
    const a = await rawUpload('slow/app', sha, token, file('negotiator-nyc/lcov.info').body, { g: slow });
    const b = await rawUpload('slow/app', sha, token, file('negotiator-nyc/clover.xml').body, { g: slow });
    const workflowId = commitWorkflowId('slow/app', sha);
    const listed = await eventually(
      () => call(base, 'GET', `/api/v1/tasks?repo=slow/app&commit=${sha}&status=running`, { token: admin }),
      (r) => r.status === 200 && r.body.tasks.length === 1,
      'the running task is listed',
    );
    const [task] = listed.body.tasks;
    assert.equal(task.workflowId, workflowId);
    assert.equal(task.repo, 'slow/app');
    assert.equal(task.sha, sha);
    assert.equal(task.status, 'running');
    assert.equal(task.closeTime, null);
    assert.ok(!Number.isNaN(Date.parse(task.startTime)));
    const none = await call(base, 'GET', `/api/v1/tasks?repo=slow/app&commit=${sha}&status=completed`, { token: admin });
    assert.deepEqual(none.body.tasks, []);
    const future = await call(base, 'GET', `/api/v1/tasks?repo=slow/app&since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`, { token: admin });
    assert.deepEqual(future.body.tasks, []);

    // No body at all, as command-line clients send it.
    const cancel = await call(base, 'POST', `/api/v1/tasks/${encodeURIComponent(workflowId)}/cancel`, { token: admin });
    assert.equal(cancel.status, 202);
    assert.deepEqual(cancel.body, { workflowId, cancelRequested: true });
    for (const id of [a.body.uploads[0].uploadId, b.body.uploads[0].uploadId]) {
      const s = await call(base, 'GET', `/api/v1/uploads/${id}?wait=30s`, { token });
      assert.equal(s.body.state, 'cancelled');
    }
    const commit = await call(base, 'GET', `/api/v1/repos/slow/app/commits/${sha}?wait=5s`, { token });
    assert.equal(commit.body.state, 'cancelled');
    const closed = await eventually(
      () => call(base, 'GET', `/api/v1/tasks?repo=slow/app&commit=${sha}&status=cancelled&outcome=cancelled`, { token: admin }),
      (r) => r.body.tasks.length === 1,
      'the cancelled task is listed',
    );
    assert.equal(closed.body.tasks[0].status, 'cancelled');
    assert.ok(closed.body.tasks[0].closeTime);
  });

  test('completed tasks carry mode, outcome and upload count', async () => {
    const t = await createRepo('tasks/done');
    const sha = newSha();
    await rawUpload('tasks/done', sha, t, file('negotiator-nyc/lcov.info').body);
    await call(base, 'GET', `/api/v1/repos/tasks/done/commits/${sha}?wait=30s`, { token: t });
    const listed = await eventually(
      () => call(base, 'GET', `/api/v1/tasks?repo=tasks/done&mode=parallel&outcome=success`, { token: admin }),
      (r) => r.body.tasks.length === 1 && r.body.tasks[0].uploadCount === 1,
      'the finished task is listed',
    );
    assert.equal(listed.body.tasks[0].mode, 'parallel');
    assert.equal(listed.body.tasks[0].outcome, 'success');
    assert.equal(listed.body.tasks[0].experimentOutcome, null);
  });
});

describe('metrics', () => {
  test('requests by route and status, uploads and bytes accepted', async () => {
    const res = await call(base, 'GET', '/metrics');
    assert.equal(res.status, 200);
    const text = String(res.body);
    assert.match(text, /tributary_http_requests_total\{method="POST",route="\/api\/v1\/repos\/:owner\/:repo\/commits\/:sha\/uploads",status="202"\} \d+/);
    assert.match(text, /tributary_http_requests_total\{method="GET",route="\/api\/v1\/uploads\/:id",status="401"\} \d+/);
    assert.match(text, /tributary_http_request_duration_seconds_bucket/);
    const accepted = Number(/tributary_uploads_accepted_total (\d+)/.exec(text)?.[1]);
    const bytes = Number(/tributary_upload_bytes_total (\d+)/.exec(text)?.[1]);
    assert.ok(accepted >= 10, `uploads accepted: ${accepted}`);
    assert.ok(bytes > 10_000, `upload bytes: ${bytes}`);
  });
});
