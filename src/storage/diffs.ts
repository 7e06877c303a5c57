import { z } from 'zod';
import { CommitShaSchema, RepoSlugSchema } from '../vocabulary';
import { ensureCommit } from './commits';
import type { Database } from './database';
import { toDate, toNumber, type Timestamp } from './rows';

export const SaveCommitDiffInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  /** The unified diff, gzipped. */
  gzip: z.instanceof(Uint8Array),
  /** Its size before compression. */
  bytes: z.number().int().nonnegative(),
  /** The commit it was taken against (`--diff-base`'s merge-base), when the sender says. */
  baseSha: CommitShaSchema.optional(),
});
export type SaveCommitDiffInput = z.input<typeof SaveCommitDiffInput>;

export interface CommitDiffRow {
  gzip: Uint8Array;
  bytes: number;
  baseSha: string | null;
  updatedAt: Date;
}

/**
 * A commit's unified diff, one per commit (a later one replaces it), gzipped in the row: diffs are
 * megabytes at most (the gateway caps them), and a row lives and goes with its commit (ON DELETE
 * CASCADE), so retention's blob sweep has nothing of them to find.
 */
export class DiffStore {
  constructor(private readonly db: Database) {}

  async saveCommitDiff(raw: SaveCommitDiffInput): Promise<void> {
    const input = SaveCommitDiffInput.parse(raw);
    await this.db.transaction(async (tx) => {
      const commitId = await ensureCommit(tx, input.repo, input.sha);
      await tx.query(
        `INSERT INTO commit_diffs (commit_id, diff_gzip, bytes, base_sha) VALUES ($1, $2, $3, $4)
         ON CONFLICT (commit_id) DO UPDATE SET
           diff_gzip = EXCLUDED.diff_gzip, bytes = EXCLUDED.bytes, base_sha = EXCLUDED.base_sha, updated_at = now()`,
        [commitId, input.gzip, input.bytes, input.baseSha ?? null],
      );
    });
  }

  async getCommitDiff(repo: string, sha: string): Promise<CommitDiffRow | null> {
    const [row] = await this.db.query<{ diff_gzip: Uint8Array; bytes: number | string; base_sha: string | null; updated_at: Timestamp }>(
      `SELECT d.diff_gzip, d.bytes, d.base_sha, d.updated_at FROM commit_diffs d
       JOIN commits c ON c.id = d.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE r.slug = $1 AND c.sha = $2`,
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha)],
    );
    if (row === undefined) return null;
    return { gzip: new Uint8Array(row.diff_gzip), bytes: toNumber(row.bytes), baseSha: row.base_sha, updatedAt: toDate(row.updated_at) };
  }
}
