import { z } from 'zod';
import { CommitShaSchema, RepoSlugSchema, VerificationOutcomeSchema, VERIFICATION_OUTCOMES, type VerificationOutcome } from '../vocabulary';
import { StartVerificationInput } from '../activities/contracts';
import { Int32 } from './columns';
import { ensureCommit } from './commits';
import type { Database } from './database';
import { toDate, toNumber } from './rows';

/** A re-verification run's id: the scheduled workflow's id (it names the scheduled time). */
const RunIdSchema = z.string().min(1).max(300);

export interface SampledCommit {
  repo: string;
  sha: string;
}

export interface VerificationRun {
  runId: string;
  seed: string;
  sampleSize: number;
  repositories: string[];
  sample: SampledCommit[];
}

const SampleSchema = z.array(z.object({ repo: RepoSlugSchema, sha: CommitShaSchema }));

export const RecordVerificationInput = z.object({
  runId: RunIdSchema,
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  outcome: VerificationOutcomeSchema,
  /** The persisted report's version that was compared; null when skipped before reading it. */
  reportVersion: Int32.nullable(),
  uploads: Int32,
  differingFiles: Int32,
  differingLines: Int32,
  /** Paths of the differing files (a bounded list). */
  files: z.array(z.string().max(4096)).max(100),
  sample: z.array(z.string().max(1000)).max(40),
  /** Why it was skipped, or which path differed. */
  reason: z.string().max(2000).nullable(),
});
export type RecordVerificationInput = z.input<typeof RecordVerificationInput>;

export const ListVerificationsInput = z.object({
  repo: RepoSlugSchema.optional(),
  outcome: VerificationOutcomeSchema.optional(),
  since: z.date().optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});
export type ListVerificationsInput = z.input<typeof ListVerificationsInput>;

export interface VerificationRow {
  runId: string;
  seed: string;
  repo: string;
  sha: string;
  outcome: VerificationOutcome;
  reportVersion: number | null;
  uploads: number;
  differingFiles: number;
  differingLines: number;
  files: string[];
  sample: string[];
  reason: string | null;
  createdAt: Date;
}

interface VerificationRecord {
  run_id: string;
  seed: string;
  slug: string;
  sha: string;
  outcome: string;
  report_version: number | null;
  uploads: number;
  differing_files: number;
  differing_lines: number;
  files: string[] | null;
  sample: unknown;
  reason: string | null;
  created_at: Date | string;
}

/**
 * Scheduled re-verifications: each run's seed and sample, and one outcome per sampled commit.
 * Only re-verification writes here; it reads the rest of the schema and writes nothing else.
 */
export class VerificationStore {
  constructor(private readonly db: Database) {}

  /**
   * Samples up to `sampleSize` completed commits (a saved report, no upload waiting or in flight)
   * in an order drawn from the seed: the hash of seed and commit, so the same seed over the same
   * commits gives the same sample on any copy of the database. The run, its seed and its sample
   * are recorded; a repeat for the run answers the recorded sample, whatever completed since.
   */
  async startRun(raw: StartVerificationInput): Promise<VerificationRun> {
    const input = StartVerificationInput.parse(raw);
    return this.db.transaction(async (tx) => {
      const [existing] = await tx.query<{ seed: string; sample_size: number; repositories: string[]; sample: unknown }>(
        `SELECT seed, sample_size, repositories, sample FROM verification_runs WHERE id = $1`,
        [input.runId],
      );
      if (existing !== undefined) {
        return { runId: input.runId, seed: existing.seed, sampleSize: existing.sample_size, repositories: existing.repositories, sample: SampleSchema.parse(jsonOf(existing.sample)) };
      }
      const rows = await tx.query<{ slug: string; sha: string }>(
        `SELECT r.slug, c.sha FROM commits c
         JOIN repositories r ON r.id = c.repository_id
         JOIN commit_reports cr ON cr.commit_id = c.id
         WHERE (cardinality($2::text[]) = 0 OR r.slug = ANY($2::text[]))
           AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.commit_id = c.id AND u.state IN ('uploaded', 'processing', 'processed'))
         ORDER BY md5($1 || ':' || r.slug || '@' || c.sha), r.slug, c.sha
         LIMIT $3`,
        [input.seed, input.repositories, input.sampleSize],
      );
      const sample = rows.map((r) => ({ repo: r.slug, sha: r.sha }));
      await tx.query(
        `INSERT INTO verification_runs (id, seed, sample_size, repositories, sample) VALUES ($1, $2, $3, $4::text[], $5::jsonb)`,
        [input.runId, input.seed, input.sampleSize, input.repositories, JSON.stringify(sample)],
      );
      return { runId: input.runId, seed: input.seed, sampleSize: input.sampleSize, repositories: input.repositories, sample };
    });
  }

