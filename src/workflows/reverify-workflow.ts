/**
 * Scheduled re-verification: a run samples completed commits, and a child per commit re-runs its
 * raw uploads through the serial and the parallel paths into a scratch area of its own, then
 * compares both with the saved report. Deterministic orchestration only.
 */
import { executeChild, log, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ReverifyActivities } from '../activities';
import type { Target } from '../activities/contracts';
import { mapWindowed } from '../shared/map-windowed';
import { Mismatches, VerifiedCommits } from '../temporal/search-attributes';
import type { VerifiedPath } from '../vocabulary';
import { ACTIVITY_RETRY } from './activity-proxies';
import { runParallel, runSerial, versionAfter, type PathContext } from './batch-paths';
import type { ReverifyCommitInput, ReverifyCommitResult, ReverifyInput, ReverifySummary } from './reverify-contracts';

const reverify = proxyActivities<ReverifyActivities>({ startToCloseTimeout: '15m', retry: ACTIVITY_RETRY });

/** Commits re-run at once: each already runs two paths, so the run stays a background load. */
const COMMITS_AT_ONCE = 2;

export async function reverifyWorkflow(input: ReverifyInput): Promise<ReverifySummary> {
  const { workflowId } = workflowInfo();
  const { seed, sample } = await reverify.startVerificationRun({
    runId: workflowId,
    seed: input.seed ?? workflowId,
    sampleSize: input.sampleSize,
    repositories: input.repositories,
  });
  const summary: ReverifySummary = { runId: workflowId, seed, sampled: sample.length, verified: 0, matches: 0, mismatches: 0, skipped: 0, mismatched: [] };
  const publish = () =>
    upsertSearchAttributes([
      { key: VerifiedCommits, value: summary.verified },
      { key: Mismatches, value: summary.mismatches },
    ]);
  publish();
  await mapWindowed(sample, COMMITS_AT_ONCE, async ({ repo, sha }) => {
    const result = await executeChild(reverifyCommitWorkflow, {
      workflowId: `${workflowId}:${repo}:${sha}`,
      args: [{ runId: workflowId, repo, sha, maxParallel: input.maxParallel }],
      staticSummary: `re-verify ${repo}@${sha.slice(0, 12)}`,
    });
    if (result.outcome === 'skipped') summary.skipped++;
    else {
      summary.verified++;
      if (result.outcome === 'match') summary.matches++;
      else {
        summary.mismatches++;
        summary.mismatched.push(`${repo}@${sha}`);
        log.warn('re-verification mismatch', { repo, sha, differingFiles: result.differingFiles, differingLines: result.differingLines });
      }
    }
    publish();
  });
  return summary;
}

/** One commit: both paths from nothing over its merged uploads, each into its own scratch area. */
export async function reverifyCommitWorkflow(input: ReverifyCommitInput): Promise<ReverifyCommitResult> {
  const { repo, sha, runId } = input;
  const prepared = await reverify.prepareVerification({ repo, sha });
  const paths: { path: VerifiedPath; reportKey: string | null; target: Target }[] = [];
  if (prepared.status === 'ready') {
    // The scratch area is named by this child's run, so a later run never meets its blobs.
    const area = (path: VerifiedPath): PathContext => ({ repo, sha, maxParallel: input.maxParallel, target: { kind: 'scratch', batch: 0, area: { run: workflowInfo().runId, path } } });
    const serialCtx = area('serial');
    const parallelCtx = area('parallel');
    const [serial, parallel] = await Promise.all([
      runSerial(serialCtx, versionAfter(null, 0), prepared.uploads),
      runParallel(parallelCtx, versionAfter(null, 0), prepared.uploads),
    ]);
    paths.push({ path: 'serial', reportKey: serial.merged?.reportKey ?? null, target: serialCtx.target });
    paths.push({ path: 'parallel', reportKey: parallel.merged?.reportKey ?? null, target: parallelCtx.target });
  }
  const verdict = await reverify.concludeVerification.executeWithOptions({ summary: `compare ${repo}@${sha.slice(0, 12)} with its saved report` }, [
    { runId, repo, sha, prepared, paths },
  ]);
  return { outcome: verdict.outcome, differingFiles: verdict.differingFiles, differingLines: verdict.differingLines };
}
