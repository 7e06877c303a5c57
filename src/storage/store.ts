import { z } from 'zod';
import { CommitShaSchema, RepoSlugSchema, UploadIdSchema } from '../ids';
import { UPLOAD_MODES } from '../config';
import { ParseWarningsSchema, type ParseWarning } from '../coverage/warnings';
import { sqlState, UNIQUE_VIOLATION, type Database, type Queryable } from './database';

// ---------------------------------------------------------------------------------------------
// Vocabulary

export const UPLOAD_STATES = ['uploaded', 'processing', 'processed', 'merged', 'error', 'cancelled'] as const;
export const UploadStateSchema = z.enum(UPLOAD_STATES);
export type UploadState = z.infer<typeof UploadStateSchema>;

export const MODES = UPLOAD_MODES;
export const ModeSchema = z.enum(MODES);
export type Mode = z.infer<typeof ModeSchema>;

/**
 * Where an idempotency key lives: a raw upload's key, or a multipart part's (the request's key +
 * ":" + the part's index). One key per scope and commit; the scopes never meet.
 */
export const IDEMPOTENCY_SCOPES = ['raw', 'multipart'] as const;
export const IdempotencyScopeSchema = z.enum(IDEMPOTENCY_SCOPES);
export type IdempotencyScope = z.infer<typeof IdempotencyScopeSchema>;

/** sha256 of a body as received, lower-case hex. */
export const BodyDigestSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest');

/**
 * A key sent again answers its upload only with the same body; unknown digests (rows registered
 * before digests were kept, or callers that send none) cannot be compared and do not conflict.
 */
export function digestsConflict(stored: string | null, sent: string | undefined): boolean {
  return stored !== null && sent !== undefined && stored !== sent;
}

export const EXPERIMENT_OUTCOMES = ['match', 'mismatch', 'shadow_failed', 'shadow_timeout'] as const;
export const ExperimentOutcomeSchema = z.enum(EXPERIMENT_OUTCOMES);
export type ExperimentOutcome = z.infer<typeof ExperimentOutcomeSchema>;

/** A commit's own state, set by its workflow; new commits start 'pending'. */
export const COMMIT_STATES = ['pending', 'processing', 'complete', 'error'] as const;
export const CommitStateSchema = z.enum(COMMIT_STATES);
export type CommitState = z.infer<typeof CommitStateSchema>;

export { CommitShaSchema, RepoSlugSchema, UploadIdSchema } from '../ids';

export const RepoSettingsSchema = z.object({
  /** Path fixes applied to every upload of the repository. */
  fixes: z.array(z.string()).optional(),
  /** Path patterns left out of its reports. */
  ignore: z.array(z.string()).optional(),
});
export type RepoSettings = z.infer<typeof RepoSettingsSchema>;

/** Any JSON value (what jsonb columns hold); `undefined` has no JSON form and is refused. */
const JsonValue = z.unknown().refine((v) => v !== undefined && JSON.stringify(v) !== undefined, 'expected a JSON value');

const optionalText = z.string().max(10_000).optional();

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

const RunIdSchema = z.string().min(1).max(200);
const Int32 = z.number().int().nonnegative().max(2_147_483_647);

export const StartRunInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  /** The workflow run taking the commit over. */
  runId: RunIdSchema,
  /** When that run started (ms since the epoch): a run never takes over from a later one. */
  runStartedAt: z.number().int().nonnegative().max(8.64e15),
});
export type StartRunInput = z.input<typeof StartRunInput>;

export const ClaimUploadsInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  runId: RunIdSchema,
  /** The run's own count of claims: with the run id, what makes a retried claim the same claim. */
  runClaim: Int32,
  limit: z.number().int().min(1).max(100_000),
});
export type ClaimUploadsInput = z.input<typeof ClaimUploadsInput>;

