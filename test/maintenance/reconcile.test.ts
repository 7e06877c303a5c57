/**
 * The maintenance schedules on a real Temporal dev server, with the real activities over a real
 * database (PGlite, and PostgreSQL when TEST_DATABASE_URL is set): an upload whose nudge failed
 * is merged through the reconcile schedule a worker start triggers; a run terminated mid-batch
 * has its uploads merged by the reconciler without a new upload; applySchedule twice (or at once)
 * is one schedule with the latest spec; `tributary gc` prints what would go, deletes it, and the
 * merged report stays readable.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, createMaintenanceActivities, type ActivityDeps } from '../../src/activities';
import { runCli } from '../../src/cli/main';
import { readFileChunks } from '../../src/cli/io';
import { registerUpload } from '../../src/services/register-upload';
import { keys } from '../../src/storage/blob-store';
import { applySchedule, RECONCILE_SCHEDULE_ID, startMaintenance } from '../../src/temporal/schedules';
import { createWorker } from '../../src/worker';
import { reconcileWorkflow } from '../../src/workflows';
import type { GcSummary } from '../../src/workflows/maintenance';
import { commitWorkflowId } from '../../src/workflows/commit-contracts';
import { databasesUnderTest } from '../support/database';
import { corpusFiles, newSha, Pipeline, type CorpusFile } from '../support/pipeline';
import { freePort } from '../support/ports';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';
import { pickCorpus } from '../support/local-parse';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let corpus: CorpusFile[];

before(async () => {
  [env, bundle, corpus] = await Promise.all([createDevServerEnv(), bundleWorkflows(), corpusFiles()]);
});
after(async () => {
  await env?.teardown();
});

async function waitUntil(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A worker as the entry points build it: the real activities, the Temporal client for the reconciler. */
function workerOf(p: Pipeline, wrap?: (deps: ActivityDeps) => ReturnType<typeof createActivities>): Promise<Worker> {
  const deps: ActivityDeps = { ...p.deps, temporal: { client: env.client, config: p.config } };
  return createWorker({
    connection: env.nativeConnection,
    config: p.config,
    deps,
    overrides: {
      workflowBundle: bundle,
      workflowsPath: undefined,
      ...(wrap ? { activities: { ...wrap(deps), ...createMaintenanceActivities(deps) } } : {}),
    },
  });
}

