import { z } from 'zod';
import { CommitShaSchema, RepoSlugSchema, UploadStateSchema } from '../vocabulary';
import { Int32, UploadIdList } from './columns';
import { lockCommit } from './commits';
import type { Database } from './database';
import { batchRef, commitRef, parseBlobKey, type BlobReferences, type SavedReportReference, type UploadReference } from './gc-plan';
import { releaseClaims, withdrawNextClaim } from './runs';
import { toDate, toNumber } from './rows';

export const FindStaleInput = z.object({
  olderThanMs: z.number().int().nonnegative(),
  /** Commits after this id (a page's cursor). */
  afterCommitId: z.number().int().nonnegative(),
  limit: z.number().int().min(1).max(1000),
});
export type FindStaleInput = z.input<typeof FindStaleInput>;

/** A commit with uploads waiting, or claimed, for longer than the bound. */
export interface StaleCommit {
  commitId: number;
  repo: string;
  sha: string;
  /** The run that owns the commit's claims (`commits.run_id`), if any run ever started. */
  ownerRunId: string | null;
  /** Stale uploads still 'uploaded'. */
  waiting: number;
  /** Runs whose claims hold stale uploads 'processing' or 'processed'. */
  claimRuns: string[];
  /** The stale upload of the lowest session: the one a nudge names. */
  firstUploadId: string;
}

export const ReleaseClaimsInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  runIds: z.array(z.string().min(1).max(200)).max(1000),
});
export type ReleaseClaimsInput = z.input<typeof ReleaseClaimsInput>;

const BlobKeys = z.array(z.string().min(1).max(1024)).max(10_000);

/**
 * What the maintenance schedules read and write: the reconciler's stale commits and its release
 * of dead runs' claims, and the references retention decides by (and its marks on uploads).
 */
export class MaintenanceStore {
  constructor(private readonly db: Database) {}

  /**
   * Commits, in id order, with an upload 'uploaded' since before the bound, or claimed
   * ('processing', 'processed') since before it. Uploads of a healthy commit never stay that long:
   * a run claims within its debounce and a batch's claim is refreshed by every new run.
   */
  async findStaleCommits(raw: FindStaleInput): Promise<StaleCommit[]> {
    const input = FindStaleInput.parse(raw);
    type Row = {
      commit_id: number | string;
      slug: string;
      sha: string;
      run_id: string | null;
      waiting: number | string;
      claim_runs: string[] | null;
      first_upload: string;
    };
    const rows = await this.db.query<Row>(
      `WITH stale AS (
         SELECT u.commit_id, u.id, u.session, u.state, b.run_id AS claim_run
         FROM uploads u
         LEFT JOIN batch_claims b ON b.commit_id = u.commit_id AND b.batch = u.batch
         WHERE u.state IN ('uploaded', 'processing', 'processed') AND u.commit_id > $2
           AND coalesce(u.processing_started_at, u.created_at) < now() - $1 * interval '1 millisecond'
       ), commits_page AS (
         SELECT DISTINCT commit_id FROM stale ORDER BY commit_id LIMIT $3
       )
       SELECT s.commit_id, r.slug, c.sha, c.run_id,
         count(*) FILTER (WHERE s.state = 'uploaded') AS waiting,
         array_agg(DISTINCT s.claim_run) FILTER (WHERE s.state <> 'uploaded' AND s.claim_run IS NOT NULL) AS claim_runs,
         (array_agg(s.id ORDER BY s.session))[1] AS first_upload
       FROM stale s JOIN commits_page p ON p.commit_id = s.commit_id
       JOIN commits c ON c.id = s.commit_id JOIN repositories r ON r.id = c.repository_id
       GROUP BY s.commit_id, r.slug, c.sha, c.run_id
       ORDER BY s.commit_id`,
      [input.olderThanMs, input.afterCommitId, input.limit],
    );
    return rows.map((r) => ({
      commitId: toNumber(r.commit_id),
      repo: r.slug,
      sha: r.sha,
      ownerRunId: r.run_id,
      waiting: toNumber(r.waiting),
      claimRuns: r.claim_runs ?? [],
      firstUploadId: r.first_upload,
    }));
  }

  /**
   * Releases the in-flight uploads claimed by the named runs (ones the caller knows are not the
   * open run), under the commit's row lock, with the run start's own release. Returns how many.
   */
  async releaseClaimsOf(raw: ReleaseClaimsInput): Promise<number> {
    const input = ReleaseClaimsInput.parse(raw);
    if (input.runIds.length === 0) return 0;
    return this.db.transaction(async (tx) => {
      const commit = await lockCommit(tx, input.repo, input.sha);
      if (commit === undefined) return 0;
      // A dead run's promise of its next claim is void: registrations nudge again.
      await withdrawNextClaim(tx, commit.id);
      return releaseClaims(tx, commit.id, { ofRuns: input.runIds });
    });
  }