export const SaveBatchReportInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  /** The claim whose uploads the report merges. */
  batch: Int32,
  version: z.number().int().positive().max(2_147_483_647),
  reportKey: z.string().min(1),
  totals: JsonValue,
  uploadIds: z
    .array(UploadIdSchema)
    .min(1)
    .max(100_000)
    .refine((ids) => new Set(ids).size === ids.length, 'upload ids must be distinct'),
});
export type SaveBatchReportInput = z.input<typeof SaveBatchReportInput>;

export const SaveCommitReportInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  version: z.number().int().nonnegative().max(2_147_483_647),
  reportKey: z.string().min(1),
  totals: JsonValue,
});
export type SaveCommitReportInput = z.input<typeof SaveCommitReportInput>;

const optionalCount = z.number().int().nonnegative().max(2_147_483_647).nullable().optional();

export const RecordExperimentInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  batch: z.number().int().nonnegative().max(2_147_483_647),
  outcome: ExperimentOutcomeSchema,
  differingFiles: optionalCount,
  differingLines: optionalCount,
  sample: JsonValue.nullable().optional(),
  serialMs: optionalCount,
  shadowMs: optionalCount,
});
export type RecordExperimentInput = z.input<typeof RecordExperimentInput>;

// ---------------------------------------------------------------------------------------------
// Rows

export interface Repository {
  id: number;
  slug: string;
  uploadTokenHash: string;
  settings: RepoSettings;
  createdAt: Date;
}

export interface CommitRow {
  id: number;
  repositoryId: number;
  repo: string;
  sha: string;
  /** The session the next registered upload gets (= uploads registered so far). */
  nextSession: number;
  state: CommitState;
  createdAt: Date;
  updatedAt: Date;
}

export interface UploadRow {
  /** The upload's id (the `id` column); `uploadId` is the same value. */
  id: string;
  uploadId: string;
  commitId: number;
  repo: string;
  sha: string;
  session: number;
  state: UploadState;
  errorCode: string | null;
  errorMessage: string | null;
  /** The commit's batch that claimed the upload last (null while it waits). */
  batch: number | null;
  idempotencyKey: string | null;
  idempotencyScope: IdempotencyScope | null;
  bodyDigest: string | null;
  flags: string[];
  name: string | null;
  build: string | null;
  job: string | null;
  branch: string | null;
  ciUrl: string | null;
  formatHint: string | null;
  rawKey: string;
  rawBytes: number;
  intermediateKey: string | null;
  pathFixes: string[];
  repoFilesKey: string | null;
  /** Per-line anomalies the processor skipped or clamped; empty until processed, or none. */
  warnings: ParseWarning[];
  createdAt: Date;
  processingStartedAt: Date | null;
  processedAt: Date | null;
  mergedAt: Date | null;
}

export interface RegisteredUpload {
  uploadId: string;
  session: number;
  /** false: an earlier registration with the same upload id or idempotency key was returned. */
  created: boolean;
}

export interface ClaimedUpload {
  uploadId: string;
  session: number;
  rawKey: string;
  rawBytes: number;
  formatHint: string | null;
}

/** What a claim took: its batch (numbered per commit, across runs) and uploads, by session. */
export interface ClaimedBatch {
  /** null when nothing was waiting (no batch is allocated then). */
  batch: number | null;
  uploads: ClaimedUpload[];
}

/** Where a new run of a commit's workflow starts from, as persisted. */
export interface RunStart {
  /** The saved report's version (0: none yet), its key and totals. */
  version: number;
  reportKey: string | null;
  totals: unknown;
  merged: number;
  errors: number;
  /** Uploads waiting to be claimed, those just released included. */
  waiting: number;
  /** Uploads a run that no longer exists had claimed, released back to 'uploaded'. */
  released: number;
}

/**
 * - saved: the version is the commit's report now and the batch's uploads are merged;
 * - superseded: the uploads are no longer claimed by this batch (a later run released them);
 * - outdated: a higher version (or another report of the same version) is already saved.
 */
export type SaveBatchOutcome = 'saved' | 'superseded' | 'outdated';

