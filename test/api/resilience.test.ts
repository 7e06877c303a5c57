/**
 * The gateway under hostile clients and failing dependencies, on the real pipeline: bodies that
 * stall are cut with 408 and leave nothing behind, failed-authentication floods are limited per
 * address before any database lookup, PostgreSQL or Temporal going away (a TCP forwarder in front
 * of the real server, closed and reopened) is answered 503 with Retry-After and recovers, and the
 * gateway and worker processes started before Temporal wait for it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config';
import { buildServer } from '../../src/api/server';
import { openDatabase, type Database } from '../../src/storage/database';
import { Store } from '../../src/storage/store';
import { connectClient } from '../../src/temporal/connection';
import { databasesUnderTest, type TestDatabase } from '../support/database';
import { newSha } from '../support/pipeline';
import { TcpForwarder } from '../support/tcp-forwarder';
import { spawnWorker } from '../support/worker-process';
import { call, openHarness, type Answer, type Gateway, type Harness } from './harness';
import { freePort } from '../support/ports';

const ROOT = path.resolve(__dirname, '../..');
const REPORT = Buffer.from('SF:src/a.ts\nDA:1,1\nDA:2,0\nend_of_record\n');

let h: Harness;
let admin: string;

before(async () => {
  h = await openHarness();
  admin = h.adminToken;
});
after(async () => {
  await h?.close();
});

async function createRepo(base: string, slug: string): Promise<string> {
  const res = await call(base, 'POST', '/api/v1/repos', { token: admin, json: { slug } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.uploadToken as string;
}

function upload(base: string, slug: string, sha: string, token: string): Promise<Answer> {
  return call(base, 'POST', `/api/v1/repos/${slug}/commits/${sha}/uploads`, {
    token,
    body: REPORT,
    headers: { 'content-type': 'application/octet-stream' },
  });
}

async function listen(app: FastifyInstance): Promise<Gateway> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return { app, base: `http://127.0.0.1:${addr.port}`, close: () => app.close() };
}

/** Retries `fn` until `ok`; fails after `tries`. For states that settle (pools and channels reconnecting). */
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, tries = 60): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what}: last ${JSON.stringify(last)}`);
}

async function rawBlobs(): Promise<string[]> {
  try {
    return (await readdir(path.join(h.p.config.blobDir, 'raw'))).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

interface Sent {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A POST whose body is written by `write` (which may stall for ever): resolves with the answer,
 * whenever it comes; the request is destroyed then.
 */
function post(base: string, pathname: string, headers: Record<string, string>, write: (req: ReturnType<typeof request>) => void): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${pathname}`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
        req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    write(req);
  });
}

