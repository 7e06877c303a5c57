/**
 * Records the histories of one commit workflow per mode (and the experiment's shadow child) on the
 * time-skipping server, with in-memory activities that answer the same way every time: three
 * uploads in one batch, the second failing to parse, the third's intermediate missing once. The
 * replay test keeps these histories, recorded before a refactor, and checks the code still makes
 * the same commands with the same inputs. `node --import tsx test/support/commit-histories.ts DIR`
 * writes them as `<mode>.json` files.
 */
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import type { BatchUpload } from '../../src/activities/contracts';
import { UPLOAD_MODES, type UploadMode } from '../../src/vocabulary';
import { commitWorkflowId, uploadSignal, type CommitSettings } from '../../src/workflows/commit-contracts';
import { commitWorkflow } from '../../src/workflows';
import { bundleWorkflows, createTimeSkippingEnv } from './temporal';
import { processUploadsVia } from './process-chunks';

export type History = temporal.api.history.v1.IHistory;

export interface RecordedMode {
  /** The commit workflow's history. */
  commit: History;
  /** The shadow child's history (experiment only). */
  shadow?: History;
}

const REPO = 'acme/app';
export const RECORDED_SHA = 'f'.repeat(40);
const SETTINGS: CommitSettings = { debounceMs: 1_000, maxDebounceMs: 5_000, idleTimeoutMs: 10_000, maxParallel: 2 };

/** The id a mode's commit workflow was recorded under (replay needs it for the child's id). */
export function recordedWorkflowId(mode: UploadMode): string {
  return `${commitWorkflowId(REPO, RECORDED_SHA)}:${mode}`;
}

function activities(mode: UploadMode): Activities {
  const queue: BatchUpload[] = [];
  let missingOnce = true;
  const claims = new Map<string, { batch: number | null; uploads: BatchUpload[] }>();
  let batches = 0;
  let saved: { version: number; reportKey: string } | null = null;
  const totals = { files: 1, lines: 2, hits: 2, misses: 0, partials: 0, branches: 0, methods: 0, coverage: '100', sessions: 2 };
  const processUpload: Activities['processUpload'] = async (input) => {
    const base = { uploadId: input.uploadId, session: input.session, files: 0, lines: 0 };
    if (input.uploadId === 'u1') return { ...base, error: { code: 'report_invalid', message: 'not a coverage report' } };
    return { ...base, key: `intermediate/${input.uploadId}`, format: 'lcov', files: 1, lines: 1 };
  };
  return {
    resolveMode: async () => ({ mode, reason: 'recorded' }),
    startRun: async () => {
      // The three uploads are "in the database" before the run starts, as registration leaves them.
      if (queue.length === 0 && batches === 0) queue.push({ uploadId: 'u0', session: 0 }, { uploadId: 'u1', session: 1 }, { uploadId: 'u2', session: 2 });
      return { version: 0, reportKey: null, totals: null, merged: 0, errors: 0, waiting: queue.length, released: 0 };
    },
    claimUploads: async ({ runId, runClaim, limit }) => {
      const key = `${runId}#${runClaim}`;
      const again = claims.get(key);
      if (again) return again;
      const taken = queue.splice(0, limit);
      const claim = taken.length === 0 ? { batch: null, uploads: [] } : { batch: batches++, uploads: taken };
      claims.set(key, claim);
      return claim;
    },
    failUploads: async () => undefined,
    cancelPendingUploads: async () => 0,
    announceReport: async () => false,
    processUpload,
    processUploads: processUploadsVia(processUpload),
    finishCommit: async (input) => {
      // The shadow finishes after the real path, so the experiment waits for it on its timer.
      if (input.target.kind === 'scratch') await sleep(500);
      if (input.uploads.some((u) => u.uploadId === 'u2') && missingOnce) {
        missingOnce = false;
        return { status: 'missing', missing: ['u2'] };
      }
      const reportKey = input.target.kind === 'commit' ? `reports/${REPO}/${RECORDED_SHA}/v${input.version}` : `scratch/${input.target.batch}/v${input.version}`;
      if (input.target.kind === 'commit') saved = { version: input.version, reportKey };
      return { status: 'ok', reportKey, totals };
    },
    // The recorded repository declares no carryforward flag: the saved report as it stands.
    carryForward: async () => ({ carried: 0, flags: [], version: saved?.version ?? 0, reportKey: saved?.reportKey ?? null, totals: saved ? totals : null }),
    verifyExperiment: async () => ({ outcome: 'match', differingFiles: 0, differingLines: 0, sample: [] }),
  };
}

/** Runs one commit workflow in `mode` to its idle close and returns its histories. */
export async function recordMode(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap, mode: UploadMode): Promise<RecordedMode> {
  const taskQueue = `record-${mode}`;
  const workflowId = recordedWorkflowId(mode);
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: activities(mode) });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart(commitWorkflow, {
      workflowId,
      taskQueue,
      args: [{ repo: REPO, sha: RECORDED_SHA, settings: SETTINGS }],
      signal: uploadSignal,
      signalArgs: [{ uploadId: 'u0' }],
    });
    await handle.result();
    const commit = await handle.fetchHistory();
    const shadow = mode === 'experiment' ? await env.client.workflow.getHandle(`${workflowId}:shadow:0`).fetchHistory() : undefined;
    return { commit, shadow };
  });
}

// protobufjs's own JSON form (enums as names, bytes as base64): `historyFromJson` reads it back.
// Worker identities (pid@host) say where it was recorded, not what happened: left out.
function historyToJson(history: History): unknown {
  return JSON.parse(JSON.stringify(temporal.api.history.v1.History.fromObject(history).toJSON(), (key, value: unknown) => (key === 'identity' ? 'recorder' : value)));
}

export function historyFromJson(json: unknown): temporal.api.history.v1.History {
  return temporal.api.history.v1.History.fromObject(json as Record<string, unknown>);
}

async function main(dir: string): Promise<void> {
  const env = await createTimeSkippingEnv();
  try {
    const bundle = await bundleWorkflows();
    for (const mode of UPLOAD_MODES) {
      const recorded = await recordMode(env, bundle, mode);
      const json = { commit: historyToJson(recorded.commit), shadow: recorded.shadow ? historyToJson(recorded.shadow) : undefined };
      await writeFile(path.join(dir, `${mode}.json`), `${JSON.stringify(json, null, 1)}\n`);
    }
  } finally {
    await env.teardown();
  }
}

if (require.main === module) {
  main(path.resolve(process.argv[2] ?? '.')).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
