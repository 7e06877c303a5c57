/**
 * Orchestration of the commit workflow on Temporal's time-skipping test server, with mocked
 * activities: debounce, idle close after a day, and retries with backoff.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import type { ProcessSummary } from '../../src/activities/contracts';
import { commitWorkflowId, progressQuery, uploadSignal, type CommitSettings } from '../../src/workflows/commit-contracts';
import type { commitWorkflow } from '../../src/workflows';
import { bundleWorkflows, createTimeSkippingEnv } from '../support/temporal';

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

/** Activities that record what the workflow asked for, in order. */
function recordingActivities(opts: { mode?: 'serial' | 'parallel'; processUpload?: Activities['processUpload'] } = {}) {
  const calls: { activity: string; uploads: string[] }[] = [];
  const activities: Activities = {
    async resolveMode() {
      calls.push({ activity: 'resolveMode', uploads: [] });
      return { mode: opts.mode ?? 'parallel', reason: 'test' };
    },
    async processUpload(input) {
      calls.push({ activity: 'processUpload', uploads: [input.uploadId] });
      if (opts.processUpload) return opts.processUpload(input);
      return { uploadId: input.uploadId, key: `intermediate/${input.uploadId}`, rawBytes: 10, lines: 2 };
    },
    async finishCommit(input) {
      calls.push({ activity: 'finishCommit', uploads: input.uploads.map((u: ProcessSummary) => u.uploadId) });
      return { merged: input.uploads.length, lines: 2 * input.uploads.length, reportKey: `reports/${input.repo}/${input.sha}` };
    },
  };
  return { calls, activities };
}

async function withWorker<T>(activities: Activities, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities,
  });
  return worker.runUntil(fn(taskQueue));
}

function sha(): string {
  return randomUUID().replace(/-/g, '');
}

