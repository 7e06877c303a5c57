import { z } from 'zod';
import type { ParseWarning } from '../coverage/warnings';
import { ParseWarningsSchema } from '../coverage/warnings-schema';
import {
  ExperimentOutcomeSchema,
  FlagNameSchema,
  IdempotencyScopeSchema,
  MAX_CARRYFORWARD_DEPTH,
  UploadStateSchema,
  type ExperimentOutcome,
  type IdempotencyScope,
  type UploadState,
} from '../vocabulary';

/**
 * The store's rows as callers see them, and their mappers from the records the drivers return
 * (snake_case, int8 already numbers, see database.ts; timestamps as Date or text by driver).
 */

/**
 * A commit status's rule, as Codecov's: success when head coverage >= target - threshold, the
 * target being the base's coverage (`auto`) or a fixed percentage.
 */
export const StatusRuleSchema = z.object({
  target: z.union([z.literal('auto'), z.number().min(0).max(100)]).optional(),
  threshold: z.number().min(0).max(100).optional(),
});
export type StatusRule = z.infer<typeof StatusRuleSchema>;

export const RepoSettingsSchema = z.object({
  /** Path fixes applied to every upload of the repository. */
  fixes: z.array(z.string()).optional(),
  /** Path patterns left out of its reports. */
  ignore: z.array(z.string()).optional(),
  /** Its default branch, whose commits go before other branches' (else TRIBUTARY_DEFAULT_BRANCH). */
  defaultBranch: z.string().min(1).max(1000).optional(),
  /** Its commits go before every other repository's when workers are saturated. */
  urgent: z.boolean().optional(),
  /** Uploads a commit expects: it settles (and notifies) once this many reached merged or error. */
  afterNBuilds: z.number().int().min(1).max(10_000).optional(),
  /** Targets of the `tributary/project` and `tributary/patch` commit statuses. */
  statuses: z.object({ project: StatusRuleSchema.optional(), patch: StatusRuleSchema.optional() }).optional(),
  /** Commit statuses and the pull-request comment on GitHub (or GitHub Enterprise, TRIBUTARY_GITHUB_API_URL). */
  github: z
    .object({
      /** OWNER/NAME on GitHub; absent: the repository's own slug. */
      repository: z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, 'expected OWNER/NAME').optional(),
      /** Write-only: answered as "***"; "***" or absent on a write keeps the stored one. */
      token: z.string().min(1).max(1000).optional(),
    })
    .optional(),
  /** Receivers of signed JSON notifications (compare result and event metadata). */
  webhooks: z
    .array(
      z.object({
        url: z.url({ protocol: /^https?$/, error: 'expected an http(s):// URL' }),
        /** Write-only, like github.token: the HMAC-SHA256 key of X-Tributary-Signature. */
        secret: z.string().min(1).max(1000).optional(),
      }),
    )
    .max(20)
    .optional(),
  /** Its pages and badge are readable without a token (the API is not); private when absent. */
  public: z.boolean().optional(),
  /**
   * The flags its uploads carry, and which are carried forward: a commit whose uploads lack a
   * carryforward flag keeps that flag's sessions from its nearest complete ancestor.
   */
  flags: z
    .array(z.object({ name: FlagNameSchema, carryforward: z.boolean() }).strict())
    .max(100, 'at most 100 flags')
    .refine((flags) => new Set(flags.map((f) => f.name)).size === flags.length, 'each flag is declared once')
    .optional(),
  /** Ancestors (by recorded parent) searched for a carryforward flag's sessions. */
  carryforwardDepth: z.number().int().min(1).max(MAX_CARRYFORWARD_DEPTH).optional(),
});
export type RepoSettings = z.infer<typeof RepoSettingsSchema>;

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
  metadata: CommitMetadata;
  /** When the commit's carryforward was decided (once, after its first batch); null before. */
  carryforwardAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What CI says about a commit; every field optional, kept from the first upload that gives it. */
export const CommitMetadataSchema = z.object({
  branch: z.string().min(1).max(1000).optional(),
  parentSha: z.string().min(1).max(200).optional(),
  pullRequest: z.number().int().nonnegative().max(2_147_483_647).optional(),
  ciService: z.string().min(1).max(200).optional(),
  build: z.string().min(1).max(10_000).optional(),
  job: z.string().min(1).max(10_000).optional(),
  ciUrl: z.string().min(1).max(10_000).optional(),
});
export type CommitMetadata = z.infer<typeof CommitMetadataSchema>;

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
  /** Codecov's line fixes sent with the upload, when any. */
  reportFixesKey: string | null;
  /** Per-line anomalies the processor skipped or clamped; empty until processed, or none. */
  warnings: ParseWarning[];
  createdAt: Date;
  processingStartedAt: Date | null;
  processedAt: Date | null;
  mergedAt: Date | null;
  /** When retention deleted the raw upload (and its file list); null while it is kept. */
  rawDeletedAt: Date | null;
}

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

