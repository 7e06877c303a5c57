import { ClaimUploadsInput, StartRunInput, type RunStart } from '../activities/contracts';
import type { UploadState } from '../vocabulary';
import { ensureCommit, lockCommit } from './commits';
import type { Database, Queryable } from './database';
import { SupersededRunError } from './errors';
import { toNumber } from './rows';
import { CommitShaSchema, RepoSlugSchema } from '../vocabulary';

export interface ClaimedUpload {
  uploadId: string;
  session: number;
  rawKey: string;
  rawBytes: number;
  formatHint: string | null;
}

/** What a claim took: its batch (numbered per commit, across runs) and uploads, by session. */
export interface BatchClaim {
  /** null when nothing was waiting (no batch is allocated then). */
  batch: number | null;
  uploads: ClaimedUpload[];
}

/** Where a new run starts from, as persisted: the activity's RunStart before its totals are checked. */
export type PersistedRunStart = Omit<RunStart, 'totals'> & { totals: unknown };

/**
 * The workflow runs of a commit: which run owns it (`commits.run_id`), and the batches its claims
 * take (`batch_claims`). Every write locks the commit row, so one commit's run starts, claims and
 * finishers are ordered.
 */
export class RunStore {
  constructor(private readonly db: Database) {}

  /**
   * Makes `runId` the run that owns the commit's claims, and returns where it starts from: the
   * saved report and the upload counts. Only one run of a commit's workflow is open at a time, so
   * uploads left 'processing' or 'processed' by any other run are orphans (a run terminated or
   * timed out mid-batch): they go back to 'uploaded', without their processing times, for this
   * run to claim. Merged and failed uploads are never touched. A run that started before the
   * current owner is a dead one still executing (SupersededRunError). Repeating it is harmless.
   */
  async startRun(raw: StartRunInput): Promise<PersistedRunStart> {
    const input = StartRunInput.parse(raw);
    const startedAt = new Date(input.runStartedAt).toISOString();
    return this.db.transaction(async (tx) => {
      const commitId = await ensureCommit(tx, input.repo, input.sha);
      // The row lock orders this with claims and finishers of the commit until commit.
      const owned = await tx.query(
        `UPDATE commits SET run_id = $2, run_started_at = $3::timestamptz, next_claim_until = NULL
         WHERE id = $1 AND (run_id = $2 OR run_started_at IS NULL OR run_started_at < $3::timestamptz)
         RETURNING id`,
        [commitId, input.runId, startedAt],
      );
      if (owned.length === 0) {
        throw new SupersededRunError(`run ${input.runId} of ${input.repo}@${input.sha} started before the commit's current run`);
      }
      const released = await releaseClaims(tx, commitId, { allBut: input.runId });
      const [report] = await tx.query<{ version: number; report_key: string; totals: unknown }>(
        `SELECT version, report_key, totals FROM commit_reports WHERE commit_id = $1`,
        [commitId],
      );
      const [decided] = await tx.query<{ decided: boolean }>(`SELECT carryforward_at IS NOT NULL AS decided FROM commits WHERE id = $1`, [commitId]);
      const counts = await tx.query<{ state: string; n: number | string }>(
        `SELECT state, count(*) AS n FROM uploads WHERE commit_id = $1 GROUP BY state`,
        [commitId],
      );
      const count = (state: UploadState) => toNumber(counts.find((c) => c.state === state)?.n ?? 0);
      return {
        version: report?.version ?? 0,
        reportKey: report?.report_key ?? null,
        totals: report?.totals ?? null,
        merged: count('merged'),
        errors: count('error'),
        waiting: count('uploaded'),
        released,
        carryforwardDecided: decided?.decided === true,
      };
    });
  }

