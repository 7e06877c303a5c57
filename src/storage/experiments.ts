import { z } from 'zod';
import { CommitShaSchema, ExperimentOutcomeSchema, RepoSlugSchema } from '../vocabulary';
import { Int32, JsonValue } from './columns';
import { ensureCommit } from './commits';
import type { Database } from './database';
import { toExperiment, type ExperimentRecord, type ExperimentRow } from './rows';

const optionalCount = Int32.nullable().optional();

export const RecordExperimentInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  batch: Int32,
  outcome: ExperimentOutcomeSchema,
  differingFiles: optionalCount,
  differingLines: optionalCount,
  sample: JsonValue.nullable().optional(),
  serialMs: optionalCount,
  shadowMs: optionalCount,
});
export type RecordExperimentInput = z.input<typeof RecordExperimentInput>;

/** The comparisons of experiment batches (serial for real against the parallel shadow). */
export class ExperimentStore {
  constructor(private readonly db: Database) {}

  /** Records the comparison of one experiment batch; a repeat for the batch replaces it. */
  async recordExperiment(raw: RecordExperimentInput): Promise<void> {
    const input = RecordExperimentInput.parse(raw);
    await this.db.transaction(async (tx) => {
      const commitId = await ensureCommit(tx, input.repo, input.sha);
      await tx.query(
        `INSERT INTO experiment_results
           (commit_id, batch, outcome, differing_files, differing_lines, sample, serial_ms, shadow_ms)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)
         ON CONFLICT (commit_id, batch) DO UPDATE SET
           outcome = EXCLUDED.outcome, differing_files = EXCLUDED.differing_files,
           differing_lines = EXCLUDED.differing_lines, sample = EXCLUDED.sample,
           serial_ms = EXCLUDED.serial_ms, shadow_ms = EXCLUDED.shadow_ms`,
        [
          commitId,
          input.batch,
          input.outcome,
          input.differingFiles ?? null,
          input.differingLines ?? null,
          input.sample === undefined || input.sample === null ? null : JSON.stringify(input.sample),
          input.serialMs ?? null,
          input.shadowMs ?? null,
        ],
      );
    });
  }

  /** The commit's experiment results, ordered by batch. */
  async listExperiments(repo: string, sha: string): Promise<ExperimentRow[]> {
    const rows = await this.db.query<ExperimentRecord>(
      `SELECT e.* FROM experiment_results e
       JOIN commits c ON c.id = e.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE r.slug = $1 AND c.sha = $2 ORDER BY e.batch`,
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha)],
    );
    return rows.map(toExperiment);
  }
}
