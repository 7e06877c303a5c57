/**
 * Orchestration of the commit workflow on Temporal's time-skipping test server, with in-memory
 * activities: debounce, batches, idle close after a day, retries with backoff, continue-as-new,
 * backtracking over missing intermediates, and the experiment's shadow (match, failure, timeout).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import type { BatchUpload, FinishInput, ProcessUploadInput } from '../../src/activities/contracts';
import type { UploadMode } from '../../src/vocabulary';
import { commitWorkflowId, progressQuery, uploadSignal, type CommitSettings } from '../../src/workflows/commit-contracts';
import { commitWorkflow } from '../../src/workflows';
import { bundleWorkflows, createTimeSkippingEnv } from '../support/temporal';
import { processUploadsVia } from '../support/process-chunks';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  env = await createTimeSkippingEnv();
  bundle = await bundleWorkflows();
});
after(async () => {
  await env?.teardown();
});

const SECOND = 1000;
const DAY = 86_400 * SECOND;
const settings: CommitSettings = { debounceMs: 10 * SECOND, maxDebounceMs: 60 * SECOND, idleTimeoutMs: DAY, maxParallel: 4 };

/**
 * Activities over an in-memory commit: uploads wait in `queue` as they would in the database; the
 * merged "report" is the sorted list of sessions it holds, so order-independence is visible.
 */
class FakeCommit {
  readonly queue: BatchUpload[] = [];
  readonly claims = new Map<string, { batch: number; uploads: BatchUpload[] }>();
  readonly merged = new Set<string>();
  readonly runs: string[] = [];
  private saved: { version: number; reportKey: string } | null = null;
  readonly calls: string[] = [];
  readonly reports = new Map<string, number[]>();
  readonly verdicts: unknown[] = [];
  private nextSession = 0;

  constructor(
    private readonly mode: UploadMode,
    private readonly hooks: {
      processUpload?: (input: ProcessUploadInput) => Promise<void>;
      finishCommit?: (input: FinishInput) => Promise<string[] | void>;
    } = {},
  ) {}

  add(): string {
    const uploadId = `u${this.nextSession}`;
    this.queue.push({ uploadId, session: this.nextSession++ });
    return uploadId;
  }

