/**
 * What the pages read besides the store's views: commit list rows with their modes (Temporal's
 * visibility), a saved report, and a report's files with their totals for the tree.
 */
import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import { ReportTotalsSchema } from '../activities/contracts';
import { commitState, experimentOutcome, type CommitTotals } from '../api/commit-view';
import { ReportParseError } from '../coverage/errors';
import type { CoverageReport } from '../coverage/report';
import { readFileTotals, readReport } from '../coverage/report-format';
import type { CommitListItem } from '../storage/commit-lists';
import { keys, type BlobStore } from '../storage/blob-store';
import { UploadMode } from '../temporal/search-attributes';
import { commitWorkflowId } from '../workflows/commit-contracts';
import type { CommitListRow } from './components/commit-list';
import { fileEntries, type FileEntry } from './tree';

export const totalsOf = (raw: unknown): CommitTotals | null => {
  const r = ReportTotalsSchema.safeParse(raw);
  return r.success ? r.data : null;
};

/** The pages' commit list rows: state and outcome derived as the commit API derives them, the mode from visibility. */
export async function listRows(client: Client, slug: string, items: CommitListItem[]): Promise<CommitListRow[]> {
  const modes = await latestModes(client, slug, items.map((c) => c.sha));
  return items.map((c) => {
    const mode = modes.get(c.sha) ?? null;
    return {
      sha: c.sha,
      branch: c.branch,
      pullRequest: c.pullRequest,
      createdAt: c.createdAt,
      state: commitState({ uploads: c.uploads, reportSaved: c.totals !== null, mode, verdictBatches: c.experiments.map((e) => e.batch) }),
      totals: totalsOf(c.totals),
      mode,
      experimentOutcome: experimentOutcome(c.experiments.map((e) => e.outcome)),
      uploads: c.uploads.length,
    };
  });
}

export async function loadReport(blobs: BlobStore, key: string): Promise<CoverageReport> {
  const bytes = await blobs.get(key);
  if (bytes === null) throw new Error(`commit report blob ${key} is missing`);
  return readReport(bytes);
}

/**
 * A report's files with their totals, for the tree: from the per-file totals the finisher stores
 * with each commit report (a record per file, so a first view costs what the file count costs),
 * else from the report decoded whole, as before them: reports saved earlier have none, and
 * unreadable ones are not worth a failed page when the report itself gives the same numbers.
 */
export async function loadFileEntries(blobs: BlobStore, key: string, log: FastifyBaseLogger): Promise<FileEntry[]> {
  const totalsKey = keys.reportTotals(key);
  const stored = await blobs.get(totalsKey);
  if (stored !== null) {
    try {
      return readFileTotals(stored, { name: totalsKey });
    } catch (err) {
      if (!(err instanceof ReportParseError)) throw err;
      log.warn({ err, key: totalsKey }, 'per-file totals unreadable: reading the whole report instead');
    }
  }
  return fileEntries(await loadReport(blobs, key));
}

/**
 * The latest mode of each commit's workflow, from Temporal's visibility in one query (the commit
 * page asks the workflow itself, as the API does). Unknown when Temporal cannot be reached: the
 * list still renders.
 */
async function latestModes(client: Client, repo: string, shas: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (shas.length === 0) return out;
  const started = new Map<string, number>();
  // Slugs and shas are restricted to letters, digits and . _ - /: nothing to escape in the query.
  const query = `RepoSlug = "${repo}" AND CommitSha IN (${shas.map((s) => `"${s}"`).join(', ')})`;
  try {
    for await (const wf of client.workflow.list({ query })) {
      const sha = shas.find((s) => wf.workflowId === commitWorkflowId(repo, s));
      const mode = wf.typedSearchAttributes.get(UploadMode);
      if (sha === undefined || mode === undefined) continue;
      const at = wf.startTime.getTime();
      if ((started.get(sha) ?? -1) < at) {
        started.set(sha, at);
        out.set(sha, mode);
      }
    }
  } catch {
    return out;
  }
  return out;
}
