import { z } from 'zod';
import { CommitShaSchema, RepoSlugSchema, UploadIdSchema } from '../vocabulary';
import { Int32, JsonValue } from './columns';
import { lockCommit } from './commits';
import type { Database } from './database';
import { NotFoundError } from './errors';
import { toCommitReport, toNumber, type CommitReport, type CommitReportRecord } from './rows';
import { mergeUploads } from './uploads';

export const SaveBatchReportInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  /** The claim whose uploads the report merges. */
  batch: Int32,
  version: Int32.positive(),
  reportKey: z.string().min(1),
  totals: JsonValue,
  uploadIds: z
    .array(UploadIdSchema)
    .min(1)
    .max(100_000)
    .refine((ids) => new Set(ids).size === ids.length, 'upload ids must be distinct'),
});
export type SaveBatchReportInput = z.input<typeof SaveBatchReportInput>;

/**
 * - saved: the version is the commit's report now and the batch's uploads are merged;
 * - superseded: the uploads are no longer claimed by this batch (a later run released them);
 * - outdated: a higher version (or another report of the same version) is already saved.
 */
export type SaveBatchOutcome = 'saved' | 'superseded' | 'outdated';

/** A commit's merged report: the saved version's blob key and totals (`commit_reports`). */
export class ReportStore {
  constructor(private readonly db: Database) {}

  /**
   * A finisher's result, in one transaction: saves the report as the commit's and marks the
   * batch's uploads merged, but only while every one of them is still claimed by `batch` and no
   * higher version is saved (the same version with the same key is a retried save). So a
   * finisher of a run that no longer exists, finishing late, neither moves the report backwards
   * nor marks merged what the saved report does not contain.
   */
  async saveBatchReport(raw: SaveBatchReportInput): Promise<SaveBatchOutcome> {
    const input = SaveBatchReportInput.parse(raw);
    return this.db.transaction(async (tx) => {
      const commit = await lockCommit(tx, input.repo, input.sha);
      if (commit === undefined) throw new NotFoundError(`commit ${input.repo}@${input.sha} does not exist`);
      const [{ n }] = await tx.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM uploads WHERE commit_id = $1 AND batch = $2 AND id = ANY($3::text[])`,
        [commit.id, input.batch, input.uploadIds],
      );
      if (toNumber(n) !== input.uploadIds.length) return 'superseded';
      const saved = await tx.query(
        `INSERT INTO commit_reports (commit_id, version, report_key, totals) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (commit_id) DO UPDATE
           SET version = EXCLUDED.version, report_key = EXCLUDED.report_key, totals = EXCLUDED.totals, updated_at = now()
           WHERE commit_reports.version < EXCLUDED.version
              OR (commit_reports.version = EXCLUDED.version AND commit_reports.report_key = EXCLUDED.report_key)
         RETURNING commit_id`,
        [commit.id, input.version, input.reportKey, JSON.stringify(input.totals)],
      );
      if (saved.length === 0) return 'outdated';
      await mergeUploads(tx, input.uploadIds);
      return 'saved';
    });
  }

  async getCommitReport(repo: string, sha: string): Promise<CommitReport | null> {
    const [row] = await this.db.query<CommitReportRecord>(
      `SELECT cr.version, cr.report_key, cr.totals, cr.updated_at FROM commit_reports cr
       JOIN commits c ON c.id = cr.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE r.slug = $1 AND c.sha = $2`,
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha)],
    );
    return row === undefined ? null : toCommitReport(row);
  }

  /**
   * The newest commit of the branch (by when its row was created: its first upload) whose report
   * is saved and whose uploads are all done, with that report: what a badge shows.
   */
  async latestCompleteReport(repo: string, branch: string): Promise<(CommitReport & { sha: string }) | null> {
    const [row] = await this.db.query<CommitReportRecord & { sha: string }>(
      `SELECT c.sha, cr.version, cr.report_key, cr.totals, cr.updated_at FROM commits c
       JOIN repositories r ON r.id = c.repository_id JOIN commit_reports cr ON cr.commit_id = c.id
       WHERE r.slug = $1 AND c.branch = $2
         AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.commit_id = c.id AND u.state IN ('uploaded', 'processing', 'processed'))
       ORDER BY c.created_at DESC, c.id DESC LIMIT 1`,
      [RepoSlugSchema.parse(repo), z.string().min(1).max(1000).parse(branch)],
    );
    return row === undefined ? null : { ...toCommitReport(row), sha: row.sha };
  }
}