describe('commit workflow (time-skipping)', () => {
  test('uploads arriving within the debounce window are processed as one batch', async () => {
    const { calls, activities } = recordingActivities();
    await withWorker(activities, async (taskQueue) => {
      const commit = sha();
      const handle = await env.client.workflow.signalWithStart<typeof commitWorkflow, [{ uploadId: string }]>('commitWorkflow', {
        workflowId: commitWorkflowId('acme/app', commit),
        taskQueue,
        args: [{ repo: 'acme/app', sha: commit, settings }],
        signal: uploadSignal,
        signalArgs: [{ uploadId: 'u1' }],
      });
      // 4 s and 8 s after the first: each inside the 10 s quiet window of the one before.
      await env.sleep(4 * SECOND);
      await handle.signal(uploadSignal, { uploadId: 'u2' });
      await env.sleep(4 * SECOND);
      await handle.signal(uploadSignal, { uploadId: 'u3' });
      await handle.signal(uploadSignal, { uploadId: 'u3' }); // a redelivered signal counts once
      const progress = await handle.query(progressQuery);
      assert.equal(progress.phase, 'debouncing');
      assert.equal(progress.received, 3);
      assert.equal(calls.filter((c) => c.activity === 'processUpload').length, 0, 'nothing is processed while uploads keep coming');

      const result = await handle.result();
      assert.deepEqual(result, { received: 3, merged: 3, errors: 0, batches: 1, reportKey: `reports/acme/app/${commit}` });
      assert.deepEqual(
        calls.filter((c) => c.activity === 'finishCommit').map((c) => c.uploads),
        [['u1', 'u2', 'u3']],
      );
    });
  });

  test('an upload after the debounce window starts a second batch', async () => {
    const { calls, activities } = recordingActivities({ mode: 'serial' });
    await withWorker(activities, async (taskQueue) => {
      const commit = sha();
      const handle = await env.client.workflow.signalWithStart('commitWorkflow', {
        workflowId: commitWorkflowId('acme/app', commit),
        taskQueue,
        args: [{ repo: 'acme/app', sha: commit, settings }],
        signal: uploadSignal,
        signalArgs: [{ uploadId: 'a' }],
      });
      await env.sleep(60 * SECOND);
      await handle.signal(uploadSignal, { uploadId: 'b' });
      const result = await handle.result();
      assert.equal(result.batches, 2);
      // Serial mode: each upload processed, then merged, one after the other.
      assert.deepEqual(
        calls.filter((c) => c.activity !== 'resolveMode').map((c) => `${c.activity}:${c.uploads.join(',')}`),
        ['processUpload:a', 'finishCommit:a', 'processUpload:b', 'finishCommit:b'],
      );
    });
  });

  test('the workflow closes after a day without uploads (timers of more than a day, skipped)', async () => {
    const { activities } = recordingActivities();
    await withWorker(activities, async (taskQueue) => {
      const commit = sha();
      const wallStart = performance.now();
      const handle = await env.client.workflow.signalWithStart('commitWorkflow', {
        workflowId: commitWorkflowId('acme/app', commit),
        taskQueue,
        args: [{ repo: 'acme/app', sha: commit, settings }],
        signal: uploadSignal,
        signalArgs: [{ uploadId: 'only' }],
      });
      const result = await handle.result();
      assert.equal(result.merged, 1);
      const desc = await handle.describe();
      assert.equal(desc.status.name, 'COMPLETED');
      const envElapsed = (desc.closeTime as Date).getTime() - desc.startTime.getTime();
      assert.ok(envElapsed >= DAY + settings.debounceMs, `workflow ran ${envElapsed} ms of its time, expected more than a day`);
      assert.ok(envElapsed < 2 * DAY, `workflow ran ${envElapsed} ms, expected it to close one idle day after the batch`);
      // Reported, not asserted: the point of time skipping is that this is seconds, not a day.
      console.log(`idle close: ${(envElapsed / 3_600_000).toFixed(1)} h of workflow time in ${((performance.now() - wallStart) / 1000).toFixed(2)} s of wall time`);
    });
  });

  test('a failing activity is retried with exponential backoff and the commit still completes', async () => {
    const attempts: { attempt: number; scheduledMs: number }[] = [];
    const { activities } = recordingActivities({
      async processUpload(input) {
        const info = Context.current().info;
        // The test server's clock, which time skipping advances (the activity's own clock does not).
        attempts.push({ attempt: info.attempt, scheduledMs: await env.currentTimeMs() });
        if (info.attempt < 4) throw new Error(`transient storage error (attempt ${info.attempt})`);
        return { uploadId: input.uploadId, key: `intermediate/${input.uploadId}`, rawBytes: 1, lines: 1 };
      },
    });
    await withWorker(activities, async (taskQueue) => {
      const commit = sha();
      const handle = await env.client.workflow.signalWithStart('commitWorkflow', {
        workflowId: commitWorkflowId('acme/app', commit),
        taskQueue,
        args: [{ repo: 'acme/app', sha: commit, settings }],
        signal: uploadSignal,
        signalArgs: [{ uploadId: 'flaky' }],
      });
      const result = await handle.result();
      assert.equal(result.merged, 1);
      assert.deepEqual(
        attempts.map((a) => a.attempt),
        [1, 2, 3, 4],
      );
      // initialInterval 1 s, coefficient 2: gaps of about 1 s, 2 s, 4 s between attempts.
      const gaps = attempts.slice(1).map((a, i) => a.scheduledMs - (attempts[i] as { scheduledMs: number }).scheduledMs);
      assert.equal(gaps.length, 3);
      for (let i = 0; i < gaps.length; i++) {
        assert.ok((gaps[i] as number) >= 1000 * 2 ** i, `gap ${i} was ${gaps[i]} ms, expected at least ${1000 * 2 ** i} ms`);
      }
      assert.ok((gaps[2] as number) > (gaps[0] as number), 'backoff grows');
    });
  });
});
