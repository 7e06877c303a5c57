/**
 * The two ways a batch of uploads becomes a new version of a report, shared by the commit
 * workflow and the experiment's shadow. Deterministic orchestration only.
 */
import { log } from '@temporalio/workflow';
import type { BatchUpload, ProcessSummary, ReportTotalsJson, Target } from '../activities/contracts';
import { heavy, quick } from './activity-proxies';
import { mapWindowed } from '../shared/map-windowed';

/** Rounds of re-processing when intermediates go missing before the finisher reads them. */
const MAX_BACKTRACK_ROUNDS = 3;

export interface PathContext {
  repo: string;
  sha: string;
  target: Target;
  maxParallel: number;
  onProcessed?: (summary: ProcessSummary) => void;
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
 * Merges `uploads` into `baseKey` as `version`. When the finisher says intermediates are missing,
 * their processors run again (a missing raw upload then becomes an upload error) and the merge is
 * retried; uploads that keep disappearing are failed rather than blocking the commit.
 */
export async function finishWithBacktracking(
  ctx: PathContext,
  baseKey: string | null,
  version: number,
  uploads: BatchUpload[],
): Promise<{ merged: MergedVersion | null; mergedUploads: BatchUpload[]; errored: number }> {
  let pending = uploads;
  let errored = 0;
  for (let round = 0; pending.length > 0; round++) {
    const res = await heavy.finishCommit.executeWithOptions(
      { summary: `merge ${pending.length} upload${pending.length === 1 ? '' : 's'} into v${version}` },
      [{ repo: ctx.repo, sha: ctx.sha, target: ctx.target, baseKey, version, uploads: pending }],
    );
    if (res.status === 'ok') return { merged: { reportKey: res.reportKey, totals: res.totals }, mergedUploads: pending, errored };

    const missing = new Set(res.missing);
    const lost = pending.filter((u) => missing.has(u.uploadId));
    if (round >= MAX_BACKTRACK_ROUNDS) {
      log.warn('intermediate reports keep disappearing; failing those uploads', { missing: res.missing });
      if (ctx.target.kind === 'commit') {
        await quick.failUploads({
          uploadIds: lost.map((u) => u.uploadId),
          error: { code: 'unknown_processing', message: `its intermediate report disappeared ${round + 1} times before the merge` },
        });
      }
      errored += lost.length;
      pending = pending.filter((u) => !missing.has(u.uploadId));
      continue;
    }
    log.info('re-processing uploads whose intermediate reports are missing', { missing: res.missing, round });
    const again = await mapWindowed(lost, ctx.maxParallel, (u) => processOne(ctx, u));
    const failed = new Set(again.filter((s) => s.error).map((s) => s.uploadId));
    errored += failed.size;
    pending = pending.filter((u) => !failed.has(u.uploadId));
  }
  return { merged: null, mergedUploads: [], errored };
}

/** Parallel: every processor in a bounded window, then one finisher for the whole batch. */
export async function runParallel(
  ctx: PathContext,
  baseKey: string | null,
  version: number,
  uploads: BatchUpload[],
): Promise<BatchOutcome> {
  const summaries = await mapWindowed(uploads, ctx.maxParallel, async (u) => {
    const s = await processOne(ctx, u);
    ctx.onProcessed?.(s);
    return s;
  });
  const ok = uploads.filter((_, i) => !summaries[i]?.error);
  const erroredUploads = uploads.length - ok.length;
  if (ok.length === 0) return { merged: null, versionsWritten: 0, mergedUploads: 0, erroredUploads };
  const fin = await finishWithBacktracking(ctx, baseKey, version, ok);
  return {
    merged: fin.merged,
    versionsWritten: fin.merged ? 1 : 0,
    mergedUploads: fin.mergedUploads.length,
    erroredUploads: erroredUploads + fin.errored,
  };
}

/** Serial: one upload after the other, each merged into the report as it goes. */
export async function runSerial(
  ctx: PathContext,
  baseKey: string | null,
  version: number,
  uploads: BatchUpload[],
): Promise<BatchOutcome> {
  let current: MergedVersion | null = null;
  let key = baseKey;
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
    const fin = await finishWithBacktracking(ctx, key, version + written, [u]);
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
