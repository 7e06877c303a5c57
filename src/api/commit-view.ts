import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { z } from 'zod';
import { ReportTotalsSchema } from '../activities/contracts';
import { warningCount } from '../coverage/warnings';
import { commitPriority, type PriorityReason } from '../services/commit-priority';
import type { CommitMetadata, Store, UploadRow } from '../storage/store';
import { UploadMode } from '../temporal/search-attributes';
import { commitWorkflowId } from '../workflows/commit-contracts';
import {
  isTerminalUploadState as isTerminal,
  publicUploadState,
  type ExperimentOutcome,
  type PublicCommitState,
  type PublicUploadState,
  type UploadState,
} from '../vocabulary';
import { uploadError } from './views';

/**
 * A commit as the API and the pages show it: one definition of its state, mode and experiment
 * outcome, so a page and `GET …/commits/{sha}` never disagree.
 */

export type CommitTotals = z.infer<typeof ReportTotalsSchema>;

/** What the commit's state is derived from: its uploads' states, and for experiments the verdicts. */
export interface CommitStateFacts {
  uploads: readonly { state: UploadState; batch: number | null }[];
  reportSaved: boolean;
  /** The workflow's latest mode; only consulted once every upload is done. */
  mode: string | null;
  /** The batches with a recorded experiment verdict. */
  verdictBatches: readonly number[];
}

/**
 * `complete` once every upload is terminal and the report holds what was merged; `cancelled` when
 * the run was cancelled (some upload ended so); `pending` before anything started; `processing`
 * otherwise.
 */
export function uploadsState(uploads: readonly { state: UploadState }[], reportSaved: boolean): PublicCommitState {
  if (uploads.length === 0) return 'pending';
  if (uploads.every((u) => isTerminal(u.state))) {
    if (uploads.some((u) => u.state === 'cancelled')) return 'cancelled';
    // Every upload failing leaves nothing to save: the commit is done all the same.
    const merged = uploads.some((u) => u.state === 'merged');
    return !merged || reportSaved ? 'complete' : 'processing';
  }
  return uploads.every((u) => u.state === 'uploaded') ? 'pending' : 'processing';
}

/**
 * The public state. In experiment mode the real (serial) path marks its uploads merged before the
 * shadow's comparison is recorded: the commit is complete only once its last batch has its
 * verdict, so a client waiting for `complete` also gets the experiment's outcome.
 */
export function commitState(f: CommitStateFacts): PublicCommitState {
  const state = uploadsState(f.uploads, f.reportSaved);
  if (state !== 'complete' || f.mode !== 'experiment') return state;
  const lastBatch = Math.max(-1, ...f.uploads.map((u) => u.batch ?? -1));
  return lastBatch >= 0 && !f.verdictBatches.includes(lastBatch) ? 'processing' : state;
}

/** One verdict for the commit: the first that is not a match, else match; null without any. */
export function experimentOutcome(outcomes: readonly ExperimentOutcome[]): ExperimentOutcome | null {
  if (outcomes.length === 0) return null;
  return outcomes.find((o) => o !== 'match') ?? 'match';
}

export interface CommitSnapshot {
  uploads: UploadRow[];
  totals: CommitTotals | null;
  reportKey: string | null;
  state: PublicCommitState;
  /** Read only once the uploads are done (null before): the workflow's mode and the verdicts. */
  mode: string | null;
  experiments: ExperimentOutcome[];
}

export async function commitSnapshot(store: Store, client: Client, repo: string, sha: string): Promise<CommitSnapshot> {
  // Uploads first, the report after, never at once: a finisher marks its uploads merged and saves
  // the report in one transaction, so a report read after the uploads is at least as new as they
  // say. Read together, a merged upload could be shown beside the report from before its merge.
  const uploads = await store.listUploads(repo, sha);
  const report = await store.getCommitReport(repo, sha);
  const totals = report === null ? null : ReportTotalsSchema.safeParse(report.totals);
  let state = uploadsState(uploads, report !== null);
  let mode: string | null = null;
  let experiments: ExperimentOutcome[] = [];
  if (state === 'complete') {
    const [m, rows] = await Promise.all([workflowMode(client, repo, sha), store.listExperiments(repo, sha)]);
    mode = m;
    experiments = rows.map((e) => e.outcome);
    state = commitState({ uploads, reportSaved: true, mode, verdictBatches: rows.map((e) => e.batch) });
  }
  return {
    uploads,
    totals: totals?.success ? totals.data : null,
    reportKey: report?.reportKey ?? null,
    state,
    mode,
    experiments,
  };
}

export const isSettled = (s: { state: PublicCommitState }) => s.state === 'complete' || s.state === 'cancelled';

/** The latest mode the commit's workflow ran a batch in; null when it never did or is unknown. */
export async function workflowMode(client: Client, repo: string, sha: string): Promise<string | null> {
  try {
    const desc = await client.workflow.getHandle(commitWorkflowId(repo, sha)).describe();
    return desc.typedSearchAttributes.get(UploadMode) ?? null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

export interface UploadView {
  uploadId: string;
  session: number;
  state: PublicUploadState;
  error: { code: string; message: string } | null;
  warnings: number;
}

export interface CommitView {
  repo: string;
  sha: string;
  state: PublicCommitState;
  totals: CommitTotals | null;
  mode: string | null;
  experimentOutcome: ExperimentOutcome | null;
  metadata: CommitMetadata;
  priority: { key: number; reason: PriorityReason };
  uploads: UploadView[];
}

/**
 * The commit's view from a snapshot (`poll` may have waited for it to settle): what
 * `GET …/commits/{sha}` answers, less its URLs. Null when the commit does not exist.
 */
export async function commitView(
  store: Store,
  client: Client,
  defaultBranch: string,
  repo: string,
  sha: string,
  poll: (load: () => Promise<CommitSnapshot>) => Promise<CommitSnapshot> = (load) => load(),
): Promise<{ view: CommitView; snapshot: CommitSnapshot } | null> {
  const [commit, facts] = await Promise.all([store.getCommit(repo, sha), store.getCommitStartFacts(repo, sha)]);
  if (commit === null) return null;
  const priority = commitPriority({
    branch: commit.metadata.branch,
    pullRequest: commit.metadata.pullRequest,
    settings: facts?.settings ?? {},
    defaultBranch,
  });
  const snap = await poll(() => commitSnapshot(store, client, repo, sha));
  const [mode, experiments] =
    snap.state === 'complete'
      ? [snap.mode, snap.experiments]
      : await Promise.all([workflowMode(client, repo, sha), store.listExperiments(repo, sha).then((rows) => rows.map((e) => e.outcome))]);
  return {
    snapshot: snap,
    view: {
      repo,
      sha,
      state: snap.state,
      totals: snap.totals,
      mode,
      experimentOutcome: experimentOutcome(experiments),
      metadata: commit.metadata,
      priority,
      uploads: snap.uploads.map(uploadView),
    },
  };
}

export function uploadView(u: UploadRow): UploadView {
  return { uploadId: u.uploadId, session: u.session, state: publicUploadState(u.state), error: uploadError(u), warnings: warningCount(u.warnings) };
}
