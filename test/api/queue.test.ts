/**
 * The queue as the gateway shows it, driven for real: uploads registered while no worker runs,
 * then a worker with one activity slot whose processor is held, so some uploads are processing
 * and the rest wait. GET /api/v1/queue, each upload's status and /metrics are checked against
 * the uploads table itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server';
import { generateToken } from '../../src/api/tokens';
import { databasesUnderTest } from '../support/database';
import { corpusFiles, newSha, Pipeline, type CorpusFile } from '../support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';

/** percentile_cont: linear between the two closest ranks. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

const close = (a: number | null, b: number | null, what: string) => {
  if (a === null || b === null) return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) < 0.01, `${what}: ${a} vs ${b}`);
};

const targets = databasesUnderTest();
const target = targets[targets.length - 1]!;

describe(`the queue through the gateway (${target.kind})`, () => {
  let env: TestWorkflowEnvironment;
  let p: Pipeline;
  let app: FastifyInstance;
  let file: CorpusFile;
  const adminToken = generateToken();
  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(res.statusCode, 200, res.body);
    return res;
  };

  before(async () => {
    const [e, bundle, corpus] = await Promise.all([createDevServerEnv(), bundleWorkflows(), corpusFiles()]);
    env = e;
    file = corpus.find((f) => f.name === 'negotiator-nyc/lcov.info')!;
    p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await target.create(), env: { TRIBUTARY_WORKER_ACTIVITY_SLOTS: '1' } });
    app = await buildServer({ config: p.config, store: p.store, blobs: p.blobs, db: p.db, client: env.client, adminToken, logLevel: false });
  });
  after(async () => {
    await app?.close();
    await p?.close();
    await env?.teardown();
  });

  /** The uploads table, as the figures should come out of it. */
  async function fromDatabase() {
    const rows = await p.db.query<{ id: string; slug: string; state: string; queued: number | null; merged_ago: number | null; started_ago: number | null }>(
      `SELECT u.id, r.slug, u.state, extract(epoch FROM u.processing_started_at - u.created_at)::float8 AS queued,
              extract(epoch FROM now() - u.merged_at)::float8 AS merged_ago, extract(epoch FROM now() - u.processing_started_at)::float8 AS started_ago
       FROM uploads u JOIN commits c ON c.id = u.commit_id JOIN repositories r ON r.id = c.repository_id`,
    );
    const waiting = rows.filter((r) => r.state === 'uploaded');
    const processing = rows.filter((r) => r.state === 'processing' || r.state === 'processed');
    const startedWithin = (min: number) => rows.filter((r) => r.started_ago !== null && r.started_ago <= min * 60).map((r) => r.queued!);
    const mergedWithin = (min: number) => rows.filter((r) => r.merged_ago !== null && r.merged_ago <= min * 60).length;
    return { rows, waiting, processing, startedWithin, mergedWithin };
  }

  test('a backlog, then one held processor: counts, ages, queue times, throughput and estimates match the database', async () => {
    const repos = [await p.repo('waiting/a', 'serial'), await p.repo('waiting/b', 'serial')];
    const shas = [newSha(), newSha()];
    const ids: string[] = [];
    // No worker yet: everything waits.
    for (let i = 0; i < 3; i++) for (const [k, repo] of repos.entries()) ids.push((await p.upload(repo, shas[k]!, file)).uploadId);
    let q = (await get('/api/v1/queue')).json();
    let db = await fromDatabase();
    assert.equal(q.total.waiting, 6);
    assert.equal(q.total.waiting, db.waiting.length);
    assert.equal(q.total.processing, 0);
    assert.deepEqual(
      q.repositories.map((r: { repo: string; waiting: number }) => [r.repo, r.waiting]),
      [
        ['waiting/a', 3],
        ['waiting/b', 3],
      ],
    );
    assert.ok(q.total.oldestWaitingAge > 0);
    assert.equal(q.total.estimatedWait, null, 'nothing merged yet: no rate to estimate from');
    const waitingStatus = (await get(`/api/v1/uploads/${ids[5]}`)).json();
    assert.equal(waitingStatus.state, 'uploaded');
    assert.ok(waitingStatus.queuedFor > 0 && waitingStatus.queuedFor <= q.total.oldestWaitingAge + 1);
    assert.equal(waitingStatus.estimatedWait, null);
    // The first scrape starts the queue-time histogram; only later processing starts are observed.
    assert.match((await get('/metrics')).body, /tributary_queue_uploads\{state="waiting"\} 6\b/);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const worker = await p.worker((real) => ({
      ...real,
      processUpload: async (input) => {
        await gate;
        return real.processUpload(input);
      },
    }));
    await worker.runUntil(async () => {
      try {
        await heldFigures();
      } finally {
        // A worker stops only once its activities have: never leave the held one waiting.
        release();
      }
      for (const [k, repo] of repos.entries()) assert.equal((await p.result(repo, shas[k]!)).merged, 4);
    });
    async function heldFigures() {
      // One slot, held by the first processor: one commit's batch is processing, the other waits.
      for (let i = 0; i < 200 && (await fromDatabase()).processing.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      // While the slot is held, more uploads arrive: their commits' workflows are busy, so they wait.
      for (const [k, repo] of repos.entries()) await p.upload(repo, shas[k]!, file);
      await new Promise((r) => setTimeout(r, 500));
      q = (await get('/api/v1/queue')).json();
      db = await fromDatabase();
      assert.ok(db.processing.length > 0 && db.waiting.length > 0, `processing ${db.processing.length}, waiting ${db.waiting.length}`);
      assert.equal(q.total.processing, db.processing.length);
      assert.equal(q.total.waiting, db.waiting.length);
      for (const r of q.repositories) {
        assert.equal(r.waiting, db.waiting.filter((w) => w.slug === r.repo).length, r.repo);
        assert.equal(r.processing, db.processing.filter((w) => w.slug === r.repo).length, r.repo);
      }
      for (const w of q.windows) {
        assert.equal(w.started, db.startedWithin(w.minutes).length);
        close(w.queueTimeP50, percentile(db.startedWithin(w.minutes), 0.5), `p50 over ${w.minutes}m`);
        close(w.queueTimeP95, percentile(db.startedWithin(w.minutes), 0.95), `p95 over ${w.minutes}m`);
      }
      const claimed = (await get(`/api/v1/uploads/${db.processing[0]!.id}`)).json();
      close(claimed.queuedFor, db.processing[0]!.queued, 'a processing upload shows the queue time it had');
      assert.equal(claimed.estimatedWait, null);
    }

    db = await fromDatabase();
    q = (await get('/api/v1/queue')).json();
    assert.deepEqual([q.total.waiting, q.total.processing], [0, 0]);
    for (const w of q.windows) close(w.mergedPerMinute, db.mergedWithin(w.minutes) / w.minutes, `merged per minute over ${w.minutes}m`);
    assert.equal(q.windows[0].mergedPerMinute, 8 / 5);

    // Every processing start settles into the histogram once (settling takes 2 s).
    await new Promise((r) => setTimeout(r, 2_500));
    const metrics = (await get('/metrics')).body;
    assert.match(metrics, new RegExp(`tributary_queue_time_seconds_count ${db.rows.filter((r) => r.queued !== null).length}\\b`));
    assert.match(metrics, /tributary_queue_uploads\{state="processing"\} 0\b/);
    assert.match(metrics, /tributary_queue_oldest_waiting_seconds 0\b/);

    // A new backlog with a known rate: the estimate is the uploads ahead over the recent rate.
    const more: string[] = [];
    for (let i = 0; i < 3; i++) more.push((await p.upload(repos[0]!, newSha(), file)).uploadId);
    const last = (await get(`/api/v1/uploads/${more[2]}`)).json();
    const rate = (await fromDatabase()).mergedWithin(5) / 5;
    assert.equal(last.estimatedWait, Math.round((2 / rate) * 60));
    q = (await get('/api/v1/queue')).json();
    assert.equal(q.total.estimatedWait, Math.round((3 / rate) * 60));
  });
});
