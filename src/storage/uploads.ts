import { z } from 'zod';
import { ParseWarningsSchema, type ParseWarning } from '../coverage/warnings';
import { CommitShaSchema, IdempotencyScopeSchema, RepoSlugSchema, UploadIdSchema, type IdempotencyScope } from '../vocabulary';
import { UploadIdList } from './columns';
import { repositoryIdOf } from './commits';
import { sqlState, UNIQUE_VIOLATION, type Database, type Queryable } from './database';
import { ConflictError, IdempotencyConflictError } from './errors';
import { toUpload, UPLOAD_SELECT, type UploadRecord, type UploadRow } from './rows';

/** sha256 of a body as received, lower-case hex. */
const BodyDigestSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest');

/**
 * A key sent again answers its upload only with the same body; unknown digests (rows registered
 * before digests were kept, or callers that send none) cannot be compared and do not conflict.
 */
export function digestsConflict(stored: string | null, sent: string | undefined): boolean {
  return stored !== null && sent !== undefined && stored !== sent;
}

const optionalText = z.string().max(10_000).optional();
const IdempotencyKeySchema = z.string().min(1).max(500);

export const RegisterUploadInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  uploadId: UploadIdSchema,
  rawKey: z.string().min(1),
  rawBytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  // Empty means none, as an empty header or form field usually does.
  idempotencyKey: z
    .string()
    .max(500)
    .optional()
    .transform((k) => (k === '' ? undefined : k)),
  /** The key's scope; raw when a key is sent without one. */
  idempotencyScope: IdempotencyScopeSchema.optional(),
  /** sha256 of the body as received: a repeated key with another digest is an IdempotencyConflictError. */
  bodyDigest: BodyDigestSchema.optional(),
  flags: z.array(z.string().min(1).max(200)).max(100).optional(),
  name: optionalText,
  build: optionalText,
  job: optionalText,
  branch: optionalText,
  ciUrl: optionalText,
  formatHint: optionalText,
  /** Path fixes (`before::after`) sent with this upload; applied after the repository's own. */
  pathFixes: z.array(z.string().min(1).max(1000)).max(100).optional(),
  /** Blob key of the repository's file list sent with the upload (one path per line). */
  repoFilesKey: z.string().min(1).max(500).optional(),
});
export type RegisterUploadInput = z.input<typeof RegisterUploadInput>;

export interface RegisteredUpload {
  uploadId: string;
  session: number;
  /** false: an earlier registration with the same upload id or idempotency key was returned. */
  created: boolean;
}

/** How often registerUpload re-runs after losing a uniqueness race (the re-run finds the winner). */
const REGISTER_ATTEMPTS = 3;

/**
 * Uploads: their registration (with its session), reads, and their state changes, which only move
 * forward ('uploaded' -> 'processing' -> 'processed' -> 'merged', or 'error' / 'cancelled'); the
 * claims that move them to 'processing' are the runs' (runs.ts).
 */
export class UploadStore {
  constructor(private readonly db: Database) {}

  /**
   * Records an upload and gives it the commit's next session number (0, 1, 2, … without gaps).
   * A repeated registration (same upload id, or same idempotency key and scope for the commit)
   * returns the first one with created=false and allocates nothing, also when both arrive at
   * once; the same key with a different body digest is an IdempotencyConflictError and changes
   * nothing.
   */
  async registerUpload(raw: RegisterUploadInput): Promise<RegisteredUpload> {
    const input = RegisterUploadInput.parse(raw);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction((tx) => registerOnce(tx, input));
      } catch (err) {
        // A concurrent twin committed the same upload id or key between our check and our insert
        // (only possible across commits; within a commit the row lock orders us, and the unique
        // constraints back that up). Run again: the check now sees it.
        if (sqlState(err) === UNIQUE_VIOLATION && attempt < REGISTER_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  /**
   * 'processing' -> 'processed' with its intermediate report and the parser's warnings (a repeat
   * replaces both). Returns false, changing nothing, for an upload in any other state or unknown.
   */
  async markProcessed(uploadId: string, intermediateKey: string, warnings: readonly ParseWarning[] = []): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE uploads SET state = 'processed', intermediate_key = $2, warnings = $3::jsonb,
         processed_at = CASE WHEN state = 'processed' THEN processed_at ELSE now() END
       WHERE id = $1 AND state IN ('processing', 'processed') RETURNING id`,
      [UploadIdSchema.parse(uploadId), z.string().min(1).parse(intermediateKey), JSON.stringify(ParseWarningsSchema.parse(warnings))],
    );
    return rows.length > 0;
  }

  /** Any state but 'merged' -> 'error' with its code and message. Returns whether it applied. */
  async markError(uploadId: string, code: string, message: string): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE uploads SET state = 'error', error_code = $2, error_message = $3
       WHERE id = $1 AND state <> 'merged' RETURNING id`,
      [UploadIdSchema.parse(uploadId), z.string().min(1).max(200).parse(code), z.string().max(10_000).parse(message)],
    );
    return rows.length > 0;
  }

  /**
   * 'processing' or 'processed' -> 'merged'. Already merged uploads keep their first merged_at.
   * Returns how many uploads moved.
   */
  async markMerged(uploadIds: string[]): Promise<number> {
    const ids = UploadIdList.parse(uploadIds);
    return ids.length === 0 ? 0 : mergeUploads(this.db, ids);
  }