  activities(): Activities {
    const processUpload: Activities['processUpload'] = async (input) => {
      this.calls.push(`process:${input.target.kind}:${input.uploadId}`);
      await this.hooks.processUpload?.(input);
      return { uploadId: input.uploadId, session: input.session, key: `i/${input.uploadId}`, files: 1, lines: 1 };
    };
    return {
      resolveMode: async () => ({ mode: this.mode, reason: 'test' }),
      startRun: async ({ runId }) => {
        this.runs.push(runId);
        return {
          version: this.saved?.version ?? 0,
          reportKey: this.saved?.reportKey ?? null,
          totals: null,
          merged: this.merged.size,
          errors: 0,
          waiting: this.queue.length,
          released: 0,
        };
      },
      claimUploads: async ({ runId, runClaim, limit }) => {
        const again = this.claims.get(`${runId}#${runClaim}`);
        if (again) return again;
        const taken = this.queue.splice(0, limit);
        if (taken.length === 0) return { batch: null, uploads: [] };
        const claim = { batch: this.claims.size, uploads: taken };
        this.claims.set(`${runId}#${runClaim}`, claim);
        this.calls.push(`claim:${taken.map((u) => u.uploadId).join(',')}`);
        return claim;
      },
      failUploads: async ({ uploadIds }) => {
        this.calls.push(`fail:${uploadIds.join(',')}`);
      },
      cancelPendingUploads: async () => {
        this.calls.push('cancel-pending');
        return this.queue.length;
      },
      announceReport: async () => false,
      processUpload,
      processUploads: processUploadsVia(processUpload),
      finishCommit: async (input) => {
        this.calls.push(`finish:${input.target.kind}:v${input.version}:${input.uploads.map((u) => u.uploadId).join(',')}`);
        const missing = await this.hooks.finishCommit?.(input);
        if (missing && missing.length > 0) return { status: 'missing', missing };
        const base = input.baseKey ? (this.reports.get(input.baseKey) ?? []) : [];
        const sessions = [...new Set([...base, ...input.uploads.map((u) => u.session)])].sort((a, b) => a - b);
        const key = input.target.kind === 'commit' ? `report/v${input.version}` : `scratch/${input.target.batch}`;
        this.reports.set(key, sessions);
        if (input.target.kind === 'commit') {
          this.saved = { version: input.version, reportKey: key };
          for (const u of input.uploads) this.merged.add(u.uploadId);
        }
        return {
          status: 'ok',
          reportKey: key,
          totals: { files: 1, lines: sessions.length, hits: sessions.length, misses: 0, partials: 0, branches: 0, methods: 0, coverage: '100', sessions: sessions.length },
        };
      },
      // No carryforward flag declared: the decision keeps the saved report as it is.
      carryForward: async () => {
        this.calls.push('carry');
        const sessions = this.saved ? (this.reports.get(this.saved.reportKey) ?? []) : [];
        return {
          carried: 0,
          flags: [],
          version: this.saved?.version ?? 0,
          reportKey: this.saved?.reportKey ?? null,
          totals: this.saved
            ? { files: 1, lines: sessions.length, hits: sessions.length, misses: 0, partials: 0, branches: 0, methods: 0, coverage: '100', sessions: sessions.length }
            : null,
        };
      },
      verifyExperiment: async (input) => {
        const same = JSON.stringify(this.reports.get(input.serialKey ?? '')) === JSON.stringify(this.reports.get(input.shadowKey ?? ''));
        const verdict = input.shadowProblem
          ? { outcome: input.shadowProblem.outcome, differingFiles: 0, differingLines: 0, sample: [input.shadowProblem.message] }
          : { outcome: same ? ('match' as const) : ('mismatch' as const), differingFiles: same ? 0 : 1, differingLines: same ? 0 : 1, sample: [] };
        this.verdicts.push({ ...verdict, serialKey: input.serialKey, shadowKey: input.shadowKey });
        return verdict;
      },
    };
  }
}

async function withWorker<T>(activities: Activities, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities,
    // Cancellation reaches an activity with its next flushed heartbeat: flush often.
    maxHeartbeatThrottleInterval: '100ms',
  });
  return worker.runUntil(fn(taskQueue));
}

function newSha(): string {
  return randomUUID().replace(/-/g, '');
}

async function start(fake: FakeCommit, taskQueue: string, overrides: Partial<CommitSettings> = {}, sha = newSha()) {
  const uploadId = fake.add();
  return env.client.workflow.signalWithStart(commitWorkflow, {
    workflowId: commitWorkflowId('acme/app', sha),
    taskQueue,
    args: [{ repo: 'acme/app', sha, settings: { ...settings, ...overrides } }],
    signal: uploadSignal,
    signalArgs: [{ uploadId }],
  });
}

