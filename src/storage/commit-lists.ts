import { z } from 'zod';
import { ExperimentOutcomeSchema, RepoSlugSchema, UploadStateSchema, type ExperimentOutcome, type UploadState } from '../vocabulary';
import type { Queryable } from './database';
import { toDate, toNumber, type Timestamp } from './rows';

/** The reads behind the web pages' lists: a repository's commits, a branch's trend, the home page. */

export interface CommitListItem {
  sha: string;
  branch: string | null;
  pullRequest: number | null;
  /** When the commit's first upload (or Codecov's create-commit) arrived. */
  createdAt: Date;
  /** The saved report's totals, as stored (the pages validate them). */
  totals: unknown;
  uploads: { state: UploadState; batch: number | null }[];
  /** Per experiment batch its verdict, in batch order. */
  experiments: { batch: number; outcome: ExperimentOutcome }[];
}

export const ListCommitsInput = z.object({
  repo: RepoSlugSchema,
  branch: z.string().min(1).max(1000).optional(),
  /** Only the commits recorded with this pull request. */
  pullRequest: z.number().int().min(0).max(2_147_483_647).optional(),
  limit: z.number().int().min(1).max(500),
  /** Only commits created before this one (keyset pagination by time, then id). */
  before: z.object({ createdAt: z.date(), sha: z.string() }).optional(),
});
export type ListCommitsInput = z.input<typeof ListCommitsInput>;

interface CommitListRecord {
  id: number;
  sha: string;
  branch: string | null;
  pull_request: number | null;
  created_at: Timestamp;
  totals: unknown;
  upload_states: string[] | null;
  upload_batches: (number | null)[] | null;
  experiment_batches: number[] | null;
  experiment_outcomes: string[] | null;
}

/** A repository's commits, newest first, with what their state and outcome are derived from. */
export async function listCommits(q: Queryable, raw: ListCommitsInput): Promise<CommitListItem[]> {
  const input = ListCommitsInput.parse(raw);
  const rows = await q.query<CommitListRecord>(
    `WITH page AS (
       SELECT c.id, c.sha, c.branch, c.pull_request, c.created_at FROM commits c
       JOIN repositories r ON r.id = c.repository_id
       WHERE r.slug = $1 AND ($2::text IS NULL OR c.branch = $2)
         AND ($4::timestamptz IS NULL OR (c.created_at, c.sha) < ($4::timestamptz, $5::text))
         AND ($6::integer IS NULL OR c.pull_request = $6)
       ORDER BY c.created_at DESC, c.sha DESC LIMIT $3)
     SELECT p.*, cr.totals,
       (SELECT array_agg(u.state ORDER BY u.session) FROM uploads u WHERE u.commit_id = p.id) AS upload_states,
       (SELECT array_agg(u.batch ORDER BY u.session) FROM uploads u WHERE u.commit_id = p.id) AS upload_batches,
       (SELECT array_agg(e.batch ORDER BY e.batch) FROM experiment_results e WHERE e.commit_id = p.id) AS experiment_batches,
       (SELECT array_agg(e.outcome ORDER BY e.batch) FROM experiment_results e WHERE e.commit_id = p.id) AS experiment_outcomes
     FROM page p LEFT JOIN commit_reports cr ON cr.commit_id = p.id
     ORDER BY p.created_at DESC, p.sha DESC`,
    [input.repo, input.branch ?? null, input.limit, input.before?.createdAt.toISOString() ?? null, input.before?.sha ?? null, input.pullRequest ?? null],
  );
  return rows.map((r) => {
    const states = r.upload_states ?? [];
    const batches = r.upload_batches ?? [];
    const eBatches = r.experiment_batches ?? [];
    const outcomes = r.experiment_outcomes ?? [];
    return {
      sha: r.sha,
      branch: r.branch,
      pullRequest: r.pull_request === null ? null : toNumber(r.pull_request),
      createdAt: toDate(r.created_at),
      totals: r.totals,
      uploads: states.map((s, i) => ({ state: UploadStateSchema.parse(s), batch: batches[i] ?? null })),
      experiments: eBatches.map((b, i) => ({ batch: toNumber(b), outcome: ExperimentOutcomeSchema.parse(outcomes[i]) })),
    };
  });
}

/** The branches a repository's commits name, most recently used first. */
export async function listBranches(q: Queryable, repo: string, limit = 100): Promise<string[]> {
  const rows = await q.query<{ branch: string }>(
    `SELECT c.branch FROM commits c JOIN repositories r ON r.id = c.repository_id
     WHERE r.slug = $1 AND c.branch IS NOT NULL GROUP BY c.branch ORDER BY max(c.created_at) DESC LIMIT $2`,
    [RepoSlugSchema.parse(repo), z.number().int().min(1).max(1000).parse(limit)],
  );
  return rows.map((r) => r.branch);
}

export interface CoveragePoint {
  sha: string;
  createdAt: Date;
  totals: unknown;
}

/** A branch's saved reports, oldest first: the last `limit` commits that have one. */
export async function branchCoverage(q: Queryable, repo: string, branch: string, limit: number): Promise<CoveragePoint[]> {
  const rows = await q.query<{ sha: string; created_at: Timestamp; totals: unknown }>(
    `SELECT * FROM (
       SELECT c.sha, c.created_at, cr.totals FROM commits c
       JOIN repositories r ON r.id = c.repository_id JOIN commit_reports cr ON cr.commit_id = c.id
       WHERE r.slug = $1 AND c.branch = $2 ORDER BY c.created_at DESC, c.sha DESC LIMIT $3) t
     ORDER BY created_at, sha`,
    [RepoSlugSchema.parse(repo), z.string().min(1).max(1000).parse(branch), z.number().int().min(1).max(5000).parse(limit)],
  );
  return rows.map((r) => ({ sha: r.sha, createdAt: toDate(r.created_at), totals: r.totals }));
}

/**
 * Per repository, the last `limit` saved reports of its default branch (its settings' or
 * `fallbackBranch`), oldest first: the home page's latest figure and sparkline.
 */
export async function defaultBranchCoverage(q: Queryable, slugs: readonly string[], fallbackBranch: string, limit: number): Promise<Map<string, CoveragePoint[]>> {
  const out = new Map<string, CoveragePoint[]>();
  if (slugs.length === 0) return out;
  const rows = await q.query<{ slug: string; sha: string; created_at: Timestamp; totals: unknown }>(
    `SELECT slug, sha, created_at, totals FROM (
       SELECT r.slug, c.sha, c.created_at, cr.totals,
         row_number() OVER (PARTITION BY r.id ORDER BY c.created_at DESC, c.sha DESC) AS n
       FROM repositories r JOIN commits c ON c.repository_id = r.id
         AND c.branch = COALESCE(r.settings->>'defaultBranch', $2)
       JOIN commit_reports cr ON cr.commit_id = c.id
       WHERE r.slug = ANY($1::text[])) t
     WHERE n <= $3 ORDER BY slug, created_at, sha`,
    [slugs.map((s) => RepoSlugSchema.parse(s)), z.string().min(1).max(1000).parse(fallbackBranch), z.number().int().min(1).max(500).parse(limit)],
  );
  for (const r of rows) {
    const list = out.get(r.slug) ?? [];
    list.push({ sha: r.sha, createdAt: toDate(r.created_at), totals: r.totals });
    out.set(r.slug, list);
  }
  return out;
}
