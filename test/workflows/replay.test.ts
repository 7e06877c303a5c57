/**
 * Histories of a commit workflow per mode (and the experiment's shadow), recorded before the batch
 * paths were refactored (`test/support/commit-histories.ts`), must replay with today's code, and a
 * fresh run must schedule the same activities and child with the same inputs in the same order:
 * workflows already running when a worker is upgraded continue on the new code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { UPLOAD_MODES } from '../../src/vocabulary';
import { historyFromJson, recordMode, recordedWorkflowId, type History } from '../support/commit-histories';
import { bundleWorkflows, createTimeSkippingEnv } from '../support/temporal';

const FIXTURES = path.resolve(__dirname, '../fixtures/histories');

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  env = await createTimeSkippingEnv();
  bundle = await bundleWorkflows();
});
after(async () => {
  await env?.teardown();
});

function recorded(mode: string): { commit: History; shadow?: History } {
  const json = JSON.parse(readFileSync(path.join(FIXTURES, `${mode}.json`), 'utf8')) as { commit: unknown; shadow?: unknown };
  return { commit: historyFromJson(json.commit), shadow: json.shadow === undefined ? undefined : historyFromJson(json.shadow) };
}

// Ids of the run and the workflow task's clock differ between runs; everything else must not.
const VARYING = new Set(['runId', 'runStartedAt', 'serialMs', 'shadowMs']);

/** The commands a history records, each with its decoded input, in order. */
function commands(history: History): string[] {
  const decode = (payloads: { data?: Uint8Array | null }[] | null | undefined) =>
    (payloads ?? []).map((p) => JSON.stringify(JSON.parse(Buffer.from(p.data ?? []).toString('utf8')), (k, v: unknown) => (VARYING.has(k) ? '…' : v)));
  const out: string[] = [];
  for (const e of history.events ?? []) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a) out.push(`activity ${a.activityType?.name} ${decode(a.input?.payloads)}`);
    const c = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (c) out.push(`child ${c.workflowType?.name} ${c.workflowId?.split(':').slice(-2).join(':')} ${decode(c.input?.payloads)}`);
    if (e.timerStartedEventAttributes) out.push(`timer ${Number(e.timerStartedEventAttributes.startToFireTimeout?.seconds ?? 0)}s`);
    if (e.timerCanceledEventAttributes) out.push('timer cancelled');
    if (e.upsertWorkflowSearchAttributesEventAttributes) out.push(`upsert ${Object.keys(e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {}).sort().join(',')}`);
    if (e.requestCancelExternalWorkflowExecutionInitiatedEventAttributes) out.push('cancel child');
    if (e.workflowExecutionCompletedEventAttributes) out.push(`completed ${decode(e.workflowExecutionCompletedEventAttributes.result?.payloads)}`);
  }
  return out;
}

describe('commit workflow histories recorded before the batch-paths refactor', () => {
  for (const mode of UPLOAD_MODES) {
    test(`${mode}: the recorded history replays with today's code`, async () => {
      const { commit, shadow } = recorded(mode);
      const workflowId = recordedWorkflowId(mode);
      await Worker.runReplayHistory({ workflowBundle: bundle }, commit, workflowId);
      if (shadow) await Worker.runReplayHistory({ workflowBundle: bundle }, shadow, `${workflowId}:shadow:0`);
      assert.equal(shadow !== undefined, mode === 'experiment', 'only the experiment has a shadow');
    });

    test(`${mode}: a fresh run makes the recorded commands with the recorded inputs`, async () => {
      const before = recorded(mode);
      const now = await recordMode(env, bundle, mode);
      const expected = commands(before.commit);
      assert.ok(expected.some((c) => c.startsWith('activity finishCommit')), 'the recording merged something');
      assert.deepEqual(commands(now.commit), expected);
      if (before.shadow) assert.deepEqual(commands(now.shadow!), commands(before.shadow));
    });
  }
});