  /** What the database says about the blobs of `keys` (see gc-plan.ts): by primary keys and unique pairs only. */
  async blobReferences(keys: readonly string[]): Promise<BlobReferences> {
    const parsed = BlobKeys.parse(keys).map(parseBlobKey);
    const uploadIds = new Set<string>();
    const commits = new Map<string, { repo: string; sha: string }>();
    for (const p of parsed) {
      if (p.kind === 'raw' || p.kind === 'intermediate') uploadIds.add(p.uploadId);
      if (p.kind === 'report' || p.kind === 'scratch') commits.set(commitRef(p.repo, p.sha), { repo: p.repo, sha: p.sha });
    }
    const uploads = new Map<string, UploadReference>();
    if (uploadIds.size > 0) {
      type Row = {
        id: string;
        state: string;
        raw_key: string;
        repo_files_key: string | null;
        report_fixes_key: string | null;
        created_at: Date | string;
        finished_at: Date | string | null;
      };
      const rows = await this.db.query<Row>(
        `SELECT id, state, raw_key, repo_files_key, report_fixes_key, created_at,
           CASE WHEN state IN ('merged', 'error', 'cancelled')
             THEN coalesce(merged_at, processed_at, processing_started_at, created_at) END AS finished_at
         FROM uploads WHERE id = ANY($1::text[])`,
        [[...uploadIds]],
      );
      for (const r of rows) {
        uploads.set(r.id, {
          state: UploadStateSchema.parse(r.state),
          rawKey: r.raw_key,
          repoFilesKey: r.repo_files_key,
          reportFixesKey: r.report_fixes_key,
          createdAt: toDate(r.created_at),
          finishedAt: r.finished_at === null ? null : toDate(r.finished_at),
        });
      }
    }
    const digests = parsed.flatMap((p) => (p.kind === 'source' ? [p.digest] : []));
    const sources = new Map<string, Date>();
    if (digests.length > 0) {
      const rows = await this.db.query<{ digest: string; last_sent: Date | string }>(
        `SELECT digest, max(updated_at) AS last_sent FROM commit_sources WHERE digest = ANY($1::text[]) GROUP BY digest`,
        [digests],
      );
      for (const r of rows) sources.set(r.digest, toDate(r.last_sent));
    }
    const reports = new Map<string, SavedReportReference>();
    const verifications = new Map<string, Date>();
    if (commits.size > 0) {
      const slugs = [...commits.values()].map((c) => c.repo);
      const shas = [...commits.values()].map((c) => c.sha);
      const saved = await this.db.query<{ slug: string; sha: string; version: number; report_key: string; updated_at: Date | string }>(
        `SELECT r.slug, c.sha, cr.version, cr.report_key, cr.updated_at
         FROM unnest($1::text[], $2::text[]) AS k(slug, sha)
         JOIN repositories r ON r.slug = k.slug JOIN commits c ON c.repository_id = r.id AND c.sha = k.sha
         JOIN commit_reports cr ON cr.commit_id = c.id`,
        [slugs, shas],
      );
      for (const s of saved) {
        reports.set(commitRef(s.slug, s.sha), { version: Int32.parse(s.version), reportKey: s.report_key, savedAt: toDate(s.updated_at) });
      }
      const verified = await this.db.query<{ slug: string; sha: string; batch: number; created_at: Date | string }>(
        `SELECT r.slug, c.sha, e.batch, e.created_at
         FROM unnest($1::text[], $2::text[]) AS k(slug, sha)
         JOIN repositories r ON r.slug = k.slug JOIN commits c ON c.repository_id = r.id AND c.sha = k.sha
         JOIN experiment_results e ON e.commit_id = c.id`,
        [slugs, shas],
      );
      for (const v of verified) verifications.set(batchRef(v.slug, v.sha, v.batch), toDate(v.created_at));
    }
    return { uploads, reports, verifications, sources };
  }

  /** Records that retention deleted these uploads' raw blobs; the first time is kept. */
  async markRawDeleted(uploadIds: readonly string[]): Promise<number> {
    const ids = UploadIdList.parse(uploadIds);
    if (ids.length === 0) return 0;
    const rows = await this.db.query(
      `UPDATE uploads SET raw_deleted_at = now() WHERE id = ANY($1::text[]) AND raw_deleted_at IS NULL RETURNING id`,
      [ids],
    );
    return rows.length;
  }
}
