/**
 * A production-shaped deployment under faults: two gateways and two workers as separate processes
 * on one PostgreSQL database, the real S3 server and one Temporal server. 300 uploads over 30
 * commits (serial, parallel and experiment repositories) are sent the way a CI client sends them:
 * each with an Idempotency-Key, retried on another gateway when a request fails. While they flow,
 * one worker and one gateway are killed with SIGKILL, and Temporal is stopped for 20 s and started
 * again on its database file. Every acknowledged upload must end `merged` or `error`, none twice,
 * and every commit's report must equal `tributary parse --json` of its files in session order.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { toParseJson } from '../../src/coverage/json-output';
import { readReport } from '../../src/coverage/report-format';
import { openBlobStore } from '../../src/storage/open-blob-store';
import { openDatabase } from '../../src/storage/database';
import { Store } from '../../src/storage/store';
import { startDevServer, type RunningDevServer } from '../../src/temporal/dev-server';
import { temporalTools } from '../../src/temporal/tools';
import { loadConfig } from '../../src/config';
import type { UploadMode } from '../../src/vocabulary';
import { call } from '../api/harness';
import { databasesUnderTest } from '../support/database';
import { corpusFiles, newSha, type CorpusFile } from '../support/pipeline';
import { freePort } from '../support/ports';
import { realS3, type S3UnderTest } from '../support/s3';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';
import { localParse } from '../support/local-parse';

const ROOT = path.resolve(__dirname, '../..');
const COMMITS = 30;
const UPLOADS_PER_COMMIT = 10;
/** Jobs sent before Temporal is stopped; then the late commits' jobs come first. */
const BEFORE_OUTAGE = 120;
const LATE_COMMITS = 3;
const SENDERS = 8;
const MODES: UploadMode[] = ['serial', 'parallel', 'experiment'];

const postgres = databasesUnderTest().find((d) => d.kind === 'postgres');
if (!postgres) throw new Error('the production-shaped test shares a database between processes: set TEST_DATABASE_URL');

interface GatewayProcess {
  child: ChildProcess;
  base: string;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

function spawnGateway(env: Record<string, string>, port: number, logFile: string): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/api/gateway.ts')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'WARN', ...env, TRIBUTARY_API_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      log.write(d);
      out += d.toString();
      const m = out.match(/Tributary gateway on (http:\/\/\S+) /);
      if (m) resolve({ child, base: m[1]!, exited, kill });
    });
    void exited.then((code) => reject(new Error(`the gateway exited (${code}) before listening; see ${logFile}`)));
  });
}

async function waitForLine(file: string, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!pattern.test(await readFile(file, 'utf8').catch(() => ''))) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in ${file}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One CI job's upload: sent until some gateway acknowledges it, with the same Idempotency-Key. */
async function sendUntilAcknowledged(
  gateways: () => string[],
  slug: string,
  sha: string,
  token: string,
  file: CorpusFile,
  key: string,
): Promise<{ uploadId: string; attempts: number }> {
  const deadline = Date.now() + 180_000;
  for (let attempt = 1; ; attempt++) {
    const live = gateways();
    const base = live[attempt % live.length]!;
    try {
      const res = await call(base, 'POST', `/api/v1/repos/${slug}/commits/${sha}/uploads`, {
        token,
        body: new Uint8Array(file.body),
        headers: { 'content-type': 'application/octet-stream', 'idempotency-key': key },
      });
      if (res.status === 202) return { uploadId: res.body.uploads[0].uploadId as string, attempts: attempt };
      // A client retries what the server says may succeed later, and nothing else.
      assert.ok(res.status >= 500 || res.status === 429, `${slug}@${sha} ${key}: ${res.status} ${JSON.stringify(res.body)}`);
      const wait = Number(res.headers.get('retry-after') ?? '1');
      await new Promise((r) => setTimeout(r, Math.min(wait, 2) * 1000));
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      // The connection failed (the gateway was killed): try another one at once.
      await new Promise((r) => setTimeout(r, 100));
    }
    if (Date.now() > deadline) throw new Error(`${slug}@${sha} ${key} was never acknowledged`);
  }
}