export type Timestamp = Date | string;

export interface RepositoryRecord {
  id: number;
  slug: string;
  upload_token_hash: string;
  settings: unknown;
  created_at: Timestamp;
}

export interface CommitRecord {
  id: number;
  repository_id: number;
  slug: string;
  sha: string;
  next_session: number;
  branch?: string | null;
  parent_sha?: string | null;
  pull_request?: number | null;
  ci_service?: string | null;
  build?: string | null;
  job?: string | null;
  ci_url?: string | null;
  carryforward_at?: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface UploadRecord {
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
  report_fixes_key: string | null;
  warnings: unknown;
  created_at: Timestamp;
  processing_started_at: Timestamp | null;
  processed_at: Timestamp | null;
  merged_at: Timestamp | null;
  raw_deleted_at: Timestamp | null;
}

export interface CommitReportRecord {
  version: number;
  report_key: string;
  totals: unknown;
  updated_at: Timestamp;
}

export interface ExperimentRecord {
  batch: number;
  outcome: string;
  differing_files: number | null;
  differing_lines: number | null;
  sample: unknown;
  serial_ms: number | null;
  shadow_ms: number | null;
  created_at: Timestamp;
}

/** Uploads with their commit's slug and sha, as UploadRecord expects them. */
export const UPLOAD_SELECT = `
  SELECT u.*, r.slug, c.sha
  FROM uploads u
  JOIN commits c ON c.id = u.commit_id
  JOIN repositories r ON r.id = c.repository_id`;

export function toDate(v: Timestamp): Date {
  return v instanceof Date ? v : new Date(v);
}

function toDateOrNull(v: Timestamp | null): Date | null {
  return v === null ? null : toDate(v);
}

/** count(*) and int8 columns: numbers when they fit (database.ts), checked here. */
export function toNumber(v: number | string): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`integer out of range: ${String(v)}`);
  return n;
}

export function toRepository(r: RepositoryRecord): Repository {
  return {
    id: r.id,
    slug: r.slug,
    uploadTokenHash: r.upload_token_hash,
    // Stored settings passed this schema on the way in; parsing again keeps the type honest.
    settings: RepoSettingsSchema.parse(r.settings ?? {}),
    createdAt: toDate(r.created_at),
  };
}

export function toCommit(r: CommitRecord): CommitRow {
  return {
    id: r.id,
    repositoryId: r.repository_id,
    repo: r.slug,
    sha: r.sha,
    nextSession: r.next_session,
    metadata: toCommitMetadata(r),
    carryforwardAt: toDateOrNull(r.carryforward_at ?? null),
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

export function toCommitMetadata(r: Pick<CommitRecord, 'branch' | 'parent_sha' | 'pull_request' | 'ci_service' | 'build' | 'job' | 'ci_url'>): CommitMetadata {
  const m: CommitMetadata = {};
  if (r.branch != null) m.branch = r.branch;
  if (r.parent_sha != null) m.parentSha = r.parent_sha;
  if (r.pull_request != null) m.pullRequest = r.pull_request;
  if (r.ci_service != null) m.ciService = r.ci_service;
  if (r.build != null) m.build = r.build;
  if (r.job != null) m.job = r.job;
  if (r.ci_url != null) m.ciUrl = r.ci_url;
  return m;
}

export function toUpload(r: UploadRecord): UploadRow {
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
    reportFixesKey: r.report_fixes_key,
    warnings: storedWarnings(r.warnings),
    createdAt: toDate(r.created_at),
    processingStartedAt: toDateOrNull(r.processing_started_at),
    processedAt: toDateOrNull(r.processed_at),
    mergedAt: toDateOrNull(r.merged_at),
    rawDeletedAt: toDateOrNull(r.raw_deleted_at),
  };
}

/** Stored warnings passed the schema on the way in; an unreadable value shows as none. */
function storedWarnings(v: unknown): ParseWarning[] {
  const parsed = ParseWarningsSchema.safeParse(typeof v === 'string' ? JSON.parse(v) : (v ?? []));
  return parsed.success ? parsed.data : [];
}

export function toCommitReport(r: CommitReportRecord): CommitReport {
  return { version: r.version, reportKey: r.report_key, totals: r.totals, updatedAt: toDate(r.updated_at) };
}

export function toExperiment(r: ExperimentRecord): ExperimentRow {
  return {
    batch: r.batch,
    outcome: ExperimentOutcomeSchema.parse(r.outcome),
    differingFiles: r.differing_files,
    differingLines: r.differing_lines,
    sample: r.sample,
    serialMs: r.serial_ms,
    shadowMs: r.shadow_ms,
    createdAt: toDate(r.created_at),
  };
}