for (const target of databasesUnderTest()) {
  describe(`the reconciler (dev server, ${target.kind})`, () => {
    let p: Pipeline;
    before(async () => {
      p = await Pipeline.open({
        client: env.client,
        connection: env.nativeConnection,
        bundle,
        database: await target.create(),
        env: { TRIBUTARY_RECONCILE_AFTER: '500ms', TRIBUTARY_IDLE_TIMEOUT: '1s' },
      });
    });
    after(async () => {
      await p?.close();
    });

    test('a registration whose nudge failed (Temporal unreachable) is merged through the reconcile schedule a worker start triggers, with no other upload', async () => {
      const repo = await p.repo('nudge/app', 'parallel');
      const sha = newSha();
      const [file] = pickCorpus(corpus, 'negotiator-nyc/lcov.info');
      // A client of a port nothing listens on, without the SDK's retries: the signal fails fast.
      const dead = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 1_000, interceptors: [] }) });
      await assert.rejects(registerUpload({ client: dead, blobs: p.blobs, store: p.store, config: p.config }, { repo, sha, body: file!.body, name: file!.name }));
      const [row] = await p.store.listUploads(repo, sha);
      assert.equal(row?.state, 'uploaded', 'the row committed before the nudge failed');
      await assert.rejects(env.client.workflow.getHandle(commitWorkflowId(repo, sha)).describe(), 'no workflow was started');

      const worker = await workerOf(p);
      await worker.runUntil(async () => {
        await sleep(600); // past TRIBUTARY_RECONCILE_AFTER
        await startMaintenance(env.client, p.config);
        // A liveness bound, not a speed one: on a loaded machine the schedule's first run and the
        // worker's start can take well over a minute together.
        await waitUntil('the upload merged', async () => (await p.store.getUpload(row!.uploadId))?.state === 'merged', 180_000);
        const schedule = await env.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe();
        assert.equal(schedule.policies.overlap, 'SKIP');
        assert.equal(schedule.action.type, 'startWorkflow');
        assert.ok(schedule.info.recentActions.length >= 1, 'the start triggered a run');
        const result = await p.result(repo, sha);
        assert.equal(result.merged, 1);
        assert.equal(result.totals?.sessions, 1);
      });
    });

    test('a run terminated mid-batch: the reconciler releases its claims and the next run merges every upload once, without a new upload', async () => {
      const repo = await p.repo('terminated/app', 'parallel');
      const sha = newSha();
      const files = pickCorpus(corpus, 'negotiator-nyc/lcov.info', 'tomli-misc/coverage-py.xml', 'negotiator-c8/lcov.info');
      let heldRun: string | undefined;
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      let held = 0;
      const late: Promise<unknown>[] = [];
      // The first run's processors of sessions 1 and 2 block until the test lets them go.
      const worker = await workerOf(p, (deps) => {
        const real = createActivities(deps);
        return {
          ...real,
          processUpload: async (input) => {
            const runId = Context.current().info.workflowExecution?.runId;
            if (input.sha !== sha || input.session === 0 || (heldRun !== undefined && heldRun !== runId)) return real.processUpload(input);
            heldRun = runId;
            held++;
            const outcome = opened.then(() => real.processUpload(input));
            late.push(outcome.catch((err: unknown) => err));
            return outcome;
          },
        };
      });
      await worker.runUntil(async () => {
        try {
          for (const f of files) await p.upload(repo, sha, f);
          const handle = env.client.workflow.getHandle(commitWorkflowId(repo, sha));
          await waitUntil('two processors held, the first upload processed', async () => held === 2 && (await p.store.listUploads(repo, sha))[0]?.state === 'processed');
          await handle.terminate('operator: stuck');
          assert.deepEqual((await p.store.listUploads(repo, sha)).map((r) => r.state), ['processed', 'processing', 'processing']);

          const reconcile = () =>
            env.client.workflow.execute(reconcileWorkflow, { workflowId: `reconcile-${randomUUID()}`, taskQueue: p.config.temporal.taskQueue, args: [{ olderThanMs: 0 }] });
          const first = await reconcile();
          assert.equal(first.released, 3, 'the terminated run’s three claims');
          assert.equal(first.nudged, 1);
          const result = await handle.result();
          assert.equal(result.merged, 3);
          assert.equal(result.version, 1, 'the new run merged the batch once');
          assert.equal(result.totals?.sessions, 3);
          const merged = await p.store.listUploads(repo, sha);
          assert.deepEqual([...new Set(merged.map((r) => r.state))], ['merged']);

          // Again, with everything merged: nothing to do.
          const again = await reconcile();
          assert.deepEqual({ released: again.released, nudged: again.nudged }, { released: 0, nudged: 0 });
          // The held processors of the dead run finish late: nothing moves.
          open();
          await Promise.all(late);
          assert.deepEqual(
            (await p.store.listUploads(repo, sha)).map((r) => [r.state, r.mergedAt?.getTime()]),
            merged.map((r) => [r.state, r.mergedAt?.getTime()]),
          );
          assert.equal((await p.store.getCommitReport(repo, sha))?.version, 1);
        } finally {
          open();
        }
      });
    });

    test('a live run’s claims are left alone, and its waiting uploads only nudged', async () => {
      const repo = await p.repo('live/app', 'parallel');
      const sha = newSha();
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      let held = 0;
      const worker = await workerOf(p, (deps) => {
        const real = createActivities(deps);
        return {
          ...real,
          processUpload: async (input) => {
            if (input.sha !== sha) return real.processUpload(input);
            held++;
            await opened;
            return real.processUpload(input);
          },
        };
      });
      await worker.runUntil(async () => {
        try {
          await p.upload(repo, sha, pickCorpus(corpus, 'negotiator-nyc/lcov.info')[0]!);
          await waitUntil('the processor held', () => held === 1);
          const r = await env.client.workflow.execute(reconcileWorkflow, { workflowId: `reconcile-${randomUUID()}`, taskQueue: p.config.temporal.taskQueue, args: [{ olderThanMs: 0 }] });
          assert.equal(r.released, 0, 'the open run holds its claim');
          assert.equal(r.nudged, 0);
          assert.deepEqual((await p.store.listUploads(repo, sha)).map((u) => u.state), ['processing']);
          open();
          assert.equal((await p.result(repo, sha)).merged, 1);
        } finally {
          open();
        }
      });
    });
  });
}

describe('applySchedule (dev server)', () => {
  const definition = (id: string, every: string) => ({
    id,
    spec: { intervals: [{ every }] },
    action: { type: 'startWorkflow' as const, workflowType: reconcileWorkflow, workflowId: id, taskQueue: `none-${id}`, args: [{ olderThanMs: 60_000 }] as [{ olderThanMs: number }] },
    policies: { overlap: 'SKIP' as const, catchupWindow: '1m' },
    paused: true,
  });
  const intervalOf = async (id: string) => (await env.client.schedule.getHandle(id).describe()).spec.intervals?.[0]?.every;
  const countOf = async (id: string) => {
    let n = 0;
    for await (const s of env.client.schedule.list()) if (s.scheduleId === id) n++;
    return n;
  };

  test('applied twice it is one schedule with the latest spec; applied at once by two callers, one schedule too', async () => {
    const id = `apply-${randomUUID()}`;
    await applySchedule(env.client, definition(id, '1h'));
    await applySchedule(env.client, definition(id, '2h'));
    assert.equal(await intervalOf(id), 2 * 3_600_000);
    const described = await env.client.schedule.getHandle(id).describe();
    assert.equal(described.state.paused, true);
    assert.equal(described.policies.overlap, 'SKIP');

    const raced = `apply-${randomUUID()}`;
    await Promise.all([applySchedule(env.client, definition(raced, '3h')), applySchedule(env.client, definition(raced, '3h'))]);
    assert.equal(await intervalOf(raced), 3 * 3_600_000);
    // Visibility lists schedules eventually.
    await waitUntil('both schedules listed', async () => (await countOf(id)) === 1 && (await countOf(raced)) === 1, 20_000);
    await env.client.schedule.getHandle(id).delete();
    await env.client.schedule.getHandle(raced).delete();
  });
});

