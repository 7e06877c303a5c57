import { z } from 'zod';
import { CommitShaSchema, MAX_CARRYFORWARD_DEPTH, OPEN_UPLOAD_STATES, RepoSlugSchema } from '../vocabulary';
import { Int32, JsonValue } from './columns';
import { lockCommit, repositoryIdOf } from './commits';
import type { Database } from './database';
import { NotFoundError } from './errors';

/** An ancestor on a commit's recorded parent chain; `distance` 1 is the parent. */
export interface CarryforwardAncestor {
  sha: string;
  distance: number;
  /**
   * Its saved report, when the ancestor is complete: saved, its own carryforward decided, and no
   * upload waiting or in flight. Null otherwise (unknown commit, still processing, nothing merged).
   */
  reportKey: string | null;
}

export const RecordCarryforwardInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  /** Only the run that owns the commit decides. */
  runId: z.string().min(1).max(200),
  /** The saved version the decision was made on (0: none). */
  baseVersion: Int32.nonnegative(),
  /** The report with the carried sessions, saved as baseVersion + 1; absent when nothing was carried. */
  report: z.object({ reportKey: z.string().min(1), totals: JsonValue }).optional(),
});
export type RecordCarryforwardInput = z.input<typeof RecordCarryforwardInput>;

/**
 * - saved: the decision (and its report) is recorded, or had been by an earlier attempt;
 * - superseded: the run no longer owns the commit;
 * - outdated: another version was saved since the decision was made.
 */
export type RecordCarryforwardOutcome = 'saved' | 'superseded' | 'outdated';

/** A commit's carryforward: its ancestors as recorded, and the once-per-commit decision (`commits.carryforward_at`). */
export class CarryforwardStore {
  constructor(private readonly db: Database) {}

  /**
   * The commit's recorded parent chain, nearest first, at most `depth` commits (a chain that
   * loops stops at the bound too). It ends where a commit is unknown or names no parent.
   */
  async listAncestors(repo: string, sha: string, depth: number): Promise<CarryforwardAncestor[]> {
    const repositoryId = await repositoryIdOf(this.db, RepoSlugSchema.parse(repo));
    const rows = await this.db.query<{ sha: string; distance: number; report_key: string | null }>(
      `WITH RECURSIVE chain (sha, distance) AS (
         SELECT parent_sha, 1 FROM commits WHERE repository_id = $1 AND sha = $2 AND parent_sha IS NOT NULL
         UNION ALL
         SELECT c.parent_sha, chain.distance + 1 FROM chain
         JOIN commits c ON c.repository_id = $1 AND c.sha = chain.sha
         WHERE chain.distance < $3 AND c.parent_sha IS NOT NULL
       )
       SELECT chain.sha, chain.distance,
         CASE WHEN c.carryforward_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.commit_id = c.id AND u.state = ANY($4::text[]))
              THEN cr.report_key END AS report_key
       FROM chain
       LEFT JOIN commits c ON c.repository_id = $1 AND c.sha = chain.sha
       LEFT JOIN commit_reports cr ON cr.commit_id = c.id
       ORDER BY chain.distance`,
      [repositoryId, CommitShaSchema.parse(sha), z.number().int().min(1).max(MAX_CARRYFORWARD_DEPTH).parse(depth), [...OPEN_UPLOAD_STATES]],
    );
    return rows.map((r) => ({ sha: r.sha, distance: Number(r.distance), reportKey: r.report_key }));
  }

  /**
   * Records the commit's carryforward decision, with the report holding the carried sessions when
   * there are any, in one transaction: only for the run that owns the commit, and only on top of
   * the version the decision was made on. Deciding again (a retried activity) changes nothing.
   */
  async recordCarryforward(raw: RecordCarryforwardInput): Promise<RecordCarryforwardOutcome> {
    const input = RecordCarryforwardInput.parse(raw);
    return this.db.transaction(async (tx) => {
      const commit = await lockCommit(tx, input.repo, input.sha);
      if (commit === undefined) throw new NotFoundError(`commit ${input.repo}@${input.sha} does not exist`);
      if (commit.run_id !== input.runId) return 'superseded';
      const [state] = await tx.query<{ carryforward_at: unknown; version: number | null }>(
        `SELECT c.carryforward_at, cr.version FROM commits c LEFT JOIN commit_reports cr ON cr.commit_id = c.id WHERE c.id = $1`,
        [commit.id],
      );
      if (state?.carryforward_at !== null && state?.carryforward_at !== undefined) return 'saved';
      if ((state?.version ?? 0) !== input.baseVersion) return 'outdated';
      if (input.report) {
        await tx.query(
          `INSERT INTO commit_reports (commit_id, version, report_key, totals) VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT (commit_id) DO UPDATE
             SET version = EXCLUDED.version, report_key = EXCLUDED.report_key, totals = EXCLUDED.totals, updated_at = now()`,
          [commit.id, input.baseVersion + 1, input.report.reportKey, JSON.stringify(input.report.totals)],
        );
      }
      await tx.query(`UPDATE commits SET carryforward_at = now() WHERE id = $1`, [commit.id]);
      return 'saved';
    });
  }
}