  /**
   * Claims up to `limit` waiting uploads (lowest sessions first) for the run that owns the commit
   * (see startRun): they move to 'processing' under a new batch, numbered per commit across runs.
   * The claim is keyed by the run and its claim count, so a retried claim returns exactly the
   * same batch and uploads, and claims nothing more; nothing waiting allocates no batch. A run
   * that no longer owns the commit claims nothing (SupersededRunError).
   *
   * The promise of the next claim (`commits.next_claim_until`): a claim with `promiseMs` that takes
   * uploads records that its run will claim again within that time without a nudge; a claim that
   * finds nothing withdraws it, as do a run start and the release of a dead run's claims.
   * Registration reads it under the same row lock (uploads.ts), so an upload registered while it
   * holds is committed before the next claim looks, and one registered after a claim found nothing
   * is nudged.
   */
  async claimUploads(raw: ClaimUploadsInput): Promise<BatchClaim> {
    const input = ClaimUploadsInput.parse(raw);
    return this.db.transaction(async (tx) => {
      // The lock serialises identical claims, so two cannot both find no claim and claim twice.
      const commit = await lockCommit(tx, input.repo, input.sha);
      if (commit === undefined) return { batch: null, uploads: [] };
      if (commit.run_id !== input.runId) {
        throw new SupersededRunError(`run ${input.runId} does not own ${input.repo}@${input.sha} (run ${commit.run_id ?? 'none'} does)`);
      }
      const [earlier] = await tx.query<{ batch: number }>(
        `SELECT batch FROM batch_claims WHERE commit_id = $1 AND run_id = $2 AND run_claim = $3`,
        [commit.id, input.runId, input.runClaim],
      );
      let batch = earlier?.batch;
      if (batch === undefined) {
        const waiting = await tx.query<{ id: string }>(
          `SELECT id FROM uploads WHERE commit_id = $1 AND state = 'uploaded' ORDER BY session LIMIT $2`,
          [commit.id, input.limit],
        );
        if (waiting.length === 0) {
          // Nothing waits: the run will wait for a nudge, so registrations from now on send one.
          await withdrawNextClaim(tx, commit.id);
          return { batch: null, uploads: [] };
        }
        const [next] = await tx.query<{ batch: number }>(
          `INSERT INTO batch_claims (commit_id, batch, run_id, run_claim)
           SELECT $1, coalesce(max(batch) + 1, 0), $2, $3 FROM batch_claims WHERE commit_id = $1
           RETURNING batch`,
          [commit.id, input.runId, input.runClaim],
        );
        batch = next.batch;
        if (input.promiseMs !== undefined) {
          await tx.query(`UPDATE commits SET next_claim_until = now() + $2 * interval '1 millisecond' WHERE id = $1`, [commit.id, input.promiseMs]);
        }
        await tx.query(
          `UPDATE uploads SET state = 'processing', batch = $2, processing_started_at = now() WHERE id = ANY($1::text[])`,
          [waiting.map((w) => w.id), batch],
        );
      }
      type ClaimRecord = { id: string; session: number; raw_key: string; raw_bytes: number | string; format_hint: string | null };
      const rows = await tx.query<ClaimRecord>(
        `SELECT id, session, raw_key, raw_bytes, format_hint FROM uploads WHERE commit_id = $1 AND batch = $2 ORDER BY session`,
        [commit.id, batch],
      );
      return {
        batch,
        uploads: rows.map((r) => ({
          uploadId: r.id,
          session: r.session,
          rawKey: r.raw_key,
          rawBytes: toNumber(r.raw_bytes),
          formatHint: r.format_hint,
        })),
      };
    });
  }

  /**
   * Withdraws the promise of the commit's next claim (a run that stops claiming, e.g. when
   * cancelled): registrations nudge again, and a nudge starts a new run.
   */
  async withdrawClaimPromise(repo: string, sha: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const commit = await lockCommit(tx, RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha));
      if (commit !== undefined) await withdrawNextClaim(tx, commit.id);
    });
  }
}

/** The one withdrawal of a commit's promise of its next claim; call it with the commit row locked. */
export async function withdrawNextClaim(tx: Queryable, commitId: number): Promise<void> {
  await tx.query(`UPDATE commits SET next_claim_until = NULL WHERE id = $1 AND next_claim_until IS NOT NULL`, [commitId]);
}

/**
 * Which in-flight uploads of a commit go back to 'uploaded': every claim but the one run's (a
 * run start: only one run is open at a time, so the others no longer exist), or the claims of the
 * named runs only (the reconciler: runs it saw were not the open one, so a run that starts and
 * claims meanwhile is never touched).
 */
export type ClaimRelease = { allBut: string } | { ofRuns: readonly string[] };

/**
 * The one orphan release: the uploads lose their batch, intermediate and processing times, for
 * the next run to claim. Call it with the commit row locked (claims and finishers queue there).
 * Merged and failed uploads are never touched. Returns how many moved.
 */
export async function releaseClaims(tx: Queryable, commitId: number, which: ClaimRelease): Promise<number> {
  const [runFilter, runs] =
    'allBut' in which
      ? [`(batch IS NULL OR batch NOT IN (SELECT batch FROM batch_claims WHERE commit_id = $1 AND run_id = ANY($2::text[])))`, [which.allBut]]
      : [`batch IN (SELECT batch FROM batch_claims WHERE commit_id = $1 AND run_id = ANY($2::text[]))`, [...which.ofRuns]];
  if (runs.length === 0) return 0;
  const released = await tx.query(
    `UPDATE uploads SET state = 'uploaded', batch = NULL, intermediate_key = NULL,
       processing_started_at = NULL, processed_at = NULL
     WHERE commit_id = $1 AND state IN ('processing', 'processed') AND ${runFilter}
     RETURNING id`,
    [commitId, runs],
  );
  return released.length;
}