let corpus: CorpusFile[];
let workDir: string;
let s3: S3UnderTest;
before(async () => {
  corpus = await corpusFiles();
  workDir = await mkdtemp(path.join(tmpdir(), 'tributary-production-'));
  s3 = await realS3();
});
after(async () => {
  await s3?.release();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('production-shaped deployment (2 gateways, 2 workers, PostgreSQL, S3, one Temporal server)', () => {
  test('300 uploads over 30 commits through SIGKILLed processes and a 20 s Temporal outage: every acknowledged upload ends once, reports exact', async () => {
    const cli = temporalTools().temporalCli;
    assert.ok(cli, 'the Temporal CLI is provided by scripts/temporal-tools.mjs');
    const serverOpts = { cliPath: cli, dataDir: path.join(workDir, 'temporal'), port: await freePort(), uiPort: await freePort(), namespace: 'default' };
    let server: RunningDevServer = await startDevServer(serverOpts);
    const database = await postgres.create();
    const admin = randomBytes(24).toString('hex');
    const env: Record<string, string> = {
      ...s3.configEnv(),
      S3_BUCKET: s3.bucket,
      DATABASE_URL: database.url!,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_TASK_QUEUE: `production-${randomBytes(4).toString('hex')}`,
      TRIBUTARY_ADMIN_TOKEN: admin,
      TRIBUTARY_DATA_DIR: path.join(workDir, 'data'),
      TRIBUTARY_IDLE_TIMEOUT: '5s',
      // The reconciler closes the gap of registrations whose nudge met the outage; a short period
      // keeps the test short, the logic is the same as the minute of production.
      TRIBUTARY_RECONCILE_EVERY: '5s',
      TRIBUTARY_RECONCILE_AFTER: '5s',
      TRIBUTARY_DEPENDENCY_TIMEOUT: '1s',
      TRIBUTARY_RATE_LIMIT: '100000',
    };
    const log = (name: string) => path.join(workDir, `${name}.log`);
    const workers: WorkerProcess[] = [spawnWorker(env, log('worker-a')), spawnWorker(env, log('worker-b'))];
    const gateways: GatewayProcess[] = await Promise.all([
      spawnGateway(env, await freePort(), log('gateway-a')),
      spawnGateway(env, await freePort(), log('gateway-b')),
    ]);
    const alive = new Set(gateways);
    const live = () => [...alive].map((g) => g.base);
    // The test reads what the processes wrote, through the same database and bucket.
    const config = loadConfig({ ...process.env, ...env });
    const db = await openDatabase({ url: database.url });
    const store = new Store(db);
    const blobs = openBlobStore(config);
    try {
      const commits: { slug: string; sha: string; token: string; files: CorpusFile[] }[] = [];
      for (let c = 0; c < COMMITS; c++) {
        const slug = `prod/repo-${c}`;
        const made = await call(gateways[0]!.base, 'POST', '/api/v1/repos', { token: admin, json: { slug } });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        const mode = await call(gateways[0]!.base, 'PUT', `/api/v1/repos/${slug}/mode`, { token: admin, json: { mode: MODES[c % MODES.length] } });
        assert.equal(mode.status, 200, JSON.stringify(mode.body));
        const files = Array.from({ length: UPLOADS_PER_COMMIT }, (_, i) => corpus[(c + i) % corpus.length]!);
        commits.push({ slug, sha: newSha(), token: made.body.uploadToken as string, files });
      }
      const all = commits.flatMap((c) => c.files.map((file, i) => ({ ...c, file, key: `job-${i}` })));
      // Interleave commits, as many CI pipelines do at once.
      all.sort((a, b) => a.key.localeCompare(b.key) || a.slug.localeCompare(b.slug));
      // The last commits' uploads start when Temporal has just gone away (after the first
      // BEFORE_OUTAGE jobs): no run, so no promise of a next claim, and their nudges fail until it
      // is back; the clients send again. The other commits' runs hold batches and promised their
      // next claims, so their uploads are acknowledged through the outage.
      const late = new Set(commits.slice(-LATE_COMMITS).map((c) => c.slug));
      const early = all.filter((j) => !late.has(j.slug));
      const jobs = [...early.slice(0, BEFORE_OUTAGE), ...all.filter((j) => late.has(j.slug)), ...early.slice(BEFORE_OUTAGE)];
      const acknowledged = new Map<string, { slug: string; sha: string; file: CorpusFile }>();

      let next = 0;
      // The senders stop at each fault until it has happened, so every fault meets traffic however
      // fast the machine is: 60 jobs, the SIGKILLs, 60 more, Temporal stopped, the rest.
      let allowed = 60;
      let retried = 0;
      let downAt = -1;
      const senders = Array.from({ length: SENDERS }, async () => {
        while (next < jobs.length) {
          if (next >= allowed) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          const job = jobs[next++]!;
          const { uploadId, attempts } = await sendUntilAcknowledged(live, job.slug, job.sha, job.token, job.file, job.key);
          if (attempts > 1) retried++;
          assert.ok(!acknowledged.has(uploadId), `upload ${uploadId} acknowledged for two jobs`);
          acknowledged.set(uploadId, { slug: job.slug, sha: job.sha, file: job.file });
        }
      });
      const faults = (async () => {
        const until = async (n: number) => {
          while (acknowledged.size < n) await new Promise((r) => setTimeout(r, 50));
        };
        // The faults hit a deployment that is up: both workers have merged uploads. (A worker that is
        // still starting when Temporal goes away exits, as it should, for its supervisor to restart.)
        const merged = async () => (await Promise.all([...acknowledged.keys()].map((id) => store.getUpload(id)))).filter((u) => u?.state === 'merged').length;
        const mergedBeyond = async (n: number) => {
          while ((await merged()) <= n) await new Promise((r) => setTimeout(r, 100));
        };
        await until(60);
        await Promise.all(workers.map((w, i) => waitForLine(log(i === 0 ? 'worker-a' : 'worker-b'), /worker polling task queue/)));
        await mergedBeyond(0);
        await workers[0]!.kill('SIGKILL');
        alive.delete(gateways[0]!);
        await gateways[0]!.kill('SIGKILL');
        allowed = BEFORE_OUTAGE;
        await until(120);
        // The surviving worker is processing before Temporal goes away.
        await mergedBeyond(await merged());
        await server.kill();
        downAt = acknowledged.size;
        allowed = jobs.length;
        await new Promise((r) => setTimeout(r, 20_000));
        server = await startDevServer(serverOpts);
      })();
      await Promise.all([...senders, faults]);
      assert.equal(acknowledged.size, jobs.length, 'every job acknowledged exactly once');
      // The faults must have met traffic, or this test proves nothing. (Uploads to a commit whose run
      // has promised its next claim are acknowledged during the outage too.)
      assert.ok(downAt < jobs.length, `uploads still to send when Temporal went away (${downAt} of ${jobs.length} acknowledged by then)`);
      assert.ok(retried > 0, 'some uploads had to be sent again');

      const deadline = Date.now() + 240_000;
      for (;;) {
        const rows = (await Promise.all(commits.map((c) => store.listUploads(c.slug, c.sha)))).flat();
        const open = rows.filter((r) => r.state !== 'merged' && r.state !== 'error');
        if (open.length === 0) break;
        if (Date.now() > deadline) assert.fail(`uploads never ended: ${JSON.stringify(open.slice(0, 5).map((r) => [r.uploadId, r.state]))} (${open.length} in all)`);
        await new Promise((r) => setTimeout(r, 500));
      }

      for (const c of commits) {
        const rows = await store.listUploads(c.slug, c.sha);
        assert.equal(rows.length, UPLOADS_PER_COMMIT, `${c.slug}: one registration per job`);
        for (const r of rows) assert.ok(acknowledged.has(r.uploadId), `${c.slug}: upload ${r.uploadId} registered but never acknowledged`);
        assert.deepEqual(rows.map((r) => r.state), rows.map(() => 'merged'), `${c.slug}: every corpus upload merges`);
        assert.deepEqual(rows.map((r) => r.session), rows.map((_, i) => i), `${c.slug}: sessions 0..n-1, none twice`);
        const saved = await store.getCommitReport(c.slug, c.sha);
        assert.ok(saved, `${c.slug}: a report is saved`);
        const remote = toParseJson(readReport((await blobs.get(saved.reportKey))!));
        const local = await localParse(rows.map((r) => acknowledged.get(r.uploadId)!.file));
        assert.equal(JSON.stringify(remote.totals), JSON.stringify(local.totals), `${c.slug}: totals as tributary parse`);
        assert.equal(JSON.stringify(remote.files), JSON.stringify(local.files), `${c.slug}: files as tributary parse`);
      }
    } catch (err) {
      for (const name of ['worker-a', 'worker-b', 'gateway-a', 'gateway-b']) {
        const text = await readFile(log(name), 'utf8').catch(() => '');
        console.error(`--- ${name} (last lines)\n${text.split('\n').slice(-30).join('\n')}`);
      }
      throw err;
    } finally {
      await Promise.all([...workers.map((w) => w.kill('SIGTERM')), ...gateways.map((g) => g.kill('SIGTERM'))]);
      await db.close();
      await server.stop();
    }
  });
});
