import { z } from 'zod';
import type { ParseWarning } from '../coverage/warnings';
import { ParseWarningsSchema } from '../coverage/warnings-schema';
import { CommitShaSchema, IdempotencyScopeSchema, RepoSlugSchema, UploadIdSchema, type IdempotencyScope } from '../vocabulary';
import { UploadIdList } from './columns';
import { sqlState, UNIQUE_VIOLATION, type Database, type Queryable } from './database';
import { ConflictError, IdempotencyConflictError, NotFoundError } from './errors';
import { FILL_COMMIT_METADATA, toCommitStartFacts, type CommitStartFacts } from './commits';
import { CommitMetadataSchema, toUpload, UPLOAD_SELECT, type CommitRecord, type UploadRecord, type UploadRow } from './rows';

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
  /** Blob key of the Codecov line fixes sent with the upload. */
  reportFixesKey: z.string().min(1).max(500).optional(),
  /**
   * What CI says about the commit, recorded by the same statement (first value wins, later ones
   * fill gaps, as recordCommitMetadata). A registration answered from an earlier one records
   * nothing: the caller records it then.
   */
  commit: CommitMetadataSchema.optional(),
});
export type RegisterUploadInput = z.input<typeof RegisterUploadInput>;

const ProcessedMarks = z
  .array(z.object({ uploadId: UploadIdSchema, intermediateKey: z.string().min(1), warnings: ParseWarningsSchema }))
  .max(100_000);

/** An upload that became 'processed': its intermediate report and the parser's warnings. */
export interface ProcessedMark {
  uploadId: string;
  intermediateKey: string;
  warnings: readonly ParseWarning[];
}

export interface RegisteredUpload {
  uploadId: string;
  session: number;
  /** false: an earlier registration with the same upload id or idempotency key was returned. */
  created: boolean;
}

/** A registration with what a workflow start needs, as its statement read it. */
export interface RegisteredUploadWithStart extends RegisteredUpload {
  /** The repository's settings and the commit's metadata after the statement; only on a new registration. */
  start?: CommitStartFacts;
  /**
   * The commit's run had promised its next claim when this upload was registered (runs.ts): it
   * claims this upload without a nudge. Only on a new registration.
   */
  claimPromised?: boolean;
}

