import { Context } from '@temporalio/activity';
import { filterSessions, mergeReports } from '../coverage/merge';
import type { CoverageReport } from '../coverage/report';
import { compressReport, readReport } from '../coverage/serialize';
import { reportTotals } from '../coverage/totals';
import { keys } from '../storage/blob-store';
import type { ActivityDeps } from './deps';
import { FinishInput, type FinishResult } from './contracts';
import { validateInput } from './validate';

const DEFAULT_FAN_IN = 16;

/**
 * Finisher: merges a batch's intermediate reports into the base report and writes the result as
 * a new version. Missing intermediates are reported, not fatal: the workflow re-runs their
 * processors. Re-running after a crash gives the same bytes: the batch's sessions are first
 * taken out of the base, then merged in again (a union of sessions, whatever the order).
 */
export function createFinishCommit(deps: ActivityDeps) {
  return async function finishCommit(input: FinishInput): Promise<FinishResult> {
    const { repo, sha, target, baseKey, version, uploads } = validateInput(FinishInput, input, 'finishCommit');
    const real = target.kind === 'commit';
    const keyOf = (uploadId: string) =>
      real ? keys.intermediate(uploadId) : keys.scratchIntermediate(repo, sha, target.batch, uploadId);

    const present = await Promise.all(uploads.map((u) => deps.blobs.exists(keyOf(u.uploadId))));
    const missing = uploads.filter((_, i) => !present[i]).map((u) => u.uploadId);
    if (missing.length > 0) return { status: 'missing', missing };

    const batchSessions = new Set(uploads.map((u) => u.session));
    let base: CoverageReport | null = null;
    if (baseKey) {
      const bytes = await deps.blobs.get(baseKey);
      if (bytes === null) throw new Error(`base report ${baseKey} is missing`);
      base = filterSessions(readReport(bytes), (s) => !batchSessions.has(s.id));
    }

    // Tree-merge: groups of `fanIn` intermediates, then the groups, so memory holds one group of
    // inputs at a time plus the partial results.
    const fanIn = Math.max(2, deps.mergeFanIn ?? DEFAULT_FAN_IN);
    const partials: CoverageReport[] = base ? [base] : [];
    for (let i = 0; i < uploads.length; i += fanIn) {
      const group = uploads.slice(i, i + fanIn);
      const reports = await Promise.all(
        group.map(async (u) => {
          const bytes = await deps.blobs.get(keyOf(u.uploadId));
          // Deleted between the check and the read: same answer as above.
          if (bytes === null) return null;
          return readReport(bytes);
        }),
      );
      const gone = group.filter((_, k) => reports[k] === null).map((u) => u.uploadId);
      if (gone.length > 0) return { status: 'missing', missing: gone };
      partials.push(mergeReports(reports as CoverageReport[]));
      Context.current().heartbeat({ merged: Math.min(i + fanIn, uploads.length), of: uploads.length });
    }
    const merged = partials.length === 1 ? (partials[0] as CoverageReport) : mergeReports(partials);

    const reportKey = real ? keys.commitReport(repo, sha, version) : keys.scratchReport(repo, sha, target.batch);
    await deps.blobs.put(reportKey, compressReport(merged));
    const totals = reportTotals(merged);
    if (real) {
      await deps.store.saveCommitReport({ repo, sha, version, reportKey, totals });
      await deps.store.markMerged(uploads.map((u) => u.uploadId));
    }
    return { status: 'ok', reportKey, totals };
  };
}
