import { CommitShaSchema, RepoSlugSchema } from '../vocabulary';
import type { Queryable } from './database';
import { NotFoundError } from './errors';
import { CommitMetadataSchema, RepoSettingsSchema, toCommit, toCommitMetadata, type CommitMetadata, type CommitRecord, type CommitRow, type RepoSettings } from './rows';

/**
 * The commit row every aggregate hangs from: reads, and the helpers the other aggregates' writes
 * share (a commit row is created on first use, and locked to order one commit's writers).
 */

export async function getCommit(q: Queryable, repo: string, sha: string): Promise<CommitRow | null> {
  const [row] = await q.query<CommitRecord>(
    `SELECT c.*, r.slug FROM commits c JOIN repositories r ON r.id = c.repository_id WHERE r.slug = $1 AND c.sha = $2`,
    [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha)],
  );
  return row === undefined ? null : toCommit(row);
}

export async function repositoryIdOf(q: Queryable, slug: string): Promise<number> {
  const [row] = await q.query<{ id: number }>(`SELECT id FROM repositories WHERE slug = $1`, [slug]);
  if (row === undefined) throw new NotFoundError(`repository ${slug} does not exist`);
  return row.id;
}

/** The commit's id, creating its row when needed. */
export async function ensureCommit(q: Queryable, repo: string, sha: string): Promise<number> {
  const repositoryId = await repositoryIdOf(q, repo);
  await q.query(`INSERT INTO commits (repository_id, sha) VALUES ($1, $2) ON CONFLICT (repository_id, sha) DO NOTHING`, [
    repositoryId,
    sha,
  ]);
  const [row] = await q.query<{ id: number }>(`SELECT id FROM commits WHERE repository_id = $1 AND sha = $2`, [
    repositoryId,
    sha,
  ]);
  if (row === undefined) throw new Error(`commit ${repo}@${sha} vanished while being written`);
  return row.id;
}

/**
 * Locks an existing commit's row until the transaction ends: claims, run starts and finishers of
 * one commit queue here. Undefined when the commit does not exist.
 */
export async function lockCommit(tx: Queryable, repo: string, sha: string): Promise<{ id: number; run_id: string | null } | undefined> {
  const [commit] = await tx.query<{ id: number; run_id: string | null }>(
    `SELECT c.id, c.run_id FROM commits c JOIN repositories r ON r.id = c.repository_id
     WHERE r.slug = $1 AND c.sha = $2 FOR UPDATE OF c`,
    [repo, sha],
  );
  return commit;
}

/**
 * The SET list of an upsert of a commit's metadata columns: each keeps its first value and takes
 * the new one only while still unset (registration and `recordCommitMetadata` alike).
 */
export const FILL_COMMIT_METADATA = ['branch', 'parent_sha', 'pull_request', 'ci_service', 'build', 'job', 'ci_url']
  .map((c) => `${c} = COALESCE(commits.${c}, EXCLUDED.${c})`)
  .join(', ');

/**
 * Records what CI says about a commit, creating its row when needed, and returns what is stored.
 * The first upload that carries a value sets it; later non-empty values only fill gaps, so a
 * re-run job or a late upload from another CI never rewrites where a commit came from. One
 * statement: its row lock is held only for itself.
 */
export async function recordCommitMetadata(q: Queryable, repo: string, sha: string, raw: CommitMetadata): Promise<CommitMetadata> {
  const m = CommitMetadataSchema.parse(raw);
  const repositoryId = await repositoryIdOf(q, RepoSlugSchema.parse(repo));
  const [row] = await q.query<Parameters<typeof toCommitMetadata>[0]>(
    `INSERT INTO commits (repository_id, sha, branch, parent_sha, pull_request, ci_service, build, job, ci_url)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (repository_id, sha) DO UPDATE SET ${FILL_COMMIT_METADATA}
     RETURNING branch, parent_sha, pull_request, ci_service, build, job, ci_url`,
    [
      repositoryId,
      CommitShaSchema.parse(sha),
      m.branch ?? null,
      m.parentSha ?? null,
      m.pullRequest ?? null,
      m.ciService ?? null,
      m.build ?? null,
      m.job ?? null,
      m.ciUrl ?? null,
    ],
  );
  if (row === undefined) throw new Error(`commit ${repo}@${sha} vanished while being written`);
  return toCommitMetadata(row);
}

/** What a run of a commit's workflow starts with: the repository's settings and the commit's metadata. */
export interface CommitStartFacts {
  settings: RepoSettings;
  metadata: CommitMetadata;
}

/** One read for a workflow start; null when the repository does not exist (a commit may not yet). */
export async function getCommitStartFacts(q: Queryable, repo: string, sha: string): Promise<CommitStartFacts | null> {
  const [row] = await q.query<Parameters<typeof toCommitMetadata>[0] & { settings: unknown }>(
    `SELECT r.settings, c.branch, c.parent_sha, c.pull_request, c.ci_service, c.build, c.job, c.ci_url
     FROM repositories r LEFT JOIN commits c ON c.repository_id = r.id AND c.sha = $2
     WHERE r.slug = $1`,
    [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha)],
  );
  return row === undefined ? null : toCommitStartFacts(row);
}

/** A row of the repository's settings and the commit's metadata columns as start facts (unreadable settings count as none). */
export function toCommitStartFacts(row: Parameters<typeof toCommitMetadata>[0] & { settings: unknown }): CommitStartFacts {
  const settings = RepoSettingsSchema.safeParse(row.settings ?? {});
  return { settings: settings.success ? settings.data : {}, metadata: toCommitMetadata(row) };
}