export interface CommitReport {
  version: number;
  reportKey: string;
  totals: unknown;
  updatedAt: Date;
}

export interface ExperimentRow {
  batch: number;
  outcome: ExperimentOutcome;
  differingFiles: number | null;
  differingLines: number | null;
  sample: unknown;
  serialMs: number | null;
  shadowMs: number | null;
  createdAt: Date;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The write would break a uniqueness rule (a slug taken, an upload id used by another commit). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** A workflow run that is no longer the commit's current run tried to claim or take over. */
export class SupersededRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SupersededRunError';
  }
}

/** The idempotency key is taken on this commit by an upload with a different body. */
export class IdempotencyConflictError extends ConflictError {
  constructor(
    readonly idempotencyKey: string,
    readonly scope: IdempotencyScope,
    /** The upload that holds the key. */
    readonly uploadId: string,
  ) {
    super(`idempotency key ${JSON.stringify(idempotencyKey)} is already used by upload ${uploadId}, whose body differs`);
    this.name = 'IdempotencyConflictError';
  }
}

/** The repository (or commit) named does not exist. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

// ---------------------------------------------------------------------------------------------
// Raw rows as the drivers return them (int8 already numbers, see database.ts)

interface RepositoryRecord {
  id: number;
  slug: string;
  upload_token_hash: string;
  settings: unknown;
  created_at: Date | string;
}

interface CommitRecord {
  id: number;
  repository_id: number;
  slug: string;
  sha: string;
  next_session: number;
  state: string;
  created_at: Date | string;
  updated_at: Date | string;
}

interface UploadRecord {
  id: string;
  commit_id: number;
  slug: string;
  sha: string;
  session: number;
  state: string;
  error_code: string | null;
  error_message: string | null;
  batch: number | null;
  idempotency_key: string | null;
  idempotency_scope: string | null;
  body_sha256: string | null;
  flags: string[] | null;
  name: string | null;
  build: string | null;
  job: string | null;
  branch: string | null;
  ci_url: string | null;
  format_hint: string | null;
  raw_key: string;
  raw_bytes: number | string;
  intermediate_key: string | null;
  path_fixes: string[] | null;
  repo_files_key: string | null;
  warnings: unknown;
  created_at: Date | string;
  processing_started_at: Date | string | null;
  processed_at: Date | string | null;
  merged_at: Date | string | null;
}

function toDate(v: Date | string): Date {
  return v instanceof Date ? v : new Date(v);
}

function toDateOrNull(v: Date | string | null): Date | null {
  return v === null ? null : toDate(v);
}

function toNumber(v: number | string): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`integer out of range: ${String(v)}`);
  return n;
}

function toRepository(r: RepositoryRecord): Repository {
  return {
    id: r.id,
    slug: r.slug,
    uploadTokenHash: r.upload_token_hash,
    // Stored settings passed this schema on the way in; parsing again keeps the type honest.
    settings: RepoSettingsSchema.parse(r.settings ?? {}),
    createdAt: toDate(r.created_at),
  };
}

function toCommit(r: CommitRecord): CommitRow {
  return {
    id: r.id,
    repositoryId: r.repository_id,
    repo: r.slug,
    sha: r.sha,
    nextSession: r.next_session,
    state: CommitStateSchema.parse(r.state),
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

function toUpload(r: UploadRecord): UploadRow {
  return {
    id: r.id,
    uploadId: r.id,
    commitId: r.commit_id,
    repo: r.slug,
    sha: r.sha,
    session: r.session,
    state: UploadStateSchema.parse(r.state),
    errorCode: r.error_code,
    errorMessage: r.error_message,
    batch: r.batch,
    idempotencyKey: r.idempotency_key,
    idempotencyScope: r.idempotency_scope === null ? null : IdempotencyScopeSchema.parse(r.idempotency_scope),
    bodyDigest: r.body_sha256,
    flags: r.flags ?? [],
    name: r.name,
    build: r.build,
    job: r.job,
    branch: r.branch,
    ciUrl: r.ci_url,
    formatHint: r.format_hint,
    rawKey: r.raw_key,
    rawBytes: toNumber(r.raw_bytes),
    intermediateKey: r.intermediate_key,
    pathFixes: r.path_fixes ?? [],
    repoFilesKey: r.repo_files_key,
    warnings: storedWarnings(r.warnings),
    createdAt: toDate(r.created_at),
    processingStartedAt: toDateOrNull(r.processing_started_at),
    processedAt: toDateOrNull(r.processed_at),
    mergedAt: toDateOrNull(r.merged_at),
  };
}

/** Stored warnings passed the schema on the way in; an unreadable value shows as none. */
function storedWarnings(v: unknown): ParseWarning[] {
  const parsed = ParseWarningsSchema.safeParse(typeof v === 'string' ? JSON.parse(v) : (v ?? []));
  return parsed.success ? parsed.data : [];
}