  /** One commit's outcome in a run; a repeat (a retried activity) replaces it. */
  async record(raw: RecordVerificationInput): Promise<void> {
    const input = RecordVerificationInput.parse(raw);
    await this.db.transaction(async (tx) => {
      const commitId = await ensureCommit(tx, input.repo, input.sha);
      await tx.query(
        `INSERT INTO verifications
           (run_id, commit_id, outcome, report_version, uploads, differing_files, differing_lines, files, sample, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9::jsonb, $10)
         ON CONFLICT (run_id, commit_id) DO UPDATE SET
           outcome = EXCLUDED.outcome, report_version = EXCLUDED.report_version, uploads = EXCLUDED.uploads,
           differing_files = EXCLUDED.differing_files, differing_lines = EXCLUDED.differing_lines,
           files = EXCLUDED.files, sample = EXCLUDED.sample, reason = EXCLUDED.reason`,
        [
          input.runId,
          commitId,
          input.outcome,
          input.reportVersion,
          input.uploads,
          input.differingFiles,
          input.differingLines,
          input.files,
          JSON.stringify(input.sample),
          input.reason,
        ],
      );
    });
  }

  /** Outcomes, newest first. */
  async list(raw: ListVerificationsInput = {}): Promise<VerificationRow[]> {
    const input = ListVerificationsInput.parse(raw);
    const rows = await this.db.query<VerificationRecord>(
      `SELECT v.run_id, vr.seed, r.slug, c.sha, v.outcome, v.report_version, v.uploads, v.differing_files,
              v.differing_lines, v.files, v.sample, v.reason, v.created_at
       FROM verifications v
       JOIN verification_runs vr ON vr.id = v.run_id
       JOIN commits c ON c.id = v.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE ($1::text IS NULL OR r.slug = $1) AND ($2::text IS NULL OR v.outcome = $2)
         AND ($3::timestamptz IS NULL OR v.created_at >= $3::timestamptz)
       ORDER BY v.created_at DESC, v.id DESC
       LIMIT $4`,
      [input.repo ?? null, input.outcome ?? null, input.since?.toISOString() ?? null, input.limit],
    );
    return rows.map((r) => ({
      runId: r.run_id,
      seed: r.seed,
      repo: r.slug,
      sha: r.sha,
      outcome: VerificationOutcomeSchema.parse(r.outcome),
      reportVersion: r.report_version,
      uploads: r.uploads,
      differingFiles: r.differing_files,
      differingLines: r.differing_lines,
      files: r.files ?? [],
      sample: z.array(z.string()).catch([]).parse(jsonOf(r.sample)),
      reason: r.reason,
      createdAt: toDate(r.created_at),
    }));
  }

  /** Outcomes recorded so far, per outcome (a counter: rows are only ever added or replaced). */
  async outcomeCounts(): Promise<Record<VerificationOutcome, number>> {
    const rows = await this.db.query<{ outcome: string; n: number | string }>(`SELECT outcome, count(*) AS n FROM verifications GROUP BY outcome`);
    const counts = Object.fromEntries(VERIFICATION_OUTCOMES.map((o) => [o, 0])) as Record<VerificationOutcome, number>;
    for (const r of rows) counts[VerificationOutcomeSchema.parse(r.outcome)] = toNumber(r.n);
    return counts;
  }
}

/** jsonb arrives parsed from pg and PGlite alike; text only from older drivers. */
function jsonOf(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}