/** How often registerUpload runs again when refused as a duplicate without finding the holder. */
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
    const { uploadId, session, created } = await this.registerUploadWithStart(raw);
    return { uploadId, session, created };
  }

  /** registerUpload, also answering the workflow start's facts from the same statement (registration's one round trip). */
  async registerUploadWithStart(raw: RegisterUploadInput): Promise<RegisteredUploadWithStart> {
    const input = RegisterUploadInput.parse(raw);
    for (let attempt = 1; ; attempt++) {
      try {
        return await registerOnce(this.db, input);
      } catch (err) {
        // Refused as a duplicate, but the twin that holds the id or key was not found: run again.
        if (sqlState(err) === UNIQUE_VIOLATION && attempt < REGISTER_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  /**
   * 'processing' -> 'processed' with its intermediate report and the parser's warnings (a repeat
   * replaces both, keeping the first processed time), several uploads in one statement. Returns
   * the ids that moved (or were processed already); uploads in any other state, or unknown, are
   * left as they are.
   */
  async markProcessedMany(marks: readonly ProcessedMark[]): Promise<Set<string>> {
    const parsed = ProcessedMarks.parse(marks);
    if (parsed.length === 0) return new Set();
    const rows = await this.db.query<{ id: string }>(
      `UPDATE uploads u SET state = 'processed', intermediate_key = m.key, warnings = m.warnings::jsonb,
         processed_at = CASE WHEN u.state = 'processed' THEN u.processed_at ELSE now() END
       FROM unnest($1::text[], $2::text[], $3::text[]) AS m(id, key, warnings)
       WHERE u.id = m.id AND u.state IN ('processing', 'processed') RETURNING u.id`,
      [parsed.map((m) => m.uploadId), parsed.map((m) => m.intermediateKey), parsed.map((m) => JSON.stringify(m.warnings))],
    );
    return new Set(rows.map((r) => r.id));
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

  /** The rows of these uploads (unknown ids are left out), in no particular order. */
  async getUploads(uploadIds: readonly string[]): Promise<UploadRow[]> {
    const ids = UploadIdList.parse(uploadIds);
    if (ids.length === 0) return [];
    return (await this.db.query<UploadRecord>(`${UPLOAD_SELECT} WHERE u.id = ANY($1::text[])`, [ids])).map(toUpload);
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

/**
 * One statement, so the commit row is locked only while it runs (no client round trip in
 * between): upsert the commit while counting up its session counter (and recording what CI says
 * about it, first value wins), insert the upload with the session it returned, and answer what a
 * workflow start needs (the repository's settings and the commit's metadata). Sessions therefore
 * follow the order in which registrations reach the row, and a statement that fails (a repeated
 * upload id or key) rolls its count and its metadata back with it, so sessions stay dense. It also
 * answers whether the commit's run has promised its next claim: the row lock orders this read with
 * the claims that make and withdraw the promise (runs.ts).
 */
const REGISTER_SQL = `
  WITH c AS (
    INSERT INTO commits (repository_id, sha, next_session, branch, parent_sha, pull_request, ci_service, build, job, ci_url)
    SELECT id, $2, 1, $19, $20, $21, $22, $23, $24, $25 FROM repositories WHERE slug = $1
    ON CONFLICT (repository_id, sha) DO UPDATE SET
      next_session = commits.next_session + 1, updated_at = now(), ${FILL_COMMIT_METADATA}
    RETURNING id, repository_id, next_session - 1 AS session, branch, parent_sha, pull_request, ci_service, build, job, ci_url,
      coalesce(next_claim_until > now(), false) AS claim_promised
  ), u AS (
    INSERT INTO uploads
      (id, commit_id, session, state, idempotency_key, flags, name, build, job, branch, ci_url,
       format_hint, raw_key, raw_bytes, path_fixes, repo_files_key, idempotency_scope, body_sha256, report_fixes_key)
    SELECT $3::text, c.id, c.session, 'uploaded', $4::text, $5::text[], $6::text, $7::text, $8::text, $9::text, $10::text,
      $11::text, $12::text, $13::bigint, $14::text[], $15::text, $16::text, $17::text, $18::text
    FROM c
    RETURNING session
  )
  SELECT u.session, r.settings, c.branch, c.parent_sha, c.pull_request, c.ci_service, c.build, c.job, c.ci_url, c.claim_promised
  FROM u, c JOIN repositories r ON r.id = c.repository_id`;

type RegisteredRecord = { session: number; settings: unknown; claim_promised: boolean } & Pick<CommitRecord, 'branch' | 'parent_sha' | 'pull_request' | 'ci_service' | 'build' | 'job' | 'ci_url'>;

async function registerOnce(q: Queryable, input: z.output<typeof RegisterUploadInput>): Promise<RegisteredUploadWithStart> {
  const key = input.idempotencyKey;
  const scope = key === undefined ? null : (input.idempotencyScope ?? 'raw');
  const commit = input.commit ?? {};
  let inserted: RegisteredRecord | undefined;
  try {
    [inserted] = await q.query<RegisteredRecord>(REGISTER_SQL, [
      input.repo,
      input.sha,
      input.uploadId,
      key ?? null,
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
      input.reportFixesKey ?? null,
      commit.branch ?? null,
      commit.parentSha ?? null,
      commit.pullRequest ?? null,
      commit.ciService ?? null,
      commit.build ?? null,
      commit.job ?? null,
      commit.ciUrl ?? null,
    ]);
  } catch (err) {
    if (sqlState(err) !== UNIQUE_VIOLATION) throw err;
    // The upload id or the key is taken: answer from the registration that holds it.
    const earlier = await findEarlier(q, input, scope);
    if (earlier === undefined) throw err; // its holder is not visible yet: the caller runs again
    return earlier;
  }
  if (inserted === undefined) throw new NotFoundError(`repository ${input.repo} does not exist`);
  return { uploadId: input.uploadId, session: inserted.session, created: true, start: toCommitStartFacts(inserted), claimPromised: inserted.claim_promised };
}

/** The registration holding this upload id, else this key on the commit; conflicts if the body differs. */
async function findEarlier(q: Queryable, input: z.output<typeof RegisterUploadInput>, scope: IdempotencyScope | null): Promise<RegisteredUpload | undefined> {
  const key = input.idempotencyKey;
  const [existing] = await q.query<{ id: string; session: number; same_commit: boolean; body_sha256: string | null }>(
    `SELECT u.id, u.session, u.commit_id IS NOT DISTINCT FROM c.id AS same_commit, u.body_sha256
     FROM uploads u
     LEFT JOIN (SELECT c.id FROM commits c JOIN repositories r ON r.id = c.repository_id WHERE r.slug = $1 AND c.sha = $2) c ON true
     WHERE u.id = $3 OR (u.commit_id = c.id AND u.idempotency_scope = $4 AND u.idempotency_key = $5)
     ORDER BY (u.id = $3) DESC LIMIT 1`,
    [input.repo, input.sha, input.uploadId, scope, key ?? null],
  );
  if (existing === undefined) return undefined;
  if (!existing.same_commit) throw new ConflictError(`upload id ${input.uploadId} is already registered for another commit`);
  if (digestsConflict(existing.body_sha256, input.bodyDigest)) {
    if (existing.id === input.uploadId || key === undefined || scope === null) {
      throw new ConflictError(`upload id ${input.uploadId} is already registered with a different body`);
    }
    throw new IdempotencyConflictError(key, scope, existing.id);
  }
  return { uploadId: existing.id, session: existing.session, created: false };
}