const UPLOAD_SELECT = `
  SELECT u.*, r.slug, c.sha
  FROM uploads u
  JOIN commits c ON c.id = u.commit_id
  JOIN repositories r ON r.id = c.repository_id`;

const UploadIdList = z.array(UploadIdSchema).max(100_000);

/** How often registerUpload re-runs after losing a uniqueness race (the re-run finds the winner). */
const REGISTER_ATTEMPTS = 3;

// ---------------------------------------------------------------------------------------------

/**
 * Tributary's rows: repositories, commits and their uploads, commit reports, experiment results
 * and mode overrides. Every method validates its input and is safe to retry: registrations are
 * idempotent by upload id and idempotency key, claims by run and claim count, state changes only move forward.
 */
export class Store {
  constructor(private readonly db: Database) {}

  // --- repositories -------------------------------------------------------------------------

  async createRepository(slug: string, uploadTokenHash: string, settings: RepoSettings = {}): Promise<Repository> {
    const s = RepoSlugSchema.parse(slug);
    const hash = z.string().min(1).parse(uploadTokenHash);
    const st = RepoSettingsSchema.parse(settings);
    try {
      const [row] = await this.db.query<RepositoryRecord>(
        `INSERT INTO repositories (slug, upload_token_hash, settings) VALUES ($1, $2, $3::jsonb) RETURNING *`,
        [s, hash, JSON.stringify(st)],
      );
      return toRepository(row);
    } catch (err) {
      if (sqlState(err) === UNIQUE_VIOLATION) throw new ConflictError(`repository ${s} already exists`);
      throw err;
    }
  }

  async getRepository(slug: string): Promise<Repository | null> {
    const [row] = await this.db.query<RepositoryRecord>(`SELECT * FROM repositories WHERE slug = $1`, [
      RepoSlugSchema.parse(slug),
    ]);
    return row === undefined ? null : toRepository(row);
  }

  /** The repository whose upload token has this hash (sha256 hex), if any. */
  async findRepositoryByTokenHash(uploadTokenHash: string): Promise<Repository | null> {
    const [row] = await this.db.query<RepositoryRecord>(`SELECT * FROM repositories WHERE upload_token_hash = $1`, [
      z.string().min(1).max(200).parse(uploadTokenHash),
    ]);
    return row === undefined ? null : toRepository(row);
  }

  /** Replaces the repository's settings; NotFoundError when it does not exist. */
  async updateRepositorySettings(slug: string, settings: RepoSettings): Promise<Repository> {
    const s = RepoSlugSchema.parse(slug);
    const [row] = await this.db.query<RepositoryRecord>(
      `UPDATE repositories SET settings = $2::jsonb WHERE slug = $1 RETURNING *`,
      [s, JSON.stringify(RepoSettingsSchema.parse(settings))],
    );
    if (row === undefined) throw new NotFoundError(`repository ${s} does not exist`);
    return toRepository(row);
  }

  // --- mode overrides -----------------------------------------------------------------------