describe('commit workflow (time-skipping)', () => {
  test('uploads arriving within the debounce window are processed as one batch', async () => {
    const fake = new FakeCommit('parallel');
    await withWorker(fake.activities(), async (taskQueue) => {
      const handle = await start(fake, taskQueue);
      // 4 s and 8 s after the first: each inside the 10 s quiet window of the one before.
      await env.sleep(4 * SECOND);
      await handle.signal(uploadSignal, { uploadId: fake.add() });
      await env.sleep(4 * SECOND);
      const third = fake.add();
      await handle.signal(uploadSignal, { uploadId: third });
      await handle.signal(uploadSignal, { uploadId: third }); // a redelivered signal counts once
      const progress = await handle.query(progressQuery);
      assert.equal(progress.phase, 'debouncing');
      assert.equal(progress.received, 3);
      assert.equal(fake.calls.length, 0, 'nothing is processed while uploads keep coming');

      const result = await handle.result();
      assert.equal(result.merged, 3);
      assert.equal(result.batches, 1);
      assert.equal(result.version, 1);
      assert.equal(result.reportKey, 'report/v1');
      assert.deepEqual(fake.reports.get('report/v1'), [0, 1, 2]);
      assert.deepEqual(fake.calls.filter((c) => c.startsWith('claim') || c.startsWith('finish')), ['claim:u0,u1,u2', 'finish:commit:v1:u0,u1,u2']);
    });
  });

  test('without a debounce an idle commit claims at once; one signal nudges for several uploads, each counted once', async () => {
    const fake = new FakeCommit('parallel');
    await withWorker(fake.activities(), async (taskQueue) => {
      const handle = await start(fake, taskQueue, { debounceMs: 0 });
      for (let i = 0; i < 50 && (await handle.query(progressQuery)).batches < 1; i++) await env.sleep(100);
      assert.equal((await handle.query(progressQuery)).batches, 1, 'the first upload was merged on its own');
      const [a, b] = [fake.add(), fake.add()];
      // What a gateway sends for uploads registered while its previous signal was in flight.
      await handle.signal(uploadSignal, { uploadId: a, more: [b] });
      await handle.signal(uploadSignal, { uploadId: b, more: [a] }); // redelivered ids count once
      const result = await handle.result();
      assert.equal(result.received, 3);
      assert.equal(result.merged, 3);
      assert.equal(result.batches, 2);
      assert.deepEqual(fake.calls.filter((c) => c.startsWith('claim')), ['claim:u0', 'claim:u1,u2']);
    });
  });

  test('parallel mode with a process chunk: a batch larger than the window goes to processors in chunks, each upload once', async () => {
    const fake = new FakeCommit('parallel');
    await withWorker(fake.activities(), async (taskQueue) => {
      const handle = await start(fake, taskQueue, { maxParallel: 4, processChunk: 3 });
      const more = Array.from({ length: 19 }, () => fake.add());
      await handle.signal(uploadSignal, { uploadId: more[0]!, more: more.slice(1) });
      const result = await handle.result();
      assert.equal(result.merged, 20);
      assert.equal(result.batches, 1);
      const processed = fake.calls.filter((c) => c.startsWith('process:'));
      assert.deepEqual([...processed].sort(), Array.from({ length: 20 }, (_, i) => `process:commit:u${i}`).sort());
      const scheduled = new Map<string, number>();
      for (const e of (await handle.fetchHistory()).events ?? []) {
        const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
        if (type) scheduled.set(type, (scheduled.get(type) ?? 0) + 1);
      }
      // 20 uploads, 4 lanes, at most 3 each: six chunks of 3 and one of 2.
      assert.equal(scheduled.get('processUploads'), 7);
      assert.equal(scheduled.get('processUpload'), undefined);
    });
  });

  test("parallel mode with parts: the finisher is told each upload's part; a missing part's uploads are processed again alone", async () => {
    const finished: FinishInput[] = [];
    const fake = new FakeCommit('parallel', {
      finishCommit: async (input) => {
        finished.push(input);
        // The first merge finds the part of u0-u2 gone.
        return finished.length === 1 ? input.uploads.filter((u) => u.part === 'u0.00000000000000aa').map((u) => u.uploadId) : undefined;
      },
    });
    const activities = fake.activities();
    // As the real processUploads: one part per chunk, named by it.
    const processUploads: Activities['processUploads'] = async (input) => {
      const part = input.uploads[0]!.uploadId === 'u0' ? 'u0.00000000000000aa' : 'u3.00000000000000bb';
      fake.calls.push(`chunk:${input.uploads.map((u) => u.uploadId).join(',')}`);
      return input.uploads.map((u) => ({ uploadId: u.uploadId, session: u.session, key: `i/${part}`, part, files: 1, lines: 1 }));
    };
    await withWorker({ ...activities, processUploads }, async (taskQueue) => {
      const handle = await start(fake, taskQueue, { maxParallel: 2, processChunk: 3 });
      const more = Array.from({ length: 5 }, () => fake.add());
      await handle.signal(uploadSignal, { uploadId: more[0]!, more: more.slice(1) });
      const result = await handle.result();
      assert.equal(result.merged, 6);
      assert.equal(result.batches, 1);
    });
    assert.deepEqual(fake.calls.filter((c) => c.startsWith('chunk:')).sort(), ['chunk:u0,u1,u2', 'chunk:u3,u4,u5']);
    assert.equal(finished.length, 2);
    assert.deepEqual(finished[0]!.uploads, [
      ...['u0', 'u1', 'u2'].map((id, session) => ({ uploadId: id, session, part: 'u0.00000000000000aa' })),
      ...['u3', 'u4', 'u5'].map((id, i) => ({ uploadId: id, session: 3 + i, part: 'u3.00000000000000bb' })),
    ]);
    // Re-processed one by one, so merged from their own intermediates; the other part stays.
    assert.deepEqual(fake.calls.filter((c) => /^process:/.test(c)).sort(), ['process:commit:u0', 'process:commit:u1', 'process:commit:u2']);
    assert.deepEqual(finished[1]!.uploads, [
      ...['u0', 'u1', 'u2'].map((id, session) => ({ uploadId: id, session })),
      ...['u3', 'u4', 'u5'].map((id, i) => ({ uploadId: id, session: 3 + i, part: 'u3.00000000000000bb' })),
    ]);
  });

  test('serial mode merges one upload after the other; a later upload starts a second batch', async () => {
    const fake = new FakeCommit('serial');
    await withWorker(fake.activities(), async (taskQueue) => {
      const handle = await start(fake, taskQueue);
      await handle.signal(uploadSignal, { uploadId: fake.add() });
      await env.sleep(2 * settings.maxDebounceMs);
      await handle.signal(uploadSignal, { uploadId: fake.add() });
      const result = await handle.result();
      assert.equal(result.batches, 2);
      assert.equal(result.version, 3, 'one report version per upload');
      assert.deepEqual(fake.calls, [
        'claim:u0,u1',
        'process:commit:u0',
        'finish:commit:v1:u0',
        'process:commit:u1',
        'finish:commit:v2:u1',
        'carry',
        'claim:u2',
        'process:commit:u2',
        'finish:commit:v3:u2',
      ]);
      assert.deepEqual(fake.reports.get('report/v3'), [0, 1, 2]);
    });
  });

  test('the workflow closes after a day without uploads (timers of more than a day, skipped)', async () => {
    const fake = new FakeCommit('parallel');
    await withWorker(fake.activities(), async (taskQueue) => {
      const wallStart = performance.now();
      const handle = await start(fake, taskQueue);
      const result = await handle.result();
      assert.equal(result.merged, 1);
      const desc = await handle.describe();
      assert.equal(desc.status.name, 'COMPLETED');
      const workflowTime = (desc.closeTime as Date).getTime() - desc.startTime.getTime();
      assert.ok(workflowTime >= DAY + settings.debounceMs, `workflow ran ${workflowTime} ms of its time, expected more than a day`);
      assert.ok(workflowTime < 2 * DAY, `workflow ran ${workflowTime} ms, expected it to close one idle day after the batch`);
      // Reported, not asserted: the point of time skipping is that this takes seconds, not a day.
      console.log(`idle close: ${(workflowTime / 3_600_000).toFixed(1)} h of workflow time in ${((performance.now() - wallStart) / 1000).toFixed(2)} s of wall time`);
    });
  });

  test('a run started after the workflow closed merges on top of the saved report, in a batch of its own', async () => {
    const fake = new FakeCommit('parallel');
    await withWorker(fake.activities(), async (taskQueue) => {
      const sha = newSha();
      const first = await start(fake, taskQueue, {}, sha);
      await first.signal(uploadSignal, { uploadId: fake.add() });
      assert.equal((await first.result()).version, 1);
      const second = await start(fake, taskQueue, {}, sha); // the workflow is closed: a new run
      assert.notEqual(second.signaledRunId, first.signaledRunId);
      const result = await second.result();
      assert.equal(result.version, 2, 'the new run continues from the saved version');
      assert.equal(result.merged, 3, 'counts come from the database, not from an empty carry');
      assert.deepEqual(fake.calls.filter((c) => c.startsWith('claim') || c.startsWith('finish')), [
        'claim:u0,u1',
        'finish:commit:v1:u0,u1',
        'claim:u2',
        'finish:commit:v2:u2',
      ]);
      assert.deepEqual(fake.reports.get('report/v2'), [0, 1, 2], 'merged into the saved report, not from scratch');
      assert.deepEqual(fake.runs, [first.signaledRunId, second.signaledRunId]);
    });
  });

  test('a failing activity is retried with exponential backoff and the commit still completes', async () => {
    const attempts: { attempt: number; at: number }[] = [];
    const fake = new FakeCommit('parallel', {
      async processUpload() {
        const { attempt } = Context.current().info;
        // The test server's clock, which time skipping advances (the activity's own does not).
        attempts.push({ attempt, at: await env.currentTimeMs() });
        if (attempt < 4) throw new Error(`transient storage error (attempt ${attempt})`);
      },
    });
    await withWorker(fake.activities(), async (taskQueue) => {
      const result = await (await start(fake, taskQueue)).result();
      assert.equal(result.merged, 1);
      assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3, 4]);
      // initialInterval 1 s, coefficient 2: gaps of about 1 s, 2 s, 4 s between attempts.
      const gaps = attempts.slice(1).map((a, i) => a.at - (attempts[i] as { at: number }).at);
      gaps.forEach((gap, i) => assert.ok(gap >= 1000 * 2 ** i, `gap ${i} was ${gap} ms, expected at least ${1000 * 2 ** i} ms`));
      assert.ok((gaps[2] as number) > (gaps[0] as number), 'backoff grows');
    });
  });

  test('missing intermediates are re-processed, then merged (backtracking)', async () => {
    let dropped = false;
    const fake = new FakeCommit('parallel', {
      async finishCommit(input) {
        if (dropped) return;
        dropped = true;
        return [input.uploads[1]!.uploadId];
      },
    });
    await withWorker(fake.activities(), async (taskQueue) => {
      const handle = await start(fake, taskQueue);
      await handle.signal(uploadSignal, { uploadId: fake.add() });
      await handle.signal(uploadSignal, { uploadId: fake.add() });
      const result = await handle.result();
      assert.equal(result.merged, 3);
      assert.equal(result.errors, 0);
      assert.deepEqual(fake.calls.filter((c) => c.startsWith('finish') || c === 'process:commit:u1'), [
        'process:commit:u1',
        'finish:commit:v1:u0,u1,u2',
        'process:commit:u1',
        'finish:commit:v1:u0,u1,u2',
      ]);
      assert.deepEqual(fake.reports.get('report/v1'), [0, 1, 2]);
    });
  });

  test('continues as new when Temporal suggests it, carrying counters and the report version', async () => {
    const fake = new FakeCommit('serial');
    const uploads = 400;
    await withWorker(fake.activities(), async (taskQueue) => {
      const handle = await start(fake, taskQueue, { maxBatch: 1, maxParallel: 1 });
      for (let i = 1; i < uploads; i++) fake.add(); // waiting in the "database"; no signal needed
      const result = await handle.result();
      assert.equal(result.merged, uploads);
      assert.equal(result.version, uploads);
      assert.deepEqual(fake.reports.get(`report/v${uploads}`), Array.from({ length: uploads }, (_, i) => i));
      const desc = await handle.describe();
      assert.notEqual(desc.runId, handle.signaledRunId, 'the workflow continued as new at least once');
    });
  });

  test('experiment: the shadow runs the parallel path on the same uploads and the outcome is match', async () => {
    const fake = new FakeCommit('experiment');
    await withWorker(fake.activities(), async (taskQueue) => {
      const handle = await start(fake, taskQueue);
      await handle.signal(uploadSignal, { uploadId: fake.add() });
      const result = await handle.result();
      assert.equal(result.merged, 2);
      assert.deepEqual(result.experiment, { batches: 1, matches: 1, last: 'match' });
      assert.deepEqual(fake.verdicts, [{ outcome: 'match', differingFiles: 0, differingLines: 0, sample: [], serialKey: 'report/v2', shadowKey: 'scratch/0' }]);
      assert.ok(fake.calls.includes('finish:scratch:v1:u0,u1'), 'the shadow merged the batch in one go from the same base');
      const attrs = (await handle.describe()).searchAttributes;
      assert.deepEqual(attrs.ExperimentOutcome, ['match']);
      assert.deepEqual(attrs.UploadMode, ['experiment']);
    });
  });

  test('experiment: a failing shadow is recorded and the real result still lands', async () => {
    const fake = new FakeCommit('experiment', {
      async processUpload(input) {
        if (input.target.kind === 'scratch') throw new (await import('@temporalio/activity')).ApplicationFailure('shadow broke', 'Boom', true);
      },
    });
    await withWorker(fake.activities(), async (taskQueue) => {
      const result = await (await start(fake, taskQueue)).result();
      assert.equal(result.merged, 1);
      assert.equal(result.experiment.firstProblem, 'shadow_failed');
      assert.equal(fake.reports.get('report/v1')?.length, 1);
    });
  });

  test('experiment: a slow shadow costs at most the configured bound, then is cancelled', async () => {
    const fake = new FakeCommit('experiment', {
      async processUpload(input) {
        if (input.target.kind !== 'scratch') return;
        // Slower than the bound: busy until cancelled, which the next heartbeat delivers.
        for (;;) {
          Context.current().heartbeat();
          await Context.current().sleep(100); // rejects once the activity is cancelled
        }
      },
    });
    await withWorker(fake.activities(), async (taskQueue) => {
      // Short real-time settings: on the Java test server, time skipping stalls after a child's
      // activity is cancelled this way, so this test does not lean on skipping.
      const quick = { shadowTimeoutMs: 2 * SECOND, debounceMs: 200, idleTimeoutMs: 3 * SECOND };
      const result = await (await start(fake, taskQueue, quick)).result();
      assert.equal(result.merged, 1);
      assert.equal(result.experiment.firstProblem, 'shadow_timeout');
      assert.equal(fake.reports.get('report/v1')?.length, 1, 'the real result landed');
      assert.equal(fake.reports.has('scratch/0'), false, 'the cancelled shadow merged nothing');
    });
  });

  test('cancellation: pending uploads end cancelled and the workflow ends cancelled', async () => {
    const fake = new FakeCommit('parallel');
    await withWorker(fake.activities(), async (taskQueue) => {
      const handle = await start(fake, taskQueue);
      await handle.signal(uploadSignal, { uploadId: fake.add() });
      await env.sleep(SECOND); // still debouncing
      await handle.cancel();
      await assert.rejects(handle.result(), (err: Error) => /cancel/i.test(`${err.message} ${(err.cause as Error | undefined)?.message ?? ''}`));
      assert.deepEqual(fake.calls, ['cancel-pending'], 'nothing was processed; the waiting uploads were cancelled');
      const desc = await handle.describe();
      assert.equal(desc.status.name, 'CANCELLED');
      assert.deepEqual(desc.searchAttributes.Outcome, ['cancelled']);
    });
  });
});
