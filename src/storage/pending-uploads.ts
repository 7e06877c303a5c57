import { z } from 'zod';
import { CommitShaSchema, RepoSlugSchema, UploadIdSchema } from '../vocabulary';
import { ensureCommit } from './commits';
import type { Database } from './database';
import { toDate, type Timestamp } from './rows';

/**
 * Uploads announced by a Codecov uploader's POST and not yet sent: the metadata that POST carried,
 * until the PUT to the signed location brings the payload. A pending upload is filled once: the
 * sha256 of the body that filled it and the uploads it became are kept, so the same PUT again
 * answers the same uploads and another body is refused.
 */

/** The upload metadata the POST carried, as registerUpload takes it. */
export const PendingMetadataSchema = z.object({
  flags: z.array(z.string().min(1).max(200)).max(100).optional(),
  name: z.string().max(10_000).optional(),
  build: z.string().max(10_000).optional(),
  job: z.string().max(10_000).optional(),
  branch: z.string().max(10_000).optional(),
  ciUrl: z.string().max(10_000).optional(),
  ciService: z.string().max(200).optional(),
});
export type PendingMetadata = z.infer<typeof PendingMetadataSchema>;

export const ReportFixesSchema = z.record(z.string(), z.object({ eof: z.number().int().nullable(), lines: z.array(z.number().int()) }));

export interface PendingUpload {
  id: string;
  repo: string;
  sha: string;
  metadata: PendingMetadata;
  expiresAt: Date;
  bodyDigest: string | null;
  uploadIds: string[] | null;
  receivedAt: Date | null;
}

interface PendingRecord {
  id: string;
  slug: string;
  sha: string;
  metadata: unknown;
  expires_at: Timestamp;
  body_sha256: string | null;
  upload_ids: string[] | null;
  received_at: Timestamp | null;
}

const Digest = z.string().regex(/^[0-9a-f]{64}$/);

export class PendingUploadStore {
  constructor(private readonly db: Database) {}

  async createPendingUpload(input: { id: string; repo: string; sha: string; metadata: PendingMetadata; expiresAt: Date }): Promise<void> {
    const commitId = await ensureCommit(this.db, RepoSlugSchema.parse(input.repo), CommitShaSchema.parse(input.sha));
    await this.db.query(`INSERT INTO pending_uploads (id, commit_id, metadata, expires_at) VALUES ($1, $2, $3::jsonb, $4)`, [
      UploadIdSchema.parse(input.id),
      commitId,
      JSON.stringify(PendingMetadataSchema.parse(input.metadata)),
      input.expiresAt.toISOString(),
    ]);
  }

  async getPendingUpload(id: string): Promise<PendingUpload | null> {
    const [r] = await this.db.query<PendingRecord>(
      `SELECT p.id, r.slug, c.sha, p.metadata, p.expires_at, p.body_sha256, p.upload_ids, p.received_at
       FROM pending_uploads p JOIN commits c ON c.id = p.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE p.id = $1`,
      [UploadIdSchema.parse(id)],
    );
    if (r === undefined) return null;
    return {
      id: r.id,
      repo: r.slug,
      sha: r.sha,
      metadata: PendingMetadataSchema.parse(typeof r.metadata === 'string' ? JSON.parse(r.metadata) : r.metadata),
      expiresAt: toDate(r.expires_at),
      bodyDigest: r.body_sha256,
      uploadIds: r.upload_ids,
      receivedAt: r.received_at === null ? null : toDate(r.received_at),
    };
  }

  /**
   * Marks the pending upload filled by the body with this digest, which became these uploads, and
   * keeps the payload's fixes with it. Returns false when another body filled it first.
   */
  async fillPendingUpload(id: string, digest: string, uploadIds: string[], fixes: z.input<typeof ReportFixesSchema>): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE pending_uploads SET body_sha256 = $2, upload_ids = $3::text[], report_fixes = $4::jsonb, received_at = now()
       WHERE id = $1 AND (body_sha256 IS NULL OR body_sha256 = $2) RETURNING id`,
      [UploadIdSchema.parse(id), Digest.parse(digest), z.array(UploadIdSchema).parse(uploadIds), JSON.stringify(ReportFixesSchema.parse(fixes))],
    );
    return rows.length > 0;
  }
}