  /** Pins the repository's mode; null removes the pin (the default mode applies again). */
  async setModeOverride(slug: string, mode: Mode | null): Promise<void> {
    const s = RepoSlugSchema.parse(slug);
    const m = ModeSchema.nullable().parse(mode);
    const repositoryId = await repositoryIdOf(this.db, s);
    if (m === null) {
      await this.db.query(`DELETE FROM mode_overrides WHERE repository_id = $1`, [repositoryId]);
      return;
    }
    await this.db.query(
      `INSERT INTO mode_overrides (repository_id, mode) VALUES ($1, $2)
       ON CONFLICT (repository_id) DO UPDATE SET mode = EXCLUDED.mode, updated_at = now()`,
      [repositoryId, m],
    );
  }

  async getModeOverride(slug: string): Promise<Mode | null> {
    const [row] = await this.db.query<{ mode: string }>(
      `SELECT o.mode FROM mode_overrides o JOIN repositories r ON r.id = o.repository_id WHERE r.slug = $1`,
      [RepoSlugSchema.parse(slug)],
    );
    return row === undefined ? null : ModeSchema.parse(row.mode);
  }

  async listModeOverrides(): Promise<{ slug: string; mode: Mode }[]> {
    const rows = await this.db.query<{ slug: string; mode: string }>(
      `SELECT r.slug, o.mode FROM mode_overrides o JOIN repositories r ON r.id = o.repository_id ORDER BY r.slug`,
    );
    return rows.map((r) => ({ slug: r.slug, mode: ModeSchema.parse(r.mode) }));
  }

