/**
 * Nothing accepted is lost and nothing is counted twice through crashes: the worker process is
 * killed with SIGKILL in the middle of a parallel batch, and the dev server is killed and restarted
 * on its SQLite file; in both cases the commit completes with a report byte-identical to an
 * undisturbed run. Workers run as child processes (`src/worker.ts`) sharing a PostgreSQL database
 * with the test, which needs TEST_DATABASE_URL (the test command starts a local server).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { commitWorkflowId } from '../../src/workflows/commit-contracts';
import { startDevServer, type RunningDevServer } from '../../src/temporal/dev-server';
import { temporalTools } from '../../src/temporal/tools';
import { databasesUnderTest, type TestDatabase } from '../support/database';
import { corpusFiles, newSha, Pipeline, type CorpusFile } from '../support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';
import { spawnWorker } from '../support/worker-process';
import { freePort } from '../support/ports';

const postgres = databasesUnderTest().find((d) => d.kind === 'postgres');
if (!postgres) {
  throw new Error('the crash tests share a database between processes: set TEST_DATABASE_URL (npm test starts a local PostgreSQL)');
}

let corpus: CorpusFile[];
let workDir: string;
before(async () => {
  corpus = await corpusFiles();
  workDir = await mkdtemp(path.join(tmpdir(), 'tributary-crash-'));
});
after(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const UPLOADS = 40;

function uploadsFor(): CorpusFile[] {
  return Array.from({ length: UPLOADS }, (_, i) => corpus[i % corpus.length] as CorpusFile);
}

/** Completed processor activities in the workflow's history so far. */
async function processedSoFar(client: Client, workflowId: string): Promise<{ processed: number; finished: number }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  let processed = 0;
  let finished = 0;
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const type = scheduled.get(String(c.scheduledEventId));
      if (type === 'processUpload') processed++;
      if (type === 'finishCommit') finished++;
    }
  }
  return { processed, finished };
}

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Setup {
  pipeline: Pipeline;
  database: TestDatabase;
  workerEnv: Record<string, string>;
}

async function setup(client: Client, connection: NativeConnection, address: string): Promise<Setup> {
  const database = await postgres!.create();
  const pipeline = await Pipeline.open({
    client,
    connection,
    bundle: await bundleWorkflows(),
    database,
    // A narrow window keeps the batch in flight long enough to be interrupted; one upload per
    // processor activity, so the history shows how far the batch got (processedSoFar).
    env: { TRIBUTARY_MAX_PARALLEL: '2', TRIBUTARY_DEBOUNCE: '500ms', TRIBUTARY_IDLE_TIMEOUT: '2s', TRIBUTARY_PROCESS_CHUNK: '1' },
  });
  const url = database.url;
  if (!url) throw new Error('the PostgreSQL test database has no URL');
  return {
    pipeline,
    database,
    workerEnv: {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: pipeline.config.temporal.taskQueue,
      TRIBUTARY_DATA_DIR: pipeline.config.dataDir,
      DATABASE_URL: url,
    },
  };
}

async function assertSameAsUndisturbed(p: Pipeline, repo: string, calm: string, sha: string, files: CorpusFile[]): Promise<void> {
  const result = await p.result(repo, sha);
  assert.equal(result.merged, files.length);
  assert.equal(result.errors, 0);
  assert.equal(result.totals?.sessions, files.length, 'every upload counted once');
  const uploads = await p.store.listUploads(repo, sha);
  assert.deepEqual([...new Set(uploads.map((u) => u.state))], ['merged']);
  assert.deepEqual(uploads.map((u) => u.session), files.map((_, i) => i));
  for (const f of files) await p.upload(calm, sha, f);
  await p.result(calm, sha);
  assert.ok((await p.reportBytes(repo, sha)).equals(await p.reportBytes(calm, sha)), 'identical to an undisturbed run');
}

describe('crashes (dev server, worker in a child process, PostgreSQL)', () => {
  test('the worker killed with SIGKILL mid-batch and restarted: same report, nothing counted twice', async () => {
    const env: TestWorkflowEnvironment = await createDevServerEnv();
    const address = env.connection.options.address;
    const { pipeline: p, workerEnv } = await setup(env.client, env.nativeConnection, address);
    const log = path.join(workDir, 'worker-kill.log');
    try {
      const repo = await p.repo('crash/worker', 'parallel');
      const calm = await p.repo('crash/worker-calm', 'parallel');
      const sha = newSha();
      const files = uploadsFor();
      let worker = spawnWorker(workerEnv, log);
      for (const f of files) await p.upload(repo, sha, f);
      const id = commitWorkflowId(repo, sha);
      await waitUntil('the batch to be half processed', async () => (await processedSoFar(env.client, id)).processed >= 8);
      const before = await processedSoFar(env.client, id);
      await worker.kill('SIGKILL');
      assert.equal(before.finished, 0, 'killed before the finisher ran');
      assert.ok(before.processed < files.length, 'killed in the middle of the batch');

      worker = spawnWorker(workerEnv, log);
      try {
        await assertSameAsUndisturbed(p, repo, calm, sha, files);
      } finally {
        await worker.kill('SIGTERM');
      }
    } finally {
      await p.close();
      await env.teardown();
    }
  });

  test('the dev server killed mid-batch and restarted on its SQLite file: same report', async () => {
    const cli = temporalTools().temporalCli;
    assert.ok(cli, 'the Temporal CLI is provided by scripts/temporal-tools.mjs');
    const port = await freePort();
    const serverDir = path.join(workDir, 'server');
    const serverOpts = { cliPath: cli, dataDir: serverDir, port, uiPort: await freePort(), namespace: 'default' };
    let server: RunningDevServer = await startDevServer(serverOpts);
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const native = await NativeConnection.connect({ address: server.address });
    const { pipeline: p, workerEnv } = await setup(client, native, server.address);
    const log = path.join(workDir, 'server-restart.log');
    const worker = spawnWorker(workerEnv, log);
    try {
      const repo = await p.repo('crash/server', 'parallel');
      const calm = await p.repo('crash/server-calm', 'parallel');
      const sha = newSha();
      const files = uploadsFor();
      for (const f of files) await p.upload(repo, sha, f);
      const id = commitWorkflowId(repo, sha);
      await waitUntil('the batch to be half processed', async () => (await processedSoFar(client, id)).processed >= 8);
      await server.kill();
      server = await startDevServer(serverOpts);
      await assertSameAsUndisturbed(p, repo, calm, sha, files);
    } finally {
      await worker.kill('SIGTERM');
      await p.close();
      await native.close();
      await connection.close();
      await server.stop();
    }
  });
});