  /**
   * Uploads not yet finished ('uploaded', 'processing', 'processed') -> 'cancelled'; merged and
   * errored ones stay as they are. Returns how many moved.
   */
  async markCancelled(uploadIds: string[]): Promise<number> {
    const ids = UploadIdList.parse(uploadIds);
    if (ids.length === 0) return 0;
    const rows = await this.db.query(
      `UPDATE uploads SET state = 'cancelled'
       WHERE id = ANY($1::text[]) AND state IN ('uploaded', 'processing', 'processed') RETURNING id`,
      [ids],
    );
    return rows.length;
  }

  async getUpload(uploadId: string): Promise<UploadRow | null> {
    const [row] = await this.db.query<UploadRecord>(`${UPLOAD_SELECT} WHERE u.id = $1`, [UploadIdSchema.parse(uploadId)]);
    return row === undefined ? null : toUpload(row);
  }

  /** The commit's upload holding this idempotency key in this scope, if any. */
  async findUploadByIdempotencyKey(repo: string, sha: string, scope: IdempotencyScope, key: string): Promise<UploadRow | null> {
    const [row] = await this.db.query<UploadRecord>(
      `${UPLOAD_SELECT} WHERE r.slug = $1 AND c.sha = $2 AND u.idempotency_scope = $3 AND u.idempotency_key = $4`,
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha), IdempotencyScopeSchema.parse(scope), IdempotencyKeySchema.parse(key)],
    );
    return row === undefined ? null : toUpload(row);
  }

  async listUploads(repo: string, sha: string): Promise<UploadRow[]> {
    const rows = await this.db.query<UploadRecord>(`${UPLOAD_SELECT} WHERE r.slug = $1 AND c.sha = $2 ORDER BY u.session`, [
      RepoSlugSchema.parse(repo),
      CommitShaSchema.parse(sha),
    ]);
    return rows.map(toUpload);
  }
}

/** The one way uploads become 'merged' (also inside a finisher's save, reports.ts). */
export async function mergeUploads(q: Queryable, ids: readonly string[]): Promise<number> {
  const rows = await q.query(
    `UPDATE uploads SET state = 'merged', merged_at = now()
     WHERE id = ANY($1::text[]) AND state IN ('processing', 'processed') RETURNING id`,
    [ids],
  );
  return rows.length;
}

async function registerOnce(tx: Queryable, input: z.output<typeof RegisterUploadInput>): Promise<RegisteredUpload> {
  const repositoryId = await repositoryIdOf(tx, input.repo);
  // Upserting the commit row takes its row lock until commit: registrations of one commit queue
  // here, and (read committed) every statement below sees all registrations that went before.
  const [commit] = await tx.query<{ id: number }>(
    `INSERT INTO commits (repository_id, sha) VALUES ($1, $2)
     ON CONFLICT (repository_id, sha) DO UPDATE SET updated_at = now()
     RETURNING id`,
    [repositoryId, input.sha],
  );
  const key = input.idempotencyKey;
  const scope = key === undefined ? null : (input.idempotencyScope ?? 'raw');
  const [existing] = await tx.query<{ id: string; session: number; commit_id: number; body_sha256: string | null }>(
    `SELECT id, session, commit_id, body_sha256 FROM uploads
     WHERE id = $1 OR (commit_id = $2 AND idempotency_scope = $3 AND idempotency_key = $4)
     ORDER BY (id = $1) DESC LIMIT 1`,
    [input.uploadId, commit.id, scope, key ?? null],
  );
  if (existing !== undefined) {
    if (existing.commit_id !== commit.id) {
      throw new ConflictError(`upload id ${input.uploadId} is already registered for another commit`);
    }
    // Thrown inside the transaction: the commit row's touch rolls back with it.
    if (digestsConflict(existing.body_sha256, input.bodyDigest)) {
      if (existing.id === input.uploadId || key === undefined || scope === null) {
        throw new ConflictError(`upload id ${input.uploadId} is already registered with a different body`);
      }
      throw new IdempotencyConflictError(key, scope, existing.id);
    }
    return { uploadId: existing.id, session: existing.session, created: false };
  }
  const [{ session }] = await tx.query<{ session: number }>(
    `UPDATE commits SET next_session = next_session + 1 WHERE id = $1 RETURNING next_session - 1 AS session`,
    [commit.id],
  );
  await tx.query(
    `INSERT INTO uploads
       (id, commit_id, session, state, idempotency_key, flags, name, build, job, branch, ci_url,
        format_hint, raw_key, raw_bytes, path_fixes, repo_files_key, idempotency_scope, body_sha256)
     VALUES ($1, $2, $3, 'uploaded', $4, $5::text[], $6, $7, $8, $9, $10, $11, $12, $13, $14::text[], $15, $16, $17)`,
    [
      input.uploadId,
      commit.id,
      session,
      input.idempotencyKey ?? null,
      input.flags ?? [],
      input.name ?? null,
      input.build ?? null,
      input.job ?? null,
      input.branch ?? null,
      input.ciUrl ?? null,
      input.formatHint ?? null,
      input.rawKey,
      input.rawBytes,
      input.pathFixes ?? [],
      input.repoFilesKey ?? null,
      scope,
      input.bodyDigest ?? null,
    ],
  );
  return { uploadId: input.uploadId, session, created: true };
}