  // --- uploads ------------------------------------------------------------------------------

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
   * Makes `runId` the run that owns the commit's claims, and returns where it starts from: the
   * saved report and the upload counts. Only one run of a commit's workflow is open at a time, so
   * uploads left 'processing' or 'processed' by any other run are orphans (a run terminated or
   * timed out mid-batch): they go back to 'uploaded', without their processing times, for this
   * run to claim. Merged and failed uploads are never touched. A run that started before the
   * current owner is a dead one still executing (SupersededRunError). Repeating it is harmless.
   */
  async startRun(raw: StartRunInput): Promise<RunStart> {
    const input = StartRunInput.parse(raw);
    const startedAt = new Date(input.runStartedAt).toISOString();
    return this.db.transaction(async (tx) => {
      const commitId = await ensureCommit(tx, input.repo, input.sha);
      // The row lock orders this with claims and finishers of the commit until commit.
      const owned = await tx.query(
        `UPDATE commits SET run_id = $2, run_started_at = $3::timestamptz
         WHERE id = $1 AND (run_id = $2 OR run_started_at IS NULL OR run_started_at < $3::timestamptz)
         RETURNING id`,
        [commitId, input.runId, startedAt],
      );
      if (owned.length === 0) {
        throw new SupersededRunError(`run ${input.runId} of ${input.repo}@${input.sha} started before the commit's current run`);
      }
      const released = await tx.query(
        `UPDATE uploads SET state = 'uploaded', batch = NULL, intermediate_key = NULL,
           processing_started_at = NULL, processed_at = NULL
         WHERE commit_id = $1 AND state IN ('processing', 'processed')
           AND (batch IS NULL OR batch NOT IN (SELECT batch FROM batch_claims WHERE commit_id = $1 AND run_id = $2))
         RETURNING id`,
        [commitId, input.runId],
      );
      const [report] = await tx.query<{ version: number; report_key: string; totals: unknown }>(
        `SELECT version, report_key, totals FROM commit_reports WHERE commit_id = $1`,
        [commitId],
      );
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
        released: released.length,
      };
    });
  }

  /**
   * Claims up to `limit` waiting uploads (lowest sessions first) for the run that owns the commit
   * (see startRun): they move to 'processing' under a new batch, numbered per commit across runs.
   * The claim is keyed by the run and its claim count, so a retried claim returns exactly the
   * same batch and uploads, and claims nothing more; nothing waiting allocates no batch. A run
   * that no longer owns the commit claims nothing (SupersededRunError).
   */
  async claimUploads(raw: ClaimUploadsInput): Promise<ClaimedBatch> {
    const input = ClaimUploadsInput.parse(raw);
    return this.db.transaction(async (tx) => {
      // Locking the commit row serialises claims, run starts and finishers of one commit, so two
      // identical claims cannot both find no claim and claim twice.
      const [commit] = await tx.query<{ id: number; run_id: string | null }>(
        `SELECT c.id, c.run_id FROM commits c JOIN repositories r ON r.id = c.repository_id
         WHERE r.slug = $1 AND c.sha = $2 FOR UPDATE OF c`,
        [input.repo, input.sha],
      );
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
        if (waiting.length === 0) return { batch: null, uploads: [] };
        const [next] = await tx.query<{ batch: number }>(
          `INSERT INTO batch_claims (commit_id, batch, run_id, run_claim)
           SELECT $1, coalesce(max(batch) + 1, 0), $2, $3 FROM batch_claims WHERE commit_id = $1
           RETURNING batch`,
          [commit.id, input.runId, input.runClaim],
        );
        batch = next.batch;
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
   * A finisher's result, in one transaction: saves the report as the commit's and marks the
   * batch's uploads merged, but only while every one of them is still claimed by `batch` and no
   * higher version is saved (the same version with the same key is a retried save). So a
   * finisher of a run that no longer exists, finishing late, neither moves the report backwards
   * nor marks merged what the saved report does not contain.
   */
  async saveBatchReport(raw: SaveBatchReportInput): Promise<SaveBatchOutcome> {
    const input = SaveBatchReportInput.parse(raw);
    return this.db.transaction(async (tx) => {
      const [commit] = await tx.query<{ id: number }>(
        `SELECT c.id FROM commits c JOIN repositories r ON r.id = c.repository_id
         WHERE r.slug = $1 AND c.sha = $2 FOR UPDATE OF c`,
        [input.repo, input.sha],
      );
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
      await tx.query(
        `UPDATE uploads SET state = 'merged', merged_at = now()
         WHERE id = ANY($1::text[]) AND state IN ('processing', 'processed')`,
        [input.uploadIds],
      );
      return 'saved';
    });
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
    if (ids.length === 0) return 0;
    const rows = await this.db.query(
      `UPDATE uploads SET state = 'merged', merged_at = now()
       WHERE id = ANY($1::text[]) AND state IN ('processing', 'processed') RETURNING id`,
      [ids],
    );
    return rows.length;
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
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha), IdempotencyScopeSchema.parse(scope), z.string().min(1).max(500).parse(key)],
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

  /** Uploads of the commit per state; every state is present (0 when none). */
  async countUploadsByState(repo: string, sha: string): Promise<Record<UploadState, number>> {
    const rows = await this.db.query<{ state: string; n: number | string }>(
      `SELECT u.state, count(*) AS n FROM uploads u
       JOIN commits c ON c.id = u.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE r.slug = $1 AND c.sha = $2 GROUP BY u.state`,
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha)],
    );
    const counts = Object.fromEntries(UPLOAD_STATES.map((s) => [s, 0])) as Record<UploadState, number>;
    for (const r of rows) counts[UploadStateSchema.parse(r.state)] = toNumber(r.n);
    return counts;
  }

  // --- commits ------------------------------------------------------------------------------

  async getCommit(repo: string, sha: string): Promise<CommitRow | null> {
    const [row] = await this.db.query<CommitRecord>(
      `SELECT c.*, r.slug FROM commits c JOIN repositories r ON r.id = c.repository_id WHERE r.slug = $1 AND c.sha = $2`,
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha)],
    );
    return row === undefined ? null : toCommit(row);
  }

  /** Sets the commit's state, creating the commit row if no upload did yet. */
  async setCommitState(repo: string, sha: string, state: CommitState): Promise<void> {
    const r = RepoSlugSchema.parse(repo);
    const s = CommitShaSchema.parse(sha);
    const st = CommitStateSchema.parse(state);
    const repositoryId = await repositoryIdOf(this.db, r);
    await this.db.query(
      `INSERT INTO commits (repository_id, sha, state) VALUES ($1, $2, $3)
       ON CONFLICT (repository_id, sha) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
      [repositoryId, s, st],
    );
  }

  // --- commit reports -----------------------------------------------------------------------

  /**
   * Saves the commit report unless a higher version is already saved (an equal version replaces
   * it: a retried save). Returns whether this version is now the saved one.
   */
  async saveCommitReport(raw: SaveCommitReportInput): Promise<boolean> {
    const input = SaveCommitReportInput.parse(raw);
    return this.db.transaction(async (tx) => {
      const commitId = await ensureCommit(tx, input.repo, input.sha);
      const rows = await tx.query(
        `INSERT INTO commit_reports (commit_id, version, report_key, totals) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (commit_id) DO UPDATE
           SET version = EXCLUDED.version, report_key = EXCLUDED.report_key, totals = EXCLUDED.totals, updated_at = now()
           WHERE commit_reports.version <= EXCLUDED.version
         RETURNING commit_id`,
        [commitId, input.version, input.reportKey, JSON.stringify(input.totals)],
      );
      return rows.length > 0;
    });
  }

  async getCommitReport(repo: string, sha: string): Promise<CommitReport | null> {
    const [row] = await this.db.query<{ version: number; report_key: string; totals: unknown; updated_at: Date | string }>(
      `SELECT cr.version, cr.report_key, cr.totals, cr.updated_at FROM commit_reports cr
       JOIN commits c ON c.id = cr.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE r.slug = $1 AND c.sha = $2`,
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha)],
    );
    if (row === undefined) return null;
    return { version: row.version, reportKey: row.report_key, totals: row.totals, updatedAt: toDate(row.updated_at) };
  }

  // --- experiments --------------------------------------------------------------------------

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
    const rows = await this.db.query<{
      batch: number;
      outcome: string;
      differing_files: number | null;
      differing_lines: number | null;
      sample: unknown;
      serial_ms: number | null;
      shadow_ms: number | null;
      created_at: Date | string;
    }>(
      `SELECT e.* FROM experiment_results e
       JOIN commits c ON c.id = e.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE r.slug = $1 AND c.sha = $2 ORDER BY e.batch`,
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha)],
    );
    return rows.map((r) => ({
      batch: r.batch,
      outcome: ExperimentOutcomeSchema.parse(r.outcome),
      differingFiles: r.differing_files,
      differingLines: r.differing_lines,
      sample: r.sample,
      serialMs: r.serial_ms,
      shadowMs: r.shadow_ms,
      createdAt: toDate(r.created_at),
    }));
  }
}

// ---------------------------------------------------------------------------------------------

async function repositoryIdOf(q: Queryable, slug: string): Promise<number> {
  const [row] = await q.query<{ id: number }>(`SELECT id FROM repositories WHERE slug = $1`, [slug]);
  if (row === undefined) throw new NotFoundError(`repository ${slug} does not exist`);
  return row.id;
}

/** The commit's id, creating its row when needed. */
async function ensureCommit(q: Queryable, repo: string, sha: string): Promise<number> {
  const repositoryId = await repositoryIdOf(q, repo);
  await q.query(`INSERT INTO commits (repository_id, sha) VALUES ($1, $2) ON CONFLICT (repository_id, sha) DO NOTHING`, [
    repositoryId,
    sha,
  ]);
  const [row] = await q.query<{ id: number }>(`SELECT id FROM commits WHERE repository_id = $1 AND sha = $2`, [
    repositoryId,
    sha,
  ]);
  if (row === undefined) throw new Error(`commit ${repo}@${sha} vanished while being written`);
  return row.id;
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
