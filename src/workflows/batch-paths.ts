/**
 * The three ways a batch of uploads becomes a new version of a report (serial, parallel, and the
 * experiment: serial for real, parallel as a shadow child, compared), and the shadow workflow
 * itself. Deterministic orchestration only.
 */
import { CancellationScope, ParentClosePolicy, condition, isCancellation, log, startChild, workflowInfo } from '@temporalio/workflow';
import type { BatchUpload, FinishUpload, ProcessSummary, ReportTotalsJson, Target, VerifyExperimentResult } from '../activities/contracts';
import { heavy, LOCAL_FINISH_MAX_UPLOADS, localFinish, localQuick, quick } from './activity-proxies';
import type { ShadowResult, ShadowWorkflowInput } from './commit-contracts';
import { mapWindowed } from '../shared/map-windowed';
import { processorChunks } from './process-chunks';

/** Rounds of re-processing when intermediates go missing before the finisher reads them. */
const MAX_BACKTRACK_ROUNDS = 3;

export interface PathContext {
  repo: string;
  sha: string;
  target: Target;
  maxParallel: number;
  /** Uploads one processor activity takes at most (absent or 1: one activity per upload). */
  processChunk?: number;
  /** Quick steps and small finishers as local activities (the run took the LOCAL_STEPS patch). */
  localSteps?: boolean;
  onProcessed?: (summary: ProcessSummary) => void;
}

/** The report a batch merges into, and the version its first merge writes. */
export interface VersionBase {
  baseKey: string | null;
  nextVersion: number;
}

/** On top of the saved version `savedVersion` (0: none yet); the one place a version is counted up. */
export function versionAfter(baseKey: string | null, savedVersion: number): VersionBase {
  return { baseKey, nextVersion: savedVersion + 1 };
}

export interface MergedVersion {
  reportKey: string;
  totals: ReportTotalsJson;
}

export interface BatchOutcome {
  /** The newest report written, or null when nothing was merged. */
  merged: MergedVersion | null;
  /** Versions consumed (serial writes one per upload). */
  versionsWritten: number;
  mergedUploads: number;
  erroredUploads: number;
}

function processOne(ctx: PathContext, u: BatchUpload): Promise<ProcessSummary> {
  return heavy.processUpload.executeWithOptions({ summary: `process upload ${u.uploadId} (session ${u.session})` }, [
    { repo: ctx.repo, sha: ctx.sha, uploadId: u.uploadId, session: u.session, target: ctx.target },
  ]);
}

/**
 * Merges `uploads` into `base.baseKey` as `base.nextVersion`. When the finisher says intermediates are missing,
 * their processors run again (a missing raw upload then becomes an upload error) and the merge is
 * retried; uploads that keep disappearing are failed rather than blocking the commit.
 */
async function finishWithBacktracking(
  ctx: PathContext,
  { baseKey, nextVersion: version }: VersionBase,
  uploads: FinishUpload[],
): Promise<{ merged: MergedVersion | null; mergedUploads: FinishUpload[]; errored: number }> {
  let pending = uploads;
  let errored = 0;
  for (let round = 0; pending.length > 0; round++) {
    const finisher = ctx.localSteps && pending.length <= LOCAL_FINISH_MAX_UPLOADS ? localFinish : heavy;
    const res = await finisher.finishCommit.executeWithOptions(
      { summary: `merge ${pending.length} upload${pending.length === 1 ? '' : 's'} into v${version}` },
      [{ repo: ctx.repo, sha: ctx.sha, target: ctx.target, baseKey, version, uploads: pending }],
    );
    if (res.status === 'ok') return { merged: { reportKey: res.reportKey, totals: res.totals }, mergedUploads: pending, errored };

    const missing = new Set(res.missing);
    const lost = pending.filter((u) => missing.has(u.uploadId));
    if (round >= MAX_BACKTRACK_ROUNDS) {
      log.warn('intermediate reports keep disappearing; failing those uploads', { missing: res.missing });
      if (ctx.target.kind === 'commit') {
        await (ctx.localSteps ? localQuick : quick).failUploads({
          uploadIds: lost.map((u) => u.uploadId),
          error: { code: 'unknown_processing', message: `its intermediate report disappeared ${round + 1} times before the merge` },
        });
      }
      errored += lost.length;
      pending = pending.filter((u) => !missing.has(u.uploadId));
      continue;
    }
    log.info('re-processing uploads whose intermediate reports are missing', { missing: res.missing, round });
    // One by one: each then has its own intermediate again, whatever part it was in.
    const again = await mapWindowed(lost, ctx.maxParallel, (u) => processOne(ctx, u));
    const failed = new Set(again.filter((s) => s.error).map((s) => s.uploadId));
    errored += failed.size;
    pending = pending.filter((u) => !failed.has(u.uploadId)).map((u) => (missing.has(u.uploadId) ? { uploadId: u.uploadId, session: u.session } : u));
  }
  return { merged: null, mergedUploads: [], errored };
}

async function processChunk(ctx: PathContext, chunk: BatchUpload[]): Promise<ProcessSummary[]> {
  // A chunk of one is the single processor, as runs before chunks recorded it.
  if (chunk.length === 1) return [await processOne(ctx, chunk[0]!)];
  const first = chunk[0]!;
  const last = chunk[chunk.length - 1]!;
  return heavy.processUploads.executeWithOptions({ summary: `process ${chunk.length} uploads (sessions ${first.session}-${last.session})` }, [
    { repo: ctx.repo, sha: ctx.sha, uploads: chunk, target: ctx.target },
  ]);
}