describe('timeouts', () => {
  let g: Gateway;
  let token: string;
  const IDLE_MS = 600;
  before(async () => {
    g = await h.extraGateway((c) => ({ ...c, api: { ...c.api, bodyIdleTimeoutMs: IDLE_MS } }));
    token = await createRepo(g.base, 'slow/body');
  });

  test('a raw body that stalls is cut with 408 request_timeout; no upload row and no blob remain', async () => {
    const sha = newSha();
    const blobsBefore = await rawBlobs();
    const answer = await post(
      g.base,
      `/api/v1/repos/slow/body/commits/${sha}/uploads`,
      { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(REPORT.length * 10) },
      (req) => req.write(REPORT), // a tenth of what it declared, then nothing
    );
    assert.equal(answer.status, 408, answer.body);
    assert.equal(JSON.parse(answer.body).error.code, 'request_timeout');
    assert.equal(answer.headers.connection, 'close');
    assert.deepEqual(await h.p.store.listUploads('slow/body', sha), []);
    assert.deepEqual(await rawBlobs(), blobsBefore);
  });

  test('a multipart body that stalls inside a file part is cut with 408 as well', async () => {
    const sha = newSha();
    const blobsBefore = await rawBlobs();
    const head = '--b0undary\r\nContent-Disposition: form-data; name="file"; filename="lcov.info"\r\nContent-Type: text/plain\r\n\r\n';
    const answer = await post(
      g.base,
      `/api/v1/repos/slow/body/commits/${sha}/uploads`,
      { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=b0undary', 'transfer-encoding': 'chunked' },
      (req) => req.write(head + REPORT.toString()),
    );
    assert.equal(answer.status, 408, answer.body);
    assert.equal(JSON.parse(answer.body).error.code, 'request_timeout');
    assert.deepEqual(await h.p.store.listUploads('slow/body', sha), []);
    assert.deepEqual(await rawBlobs(), blobsBefore);
  });

  test('a JSON body that stalls is cut with 408 too', async () => {
    const answer = await post(
      g.base,
      '/api/v1/repos',
      { authorization: `Bearer ${admin}`, 'content-type': 'application/json', 'content-length': '100' },
      (req) => req.write('{"slug": "slow/'),
    );
    assert.equal(answer.status, 408, answer.body);
    assert.equal(JSON.parse(answer.body).error.code, 'request_timeout');
  });

  test('a body refused before it is read (413) is not timed afterwards: nothing fails once the idle timeout passes', async () => {
    const small = await h.extraGateway((c) => ({ ...c, api: { ...c.api, bodyIdleTimeoutMs: IDLE_MS, maxUploadBytes: 1000 } }));
    const answer = await post(
      small.base,
      `/api/v1/repos/slow/body/commits/${newSha()}/uploads`,
      { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': '5000' },
      (req) => req.write(REPORT),
    );
    assert.equal(answer.status, 413, answer.body);
    // Past the idle timeout of the unread body: an unhandled error here would fail this test.
    await new Promise((r) => setTimeout(r, IDLE_MS * 3));
    assert.equal((await call(small.base, 'GET', '/healthz')).status, 200);
  });

  test('a slow but steady body, taking several idle timeouts in all, is accepted whole', async () => {
    const sha = newSha();
    const chunks = 12;
    const body = Buffer.concat(Array.from({ length: chunks }, () => REPORT));
    const answer = await post(
      g.base,
      `/api/v1/repos/slow/body/commits/${sha}/uploads`,
      { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
      (req) => {
        let i = 0;
        // Every IDLE_MS / 3: about 4 idle timeouts in all, never one without bytes.
        const timer = setInterval(() => {
          req.write(REPORT);
          if (++i === chunks) {
            clearInterval(timer);
            req.end();
          }
        }, IDLE_MS / 3);
      },
    );
    assert.equal(answer.status, 202, answer.body);
    const [row] = await h.p.store.listUploads('slow/body', sha);
    assert.equal(row?.rawBytes, body.length);
  });

  test('a long-poll longer than the body-idle timeout is answered, not cut', async () => {
    const sha = newSha();
    const slow = await h.extraGateway((c) => ({
      ...c,
      api: { ...c.api, bodyIdleTimeoutMs: IDLE_MS },
      pipeline: { ...c.pipeline, debounceMs: 120_000, maxDebounceMs: 240_000, idleTimeoutMs: 600_000 },
    }));
    const accepted = await upload(slow.base, 'slow/body', sha, token);
    assert.equal(accepted.status, 202);
    const id = accepted.body.uploads[0].uploadId as string;
    const polled = await call(slow.base, 'GET', `/api/v1/uploads/${id}?wait=${(IDLE_MS * 3) / 1000}s`, { token });
    assert.equal(polled.status, 200);
    assert.equal(polled.body.state, 'uploaded');
    await h.env.client.workflow.getHandle(`commit:slow/body:${sha}`).terminate('test done');
  });
});

describe('rate limits before authentication', () => {
  test('a failed-auth flood from one address gets 429 with Retry-After; known tokens and the admin keep working', async () => {
    const budget = 4;
    const g = await h.extraGateway((c) => ({ ...c, api: { ...c.api, rateLimitPerMinute: budget } }));
    const known = await createRepo(h.gateway.base, 'flood/known');
    const unseen = await createRepo(h.gateway.base, 'flood/unseen');
    // Authenticated once before the flood: counted on its own budget, not the address's.
    assert.equal((await call(g.base, 'GET', '/api/v1/uploads/none', { token: known })).status, 404);

    const statuses: number[] = [];
    let last: Answer | undefined;
    for (let i = 0; i < budget + 3; i++) {
      last = await call(g.base, 'GET', '/api/v1/uploads/none', { token: `bogus-${i}-${randomUUID()}` });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [...Array(budget).fill(401), 429, 429, 429]);
    assert.equal(last!.body.error.code, 'rate_limited');
    assert.ok(Number(last!.headers.get('retry-after')) > 0, 'Retry-After in seconds');

    // Requests without a token share the address's budget, which is spent.
    assert.equal((await call(g.base, 'GET', '/api/v1/flags')).status, 429);
    // A token that authenticated lately, and the admin, still pass, each on its own budget.
    assert.equal((await call(g.base, 'GET', '/api/v1/uploads/none', { token: known })).status, 404);
    assert.equal((await call(g.base, 'GET', '/api/v1/flags', { token: admin })).status, 200);
    // A valid token this gateway has not seen yet is refused like the flood until the window
    // passes: telling it from a bogus one would take the database lookup the limit is there to spare.
    assert.equal((await call(g.base, 'GET', '/api/v1/uploads/none', { token: unseen })).status, 429);
    // The known token's own budget is still counted: budget - 2 more, then 429.
    const own: number[] = [];
    for (let i = 0; i < budget - 1; i++) own.push((await call(g.base, 'GET', '/api/v1/uploads/none', { token: known })).status);
    assert.deepEqual(own, [404, 404, 429]);
  });
});

describe('dependencies down', () => {
  test('PostgreSQL unreachable: 503 unavailable naming the database, Retry-After, no lookup for a flood over budget; then recovery', async (t) => {
    const pg = databasesUnderTest().find((d) => d.kind === 'postgres');
    assert.ok(pg, 'this test needs TEST_DATABASE_URL naming a PostgreSQL server (npm test starts one)');
    const database: TestDatabase = await pg.create();
    const url = new URL(database.url!);
    const forwarder = await TcpForwarder.open(`${url.hostname}:${url.port || 5432}`);
    url.host = forwarder.address;
    let db: Database | undefined;
    const gateways: Gateway[] = [];
    try {
      db = await openDatabase({ url: url.toString(), connectTimeoutMs: 2_000 });
      const store = new Store(db);
      const serve = async (change: (c: Config) => Config) => {
        const g = await listen(await buildServer({ config: change(h.p.config), store, blobs: h.p.blobs, db: db!, client: h.env.client, adminToken: admin }));
        gateways.push(g);
        return g;
      };
      const g = await serve((c) => c);
      const limited = await serve((c) => ({ ...c, api: { ...c.api, rateLimitPerMinute: 2 } }));
      const token = await createRepo(g.base, 'down/db');
      const sha = newSha();
      assert.equal((await upload(g.base, 'down/db', sha, token)).status, 202);
      for (let i = 0; i < 2; i++) assert.equal((await call(limited.base, 'GET', '/api/v1/uploads/none', { token: `bogus-${i}` })).status, 401);

      await forwarder.down();
      const started = Date.now();
      const refused = await upload(g.base, 'down/db', sha, token);
      t.diagnostic(`503 after ${Date.now() - started} ms`);
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'unavailable');
      assert.match(refused.body.error.message, /database/);
      assert.equal(refused.headers.get('retry-after'), '5');
      const ready = await call(g.base, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.notEqual(ready.body.checks.database, 'ok');
      assert.equal(ready.body.checks.temporal, 'ok');
      assert.equal(ready.headers.get('retry-after'), '5');
      // Over its budget, a bogus token is refused without asking the database: 429, not 503.
      const flood = await call(limited.base, 'GET', '/api/v1/uploads/none', { token: 'bogus-over' });
      assert.equal(flood.status, 429, JSON.stringify(flood.body));

      await forwarder.up();
      const back = await eventually(() => upload(g.base, 'down/db', sha, token), (r) => r.status === 202, 'upload after the database is back');
      assert.equal(back.body.uploads[0].session, 1, 'the refused upload left no session behind');
      assert.equal((await call(g.base, 'GET', '/readyz')).status, 200);
    } finally {
      for (const g of gateways) await g.close();
      await forwarder.down();
      await db?.close();
      await database.dispose();
    }
  });

  test('Temporal unreachable: 503 unavailable naming Temporal, Retry-After; then recovery, and the refused upload is merged too', async (t) => {
    const forwarder = await TcpForwarder.open(h.env.address);
    // The commit's run stays open across the outage, so the batches after it go to the same run.
    const config: Config = { ...h.p.config, dependencyTimeoutMs: 3_000, pipeline: { ...h.p.config.pipeline, idleTimeoutMs: 600_000 } };
    const connection = await connectClient(config, forwarder.address);
    const g = await listen(
      await buildServer({ config, store: h.p.store, blobs: h.p.blobs, db: h.p.db, client: new Client({ connection, namespace: config.temporal.namespace }), adminToken: admin }),
    );
    const sha = newSha();
    try {
      const token = await createRepo(g.base, 'down/temporal');
      assert.equal((await upload(g.base, 'down/temporal', sha, token)).status, 202);

      await forwarder.down();
      const started = Date.now();
      const refused = await upload(g.base, 'down/temporal', sha, token);
      t.diagnostic(`503 after ${Date.now() - started} ms`);
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'unavailable');
      assert.match(refused.body.error.message, /Temporal/);
      assert.equal(refused.headers.get('retry-after'), '5');
      const tasks = await call(g.base, 'GET', '/api/v1/tasks', { token: admin });
      assert.equal(tasks.status, 503);
      const ready = await call(g.base, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.notEqual(ready.body.checks.temporal, 'ok');

      await forwarder.up();
      await eventually(() => upload(g.base, 'down/temporal', sha, token), (r) => r.status === 202, 'upload after Temporal is back');
      // Registered before Temporal was asked, the refused uploads waited in the database and are
      // merged with a later batch: nothing stored is lost.
      const rows = await eventually(
        () => h.p.store.listUploads('down/temporal', sha),
        (us) => us.every((u) => u.state === 'merged'),
        'every upload merged',
        120,
      );
      assert.ok(rows.length >= 3, `${rows.length} uploads`);
    } finally {
      await h.env.client.workflow.getHandle(`commit:down/temporal:${sha}`).terminate('test done').catch(() => undefined);
      await g.close();
      await connection.close();
      await forwarder.down();
    }
  });
});

describe('processes started before Temporal', () => {
  async function until(read: () => Promise<string> | string, pattern: RegExp, what: string, ms = 60_000): Promise<RegExpMatchArray> {
    const end = Date.now() + ms;
    for (;;) {
      const text = await read();
      const m = text.match(pattern);
      if (m) return m;
      if (Date.now() > end) assert.fail(`${what}: no ${pattern} in\n${text}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test('the gateway waits for Temporal, logging each attempt, and serves once it is up', async () => {
    const forwarder = await TcpForwarder.open(h.env.address, { down: true });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tributary-wait-gw-'));
    const port = await freePort();
    let output = '';
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/gateway.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        TRIBUTARY_DATA_DIR: dataDir,
        TEMPORAL_ADDRESS: forwarder.address,
        TRIBUTARY_API_PORT: String(port),
        TRIBUTARY_ADMIN_TOKEN: admin,
        TRIBUTARY_DEPENDENCY_TIMEOUT: '500ms',
        DATABASE_URL: '',
        TRIBUTARY_BLOB_STORE: '',
        LOG_LEVEL: 'WARN',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const line = new RegExp(`waiting for Temporal at ${forwarder.address.replace(/\./g, '\\.')}: .+; retrying in \\d+(\\.\\d)?s`, 'g');
      await until(() => output, line, 'a wait line');
      await until(() => String((output.match(line) ?? []).length), /^[2-9]|\d\d/, 'a second attempt');
      assert.equal(child.exitCode, null, 'still running while Temporal is down');

      await forwarder.up();
      const [, url] = await until(() => output, /Tributary gateway on (http:\/\/\S+) /, 'the gateway coming up');
      const ready = await call(url!, 'GET', '/readyz');
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await forwarder.down();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('the worker waits for Temporal and polls once it is up; with a bound it gives up with a clear message', async () => {
    const forwarder = await TcpForwarder.open(h.env.address, { down: true });
    const bounded = await TcpForwarder.open(h.env.address, { down: true });
    const dir = await mkdtemp(path.join(tmpdir(), 'tributary-wait-worker-'));
    const log = path.join(dir, 'worker.log');
    const boundedLog = path.join(dir, 'bounded.log');
    const common = { DATABASE_URL: '', TRIBUTARY_BLOB_STORE: '', TEMPORAL_TASK_QUEUE: `wait-${randomUUID()}` };
    const worker = spawnWorker({ ...common, TEMPORAL_ADDRESS: forwarder.address, TRIBUTARY_DATA_DIR: path.join(dir, 'a') }, log);
    const giveUp = spawnWorker(
      { ...common, TEMPORAL_ADDRESS: bounded.address, TRIBUTARY_DATA_DIR: path.join(dir, 'b'), TRIBUTARY_STARTUP_TIMEOUT: '1s' },
      boundedLog,
    );
    const read = (file: string) => readFile(file, 'utf8').catch(() => '');
    try {
      await until(() => read(log), /waiting for Temporal at 127\.0\.0\.1:\d+: .+; retrying in/, 'a wait line');
      assert.equal(worker.child.exitCode, null, 'still running while Temporal is down');
      await forwarder.up();
      await until(() => read(log), /worker polling task queue/, 'the worker polling');

      assert.equal(await giveUp.exited, 1);
      assert.match(await read(boundedLog), new RegExp(`gave up waiting for Temporal at ${bounded.address.replace(/\./g, '\\.')} after \\d`));
    } finally {
      await worker.kill('SIGTERM');
      await giveUp.kill('SIGKILL');
      await forwarder.down();
      await bounded.down();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