for (const target of databasesUnderTest()) {
  describe(`tributary gc (dev server, ${target.kind})`, () => {
    let p: Pipeline;
    before(async () => {
      p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await target.create() });
    });
    after(async () => {
      await p?.close();
    });

    async function gc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['gc', ...args], {
        stdout: (t) => void (stdout += t),
        stderr: (t) => void (stderr += t),
        open: readFileChunks,
        setExitCode: () => undefined,
        env: {
          TRIBUTARY_DATA_DIR: p.config.dataDir,
          TEMPORAL_ADDRESS: env.address,
          TEMPORAL_TASK_QUEUE: p.config.temporal.taskQueue,
          // Lifetimes short enough for a test: every finished upload's blobs are due.
          TRIBUTARY_RAW_RETENTION: '1ms',
          TRIBUTARY_INTERMEDIATE_GRACE: '0',
          TRIBUTARY_REPORT_GRACE: '0',
          TRIBUTARY_SHADOW_TIMEOUT: '0',
        },
      });
      return { code, stdout, stderr };
    }

    test('--dry-run prints what would go and deletes nothing; then gc deletes it; the merged report stays readable; again, nothing more', async () => {
      const worker = await workerOf(p);
      await worker.runUntil(async () => {
        const repo = await p.repo('gc/app', 'serial');
        const sha = newSha();
        for (const f of pickCorpus(corpus, 'negotiator-nyc/lcov.info', 'tomli-misc/coverage-py.xml', 'negotiator-c8/lcov.info')) await p.upload(repo, sha, f);
        assert.equal((await p.result(repo, sha)).version, 3, 'serial: three versions, two superseded');
        const report = await p.reportBytes(repo, sha);
        const saved = await p.store.getCommitReport(repo, sha);
        const uploads = await p.store.listUploads(repo, sha);

        const dry = await gc('--dry-run', '--verbose');
        assert.equal(dry.code, 0, dry.stderr);
        assert.match(dry.stdout, /^dry run: nothing was deleted/);
        const row = (prefix: string) => dry.stdout.split('\n').find((l) => l.startsWith(`${prefix} `))?.split(/\s+/);
        assert.deepEqual(row('raw/')?.slice(0, 3), ['raw/', '3', '3'], dry.stdout);
        assert.deepEqual(row('intermediate/')?.slice(0, 3), ['intermediate/', '3', '3'], dry.stdout);
        // Each version with the per-file totals stored next to it.
        assert.deepEqual(row('reports/')?.slice(0, 3), ['reports/', '6', '4'], dry.stdout);
        assert.deepEqual(row('reports/')?.slice(4, 5), ['2'], 'the current version and its totals kept');
        for (const u of uploads) assert.ok(dry.stdout.includes(`would delete raw/${u.uploadId}\n`), dry.stdout);
        assert.ok(!dry.stdout.includes(`would delete ${saved!.reportKey}\n`), 'the current report is never listed');
        assert.ok(!dry.stdout.includes(`would delete ${keys.reportTotals(saved!.reportKey)}\n`), "nor are the current report's totals");
        for (const u of uploads) assert.ok(await p.blobs.exists(u.rawKey), 'a dry run deletes nothing');

        const real = await gc('--json');
        assert.equal(real.code, 0, real.stderr);
        const summary = JSON.parse(real.stdout) as GcSummary;
        assert.equal(summary.dryRun, false);
        assert.deepEqual(
          summary.prefixes.map((s) => [s.prefix, s.deleted, s.kept]),
          [['raw', 3, 0], ['intermediate', 3, 0], ['scratch', 0, 0], ['reports', 4, 2], ['sources', 0, 0]],
        );
        for (const u of await p.store.listUploads(repo, sha)) {
          assert.equal(await p.blobs.exists(u.rawKey), false);
          assert.ok(u.rawDeletedAt instanceof Date, 'the row says its raw upload is gone');
        }
        assert.deepEqual(await p.reportBytes(repo, sha), report, 'the merged report reads as before');
        assert.deepEqual(await p.store.getCommitReport(repo, sha), saved);

        const again = JSON.parse((await gc('--json')).stdout) as GcSummary;
        assert.deepEqual(again.prefixes.map((s) => s.deleted), [0, 0, 0, 0, 0]);
      });
    });
  });
}

test('tributary gc with a bad lifetime is a usage error naming the variable', async () => {
  let stderr = '';
  const code = await runCli(['gc', '--dry-run'], {
    stdout: () => undefined,
    stderr: (t) => void (stderr += t),
    open: readFileChunks,
    setExitCode: () => undefined,
    env: { TRIBUTARY_RAW_RETENTION: 'forever' },
  });
  assert.equal(code, 2);
  assert.match(stderr, /TRIBUTARY_RAW_RETENTION/);
});
