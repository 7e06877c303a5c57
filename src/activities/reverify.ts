import { log } from '@temporalio/activity';
import { compareReports } from '../coverage/compare';
import { filterSessions } from '../coverage/merge';
import type { CoverageReport } from '../coverage/report';
import { readReport } from '../coverage/report-format';
import { keys } from '../storage/blob-store';
import { MAX_BATCH_UPLOADS, type VerifiedPath } from '../vocabulary';
import type { ActivityDeps } from './deps';
import {
  ConcludeVerificationInput,
  PrepareVerificationInput,
  StartVerificationInput,
  VerificationSample,
  type PreparedVerification,
  type VerificationVerdict,
} from './contracts';
import { validateInput } from './validate';

const SAMPLE_LINES_PER_PATH = 10;

/**
 * Scheduled re-verification's activities. They read the database and the commit's blobs and write
 * only the verification tables and blobs under `scratch/reverify/`: the commit, its uploads and
 * its reports are never touched (the paths re-run through processUpload and finishCommit with a
 * scratch target, which write nothing in the database).
 */
export function createReverifyActivities(deps: ActivityDeps) {
  /** Raw uploads retention has deleted (or that never arrived whole): nothing to re-run them from. */
  async function missingRaw(uploads: { rawKey: string }[]): Promise<string[]> {
    const present = await Promise.all(uploads.map((u) => deps.blobs.exists(u.rawKey)));
    return uploads.filter((_, i) => !present[i]).map((u) => u.rawKey);
  }

  return {
    /** Samples the run's commits from its seed and records both; a retry answers the same sample. */
    async startVerificationRun(input: StartVerificationInput): Promise<VerificationSample> {
      const v = validateInput(StartVerificationInput, input, 'startVerificationRun');
      const run = await deps.store.startVerificationRun(v);
      return { seed: run.seed, sample: run.sample };
    },

    /** The commit's merged uploads and saved report, or why it cannot be re-run. */
    async prepareVerification(input: PrepareVerificationInput): Promise<PreparedVerification> {
      const { repo, sha } = validateInput(PrepareVerificationInput, input, 'prepareVerification');
      const [saved, uploads] = await Promise.all([deps.store.getCommitReport(repo, sha), deps.store.listUploads(repo, sha)]);
      const merged = uploads.filter((u) => u.state === 'merged');
      const version = saved?.version ?? null;
      if (saved === null) return { status: 'skipped', reason: 'the commit has no saved report', reportVersion: null, uploads: merged.length };
      if (merged.length === 0) return { status: 'skipped', reason: 'the commit has no merged upload', reportVersion: version, uploads: 0 };
      if (merged.length > MAX_BATCH_UPLOADS) {
        return { status: 'skipped', reason: `${merged.length} merged uploads: more than one batch (${MAX_BATCH_UPLOADS}) can re-run`, reportVersion: version, uploads: merged.length };
      }
      const missing = await missingRaw(merged);
      if (missing.length > 0) return { status: 'skipped', reason: rawMissingReason(missing), reportVersion: version, uploads: merged.length };
      return { status: 'ready', reportKey: saved.reportKey, reportVersion: saved.version, uploads: merged.map((u) => ({ uploadId: u.uploadId, session: u.session })) };
    },

    /**
     * Compares each path's report with the saved one, line by line and on the totals, records the
     * outcome and removes the scratch blobs. A raw upload deleted while the paths ran makes it
     * skipped, not a mismatch. A mismatch is logged at WARN (and counted at /metrics).
     */
    async concludeVerification(input: ConcludeVerificationInput): Promise<VerificationVerdict> {
      const v = validateInput(ConcludeVerificationInput, input, 'concludeVerification');
      const { prepared } = v;
      let verdict: VerificationVerdict;
      if (prepared.status === 'skipped') {
        verdict = { outcome: 'skipped', differingFiles: 0, differingLines: 0, files: [], sample: [], reason: prepared.reason };
      } else {
        const rows = await deps.store.listUploads(v.repo, v.sha);
        const ids = new Set(prepared.uploads.map((u) => u.uploadId));
        const missing = await missingRaw(rows.filter((u) => ids.has(u.uploadId)));
        verdict = missing.length > 0 ? { outcome: 'skipped', differingFiles: 0, differingLines: 0, files: [], sample: [], reason: rawMissingReason(missing) } : await compareAll(v.repo, v.sha, prepared.reportKey, v.paths);
      }
      await deps.store.recordVerification({
        runId: v.runId,
        repo: v.repo,
        sha: v.sha,
        outcome: verdict.outcome,
        reportVersion: prepared.reportVersion,
        uploads: prepared.status === 'ready' ? prepared.uploads.length : prepared.uploads,
        differingFiles: verdict.differingFiles,
        differingLines: verdict.differingLines,
        files: verdict.files,
        sample: verdict.sample,
        reason: verdict.reason,
      });
      if (verdict.outcome === 'mismatch') {
        log.warn('re-verification mismatch: the re-run report differs from the saved one', {
          repo: v.repo,
          sha: v.sha,
          run: v.runId,
          differingFiles: verdict.differingFiles,
          differingLines: verdict.differingLines,
          files: verdict.files.slice(0, 10),
          sample: verdict.sample.slice(0, 5),
        });
      }
      if (prepared.status === 'ready') await discardScratch(v.repo, v.sha, prepared.uploads.map((u) => u.uploadId), v.paths);
      return verdict;
    },
  };

  async function compareAll(repo: string, sha: string, savedKey: string, paths: ConcludeVerificationInput['paths']): Promise<VerificationVerdict> {
    const saved = await load(savedKey);
    if (saved === null) {
      // A version superseded since the run began may be gone by design; the current one never.
      const current = await deps.store.getCommitReport(repo, sha);
      if (current !== null && current.reportKey !== savedKey) {
        return { outcome: 'skipped', differingFiles: 0, differingLines: 0, files: [], sample: [], reason: `the report compared (${savedKey}) was superseded and removed meanwhile` };
      }
      return { outcome: 'mismatch', differingFiles: 0, differingLines: 0, files: [], sample: [`the saved report ${savedKey} is missing`], reason: 'saved report missing from storage' };
    }
    // Carried-forward sessions are their ancestor's uploads, verified with that commit: the
    // re-runs hold only this commit's own.
    const own = saved.sessions.some((s) => s.type === 'carriedforward') ? filterSessions(saved, (s) => s.type !== 'carriedforward') : saved;
    const files = new Set<string>();
    const sample: string[] = [];
    const differing: VerifiedPath[] = [];
    let differingFiles = 0;
    let differingLines = 0;
    for (const p of paths) {
      const rerun = p.reportKey === null ? null : await load(p.reportKey);
      if (rerun === null) {
        differing.push(p.path);
        sample.push(`${p.path}: the re-run merged nothing`);
        continue;
      }
      const diff = compareReports(own, rerun, SAMPLE_LINES_PER_PATH);
      if (diff.identical) continue;
      differing.push(p.path);
      for (const f of diff.differingPaths) files.add(f);
      differingFiles = Math.max(differingFiles, diff.differingFiles);
      differingLines = Math.max(differingLines, diff.differingLines);
      // The saved report is the "expected" side: "src/a.js:12 expected <saved>, got <re-run>".
      for (const s of diff.sample) sample.push(`${p.path}: ${s}`.slice(0, 1000));
    }
    if (differing.length === 0) return { outcome: 'match', differingFiles: 0, differingLines: 0, files: [], sample: [], reason: null };
    return {
      outcome: 'mismatch',
      differingFiles,
      differingLines,
      files: [...files].sort().slice(0, 100),
      sample: sample.slice(0, 40),
      reason: `the ${differing.join(' and ')} re-run${differing.length > 1 ? 's differ' : ' differs'} from the saved report`,
    };
  }

  async function load(key: string): Promise<CoverageReport | null> {
    const bytes = await deps.blobs.get(key);
    return bytes === null ? null : readReport(bytes, { name: key });
  }

  /** Scratch is for this comparison only: its intermediates and reports go once it is recorded. */
  async function discardScratch(repo: string, sha: string, uploadIds: string[], paths: ConcludeVerificationInput['paths']): Promise<void> {
    for (const p of paths) {
      if (p.target.kind !== 'scratch' || p.target.area === undefined) continue; // never anything but a re-verification's own area
      const { batch, area } = p.target;
      const doomed = [...uploadIds.map((id) => keys.scratchIntermediate(repo, sha, batch, id, area)), keys.scratchReport(repo, sha, batch, area)];
      await Promise.all(doomed.map((k) => deps.blobs.delete(k)));
    }
  }
}

function rawMissingReason(missing: string[]): string {
  return `raw upload${missing.length === 1 ? '' : 's'} missing from storage (expired or deleted): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`;
}