/** Parallel: every processor in a bounded window, then one finisher for the whole batch. */
export async function runParallel(ctx: PathContext, base: VersionBase, uploads: BatchUpload[]): Promise<BatchOutcome> {
  const chunked = await mapWindowed(processorChunks(uploads, ctx.maxParallel, ctx.processChunk), ctx.maxParallel, async (chunk) => {
    const s = await processChunk(ctx, chunk);
    for (const one of s) ctx.onProcessed?.(one);
    return s;
  });
  const summaries = chunked.flat();
  // Each with the part its intermediate is in, when a chunk wrote one.
  const ok = uploads.flatMap((u, i): FinishUpload[] => {
    const s = summaries[i];
    if (s?.error) return [];
    return [s?.part !== undefined ? { ...u, part: s.part } : u];
  });
  const erroredUploads = uploads.length - ok.length;
  if (ok.length === 0) return { merged: null, versionsWritten: 0, mergedUploads: 0, erroredUploads };
  const fin = await finishWithBacktracking(ctx, base, ok);
  return {
    merged: fin.merged,
    versionsWritten: fin.merged ? 1 : 0,
    mergedUploads: fin.mergedUploads.length,
    erroredUploads: erroredUploads + fin.errored,
  };
}

/** Serial: one upload after the other, each merged into the report as it goes. */
export async function runSerial(ctx: PathContext, base: VersionBase, uploads: BatchUpload[]): Promise<BatchOutcome> {
  let current: MergedVersion | null = null;
  let key = base.baseKey;
  let written = 0;
  let mergedUploads = 0;
  let erroredUploads = 0;
  for (const u of [...uploads].sort((a, b) => a.session - b.session)) {
    const s = await processOne(ctx, u);
    ctx.onProcessed?.(s);
    if (s.error) {
      erroredUploads++;
      continue;
    }
    const fin = await finishWithBacktracking(ctx, { baseKey: key, nextVersion: base.nextVersion + written }, [u]);
    erroredUploads += fin.errored;
    if (fin.merged) {
      current = fin.merged;
      key = fin.merged.reportKey;
      written++;
      mergedUploads++;
    }
  }
  return { merged: current, versionsWritten: written, mergedUploads, erroredUploads };
}

export interface ExperimentRun {
  /** The serial path's outcome: what the commit keeps. */
  real: BatchOutcome;
  verdict: VerifyExperimentResult;
}

/**
 * Experiment: the serial path is the real one; the parallel path runs as a shadow child over the
 * same uploads from the same base version, and may only cost `shadowTimeoutMs` of extra waiting.
 * The shadow failing or timing out is a verdict, never a failure of the batch.
 */
export async function runExperiment(ctx: PathContext, base: VersionBase, uploads: BatchUpload[], shadowTimeoutMs: number): Promise<ExperimentRun> {
  const batchNo = ctx.target.batch;
  const started = Date.now();
  let shadowDone = false;
  let shadowKey: string | null = null;
  let shadowProblem: { outcome: 'shadow_failed' | 'shadow_timeout'; message: string } | undefined;
  let shadowMs = 0;
  const shadowScope = new CancellationScope();
  const shadow = shadowScope
    .run(async () => {
      const child = await startChild(shadowParallelWorkflow, {
        workflowId: `${workflowInfo().workflowId}:shadow:${batchNo}`,
        // The shadow's input names the saved version, as the histories of running shadows hold it.
        args: [{ repo: ctx.repo, sha: ctx.sha, batch: batchNo, baseKey: base.baseKey, baseVersion: base.nextVersion - 1, uploads, maxParallel: ctx.maxParallel }],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        staticSummary: `shadow (parallel) of batch ${batchNo}`,
      });
      return child.result();
    })
    .then(
      (r) => {
        shadowKey = r.reportKey;
      },
      (err: unknown) => {
        if (!isCancellation(err)) shadowProblem = { outcome: 'shadow_failed', message: messageOf(err) };
      },
    )
    .finally(() => {
      shadowDone = true;
      shadowMs = Date.now() - started;
    });

  const real = await runSerial(ctx, base, uploads);
  const serialMs = Date.now() - started;
  if (!(await condition(() => shadowDone, shadowTimeoutMs))) {
    shadowScope.cancel();
    await shadow;
    shadowProblem = { outcome: 'shadow_timeout', message: `the shadow had not finished ${shadowTimeoutMs} ms after the serial path` };
  }
  const verdict = await quick.verifyExperiment.executeWithOptions({ summary: `compare serial and parallel, batch ${batchNo}` }, [
    {
      repo: ctx.repo,
      sha: ctx.sha,
      batch: batchNo,
      serialKey: real.merged?.reportKey ?? null,
      shadowKey: shadowProblem ? null : shadowKey,
      shadowProblem,
      serialMs,
      shadowMs,
    },
  ]);
  return { real, verdict };
}

/**
 * The experiment's shadow: the parallel path over the same raw uploads as the real (serial) batch,
 * from the same base version, writing only under the scratch prefix and nothing in the database.
 */
export async function shadowParallelWorkflow(input: ShadowWorkflowInput): Promise<ShadowResult> {
  const outcome = await runParallel(
    { repo: input.repo, sha: input.sha, target: { kind: 'scratch', batch: input.batch }, maxParallel: input.maxParallel },
    versionAfter(input.baseKey, input.baseVersion),
    input.uploads,
  );
  return { reportKey: outcome.merged?.reportKey ?? null };
}

function messageOf(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  return [e.message, e.cause?.message].filter(Boolean).join(': ').slice(0, 2000) || String(err);
}
