/**
 * Histories of a commit workflow per mode (and the experiment's shadow), recorded before the batch
 * paths were refactored (`test/support/commit-histories.ts`), must replay with today's code, and a
 * fresh run must make the same calls (activities, child) in the same order, with the same inputs,
 * the quick steps local since the `local-quick-steps` patch (see `localSinceThePatch`), and the
 * carryforward step after the first batch since the `carryforward` patch, a claim after every
 * batch since the `claim-after-batch` patch: workflows
 * already running when a worker is upgraded continue on the new code.
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

const decode = (payloads: { data?: Uint8Array | null }[] | null | undefined) =>
  (payloads ?? []).map((p) => JSON.stringify(JSON.parse(Buffer.from(p.data ?? []).toString('utf8')), (k, v: unknown) => (VARYING.has(k) ? '…' : v)));

/**
 * Since the `local-quick-steps` patch a fresh commit run takes the quick steps, and finishers of
 * batches up to 16 uploads, as local activities: the same calls, recorded as markers (name and
 * result) instead of scheduled activities, after the patch's marker. The recorded histories (no
 * patch) still replay on the old branch, which is what Temporal's versioning asks; a fresh run is
 * compared with the recording with those activities written as local ones, their results
 * (which follow from their inputs, the in-memory activities being deterministic) standing in for
 * the inputs a marker does not keep.
 */
const LOCAL_STEPS = new Set(['startRun', 'claimUploads', 'resolveMode', 'failUploads', 'cancelPendingUploads']);
function localSinceThePatch(name: string, input: unknown): boolean {
  if (LOCAL_STEPS.has(name)) return true;
  const finish = input as { target?: { kind?: string }; uploads?: unknown[] };
  return name === 'finishCommit' && finish.target?.kind === 'commit' && (finish.uploads?.length ?? Infinity) <= 16;
}

/**
 * The commands a history records, each with its decoded input, in order. Activities for which
 * `asLocal` holds are written as a local activity would record them: name and result.
 */
function commands(history: History, asLocal: (name: string, input: unknown) => boolean = () => false): string[] {
  const out: string[] = [];
  const localAt = new Map<string, number>();
  for (const e of history.events ?? []) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a) {
      const name = a.activityType?.name ?? '';
      const input = decode(a.input?.payloads);
      if (asLocal(name, JSON.parse(input[0] ?? 'null'))) {
        localAt.set(String(e.eventId), out.length);
        out.push(`local ${name}`);
      } else out.push(`activity ${name} ${input}`);
    }
    const done = e.activityTaskCompletedEventAttributes;
    const at = done ? localAt.get(String(done.scheduledEventId)) : undefined;
    if (done && at !== undefined) out[at] += ` → ${decode(done.result?.payloads)}`;
    const m = e.markerRecordedEventAttributes;
    if (m?.markerName === 'core_local_activity') {
      const data = JSON.parse(Buffer.from(m.details?.data?.payloads?.[0]?.data ?? []).toString('utf8')) as { activity_type: string };
      out.push(`local ${data.activity_type} → ${decode(m.details?.result?.payloads)}`);
    }
    if (m?.markerName === 'core_patch') out.push(`patch ${decode(m.details?.['patch-data']?.payloads)}`);
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

/**
 * What the in-memory carryForward answers (a local activity, so the marker keeps its result): the
 * commit's report as the batch's last real merge left it, nothing carried.
 */
function carriedNothing(before: string[]): string {
  const last = before.filter((c) => c.startsWith('local finishCommit → {"status":"ok"')).at(-1);
  assert.ok(last, 'the batch merged something');
  const { reportKey, totals } = JSON.parse(last.slice('local finishCommit → '.length)) as { reportKey: string; totals: unknown };
  const version = Number(/\/v(\d+)$/.exec(reportKey)?.[1]);
  return JSON.stringify({ carried: 0, flags: [], version, reportKey, totals });
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
      assert.ok(commands(before.commit).some((c) => c.startsWith('activity finishCommit')), 'the recording merged something');
      const recordedCommands = commands(before.commit, localSinceThePatch);
      // Since the `carryforward` patch the commit decides its carryforward once, after its first
      // batch, before the batch's outcome is published.
      const afterFirstBatch = recordedCommands.indexOf('upsert Outcome,UploadCount');
      assert.ok(afterFirstBatch > 0, 'the recording finished a batch');
      const expected = [
        'patch {"id":"local-quick-steps","deprecated":false}',
        // A patch marks the run in the TemporalChangeVersion search attribute.
        'upsert TemporalChangeVersion',
        'patch {"id":"notify-after-batch","deprecated":false}',
        'upsert TemporalChangeVersion',
        'patch {"id":"carryforward","deprecated":false}',
        'upsert TemporalChangeVersion',
        'patch {"id":"claim-after-batch","deprecated":false}',
        'upsert TemporalChangeVersion',
        // Since `notify-after-batch`, each batch's end tells the commit's notifier (none here);
        // since `claim-after-batch` the run then claims again at once, where the recording (one
        // batch) waited for a nudge: nothing is waiting.
        ...[
          ...recordedCommands.slice(0, afterFirstBatch),
          `local carryForward → ${carriedNothing(recordedCommands.slice(0, afterFirstBatch))}`,
          ...recordedCommands.slice(afterFirstBatch),
        ].flatMap((c) => (c.startsWith('upsert Outcome') ? [c, 'local announceReport → false', 'local claimUploads → {"batch":null,"uploads":[]}'] : [c])),
      ];
      assert.deepEqual(commands(now.commit), expected);
      if (before.shadow) assert.deepEqual(commands(now.shadow!), commands(before.shadow));
    });
  }
});
