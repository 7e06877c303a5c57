/**
 * A commit with 10,000 uploads (small reports) on the dev server completes within Temporal's
 * limits: batches bound every payload, continue-as-new bounds every run's history. The test
 * prints the wall time, the longest history of a run and the largest payload seen
 * (SCALE_UPLOADS=n runs a smaller commit).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { commitWorkflowId } from '../../src/workflows/commit-contracts';
import { databasesUnderTest } from '../support/database';
import { newSha, Pipeline } from '../support/pipeline';
import { countUploadsByState } from '../support/upload-counts';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';

const UPLOADS = Number(process.env.SCALE_UPLOADS ?? 10_000);
const REGISTRATION_CONCURRENCY = 16;
const PAYLOAD_BUDGET = 64 * 1024;
const HISTORY_LIMIT = 51_200;

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
before(async () => {
  [env, bundle] = await Promise.all([createDevServerEnv(), bundleWorkflows()]);
});
after(async () => {
  await env?.teardown();
});

type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

function size(p: Payloads): number {
  return (p?.payloads ?? []).reduce((n, x) => n + (x.data?.length ?? 0) + (x.metadata ? Object.values(x.metadata).reduce((m, v) => m + v.length, 0) : 0), 0);
}

/** The largest payload (argument, result or signal) of one history event. */
function largestPayload(e: temporal.api.history.v1.IHistoryEvent): number {
  return Math.max(
    size(e.workflowExecutionStartedEventAttributes?.input),
    size(e.workflowExecutionSignaledEventAttributes?.input),
    size(e.activityTaskScheduledEventAttributes?.input),
    size(e.activityTaskCompletedEventAttributes?.result),
    size(e.startChildWorkflowExecutionInitiatedEventAttributes?.input),
    size(e.childWorkflowExecutionCompletedEventAttributes?.result),
    size(e.workflowExecutionContinuedAsNewEventAttributes?.input),
    size(e.workflowExecutionCompletedEventAttributes?.result),
  );
}

describe(`a commit with ${UPLOADS} uploads on the dev server`, () => {
  test('completes within Temporal limits, every upload merged once', async () => {
    const target = databasesUnderTest().find((d) => d.kind === 'postgres') ?? databasesUnderTest()[0]!;
    const p = await Pipeline.open({
      client: env.client,
      connection: env.nativeConnection,
      bundle,
      database: await target.create(),
      env: { TRIBUTARY_IDLE_TIMEOUT: '3s', TRIBUTARY_MAX_PARALLEL: '32' },
    });
    try {
      const repo = await p.repo('scale/app', 'parallel');
      const sha = newSha();
      const worker = await p.worker();
      const started = performance.now();
      await worker.runUntil(async () => {
        let next = 0;
        const register = async () => {
          while (next < UPLOADS) {
            const i = next++;
            const lcov = `SF:src/module${i % 50}.ts\nDA:${(i % 200) + 1},${i % 3}\nDA:${(i % 7) + 1},1\nend_of_record\n`;
            await p.upload(repo, sha, { name: `job-${i}.lcov`, body: Buffer.from(lcov) });
          }
        };
        await Promise.all(Array.from({ length: REGISTRATION_CONCURRENCY }, register));
        const registeredAfter = performance.now() - started;
        const result = await p.result(repo, sha);
        const wall = performance.now() - started;
        assert.equal(result.merged, UPLOADS);
        assert.equal(result.errors, 0);
        assert.equal(result.totals?.sessions, UPLOADS, 'every upload is one session, counted once');
        const states = await countUploadsByState(p.db, repo, sha);
        assert.equal(states.merged, UPLOADS);

        let runs = 0;
        let longest = 0;
        let largest = 0;
        for await (const run of env.client.workflow.list({ query: `WorkflowId = "${commitWorkflowId(repo, sha)}"` })) {
          const history = await env.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
          const events = history.events ?? [];
          runs++;
          longest = Math.max(longest, events.length);
          for (const e of events) largest = Math.max(largest, largestPayload(e));
        }
        assert.ok(runs > 1, 'the commit continued as new');
        assert.ok(longest < HISTORY_LIMIT, `a run had ${longest} events`);
        assert.ok(largest < PAYLOAD_BUDGET, `a payload of ${largest} bytes`);
        console.log(
          `scale: ${UPLOADS} uploads registered in ${(registeredAfter / 1000).toFixed(1)} s, merged in ${(wall / 1000).toFixed(1)} s ` +
            `(${((UPLOADS * 1000) / wall).toFixed(0)} uploads/s); ${runs} runs, longest history ${longest} events, largest payload ${largest} bytes`,
        );
      });
    } finally {
      await p.close();
    }
  });
});
