import { z } from 'zod';
import { ReportTotalsSchema } from '../coverage/totals-schema';
import { GC_PREFIXES, partFirstUpload } from '../storage/blob-store';
import { GC_REASONS } from '../storage/gc-plan';
import { CommitShaSchema, ExperimentOutcomeSchema, MAX_BATCH_UPLOADS, MAX_PROCESS_CHUNK, RepoSlugSchema, SHADOW_PROBLEMS, UploadIdSchema, VerificationOutcomeSchema, VERIFIED_PATHS } from '../vocabulary';

/**
 * Activity inputs and outputs. Activities validate their inputs with these schemas (a boundary
 * like any other); the workflow imports only the inferred types. Payloads carry ids, keys and
 * small summaries, never coverage data: the largest (a claimed batch) stays near 30 KiB.
 */
const Session = z.number().int().nonnegative();
/** A commit's batch: numbered by its claim in the database, unique across workflow runs. */
const Batch = z.number().int().nonnegative().max(2_147_483_647);
const RunId = z.string().min(1).max(200);
/** One segment of a blob key (blob-store.ts refuses anything else). */
const ScratchSegment = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/).refine((s) => !s.includes('..'), 'no ".." in a key segment');

/**
 * Where a processor or finisher writes: the real commit (for the batch that claimed the uploads,
 * which fences a finisher of a run that no longer exists), or an experiment's scratch space.
 */
export const Target = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('commit'), batch: Batch }),
  z.object({
    kind: z.literal('scratch'),
    batch: Batch,
    /** A scratch area of its own (a re-verification's run and path); absent: the experiment's. */
    area: z.object({ run: ScratchSegment, path: z.enum(VERIFIED_PATHS) }).optional(),
  }),
]);
export type Target = z.infer<typeof Target>;

export const ResolveModeInput = z.object({ repo: RepoSlugSchema });
export type ResolveModeInput = z.infer<typeof ResolveModeInput>;

export const BatchUpload = z.object({ uploadId: UploadIdSchema, session: Session });
export type BatchUpload = z.infer<typeof BatchUpload>;

/** A part's name (`intermediatePartName`): its first upload's id and a digest of its upload ids. */
export const IntermediatePart = z.string().refine((s) => partFirstUpload(s) !== null, 'expected the name of an intermediate part');

/** An upload the finisher merges, and the part its intermediate is in (absent: its own, named by its id). */
export const FinishUpload = BatchUpload.extend({ part: IntermediatePart.optional() });
export type FinishUpload = z.infer<typeof FinishUpload>;

export const ClaimUploadsInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  /** The claiming run and its own count of claims: a retried claim returns the same batch. */
  runId: RunId,
  runClaim: z.number().int().nonnegative().max(2_147_483_647),
  limit: z.number().int().min(1).max(MAX_BATCH_UPLOADS),
  /**
   * Set by runs that claim again after every batch: a claim that takes uploads promises the next
   * claim for this long, and registration skips the nudge while the promise holds.
   */
  promiseMs: z.number().int().min(1).max(3_600_000).optional(),
});
export type ClaimUploadsInput = z.infer<typeof ClaimUploadsInput>;

export const ClaimedBatch = z.object({
  /** null when nothing was waiting. */
  batch: Batch.nullable(),
  uploads: z.array(BatchUpload).max(MAX_BATCH_UPLOADS),
});
export type ClaimedBatch = z.infer<typeof ClaimedBatch>;

export { ReportTotalsSchema };
export type ReportTotalsJson = z.infer<typeof ReportTotalsSchema>;

export const StartRunInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  runId: RunId,
  /** The run's start time (ms since the epoch, from its history); a run never takes over from a later one. */
  runStartedAt: z.number().int().nonnegative().max(8.64e15),
});
export type StartRunInput = z.infer<typeof StartRunInput>;

/** The persisted state a run starts from: the saved report and the commit's upload counts. */
export const RunStart = z.object({
  version: z.number().int().nonnegative(),
  reportKey: z.string().nullable(),
  totals: ReportTotalsSchema.nullable(),
  merged: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  waiting: z.number().int().nonnegative(),
  released: z.number().int().nonnegative(),
  /** The commit's carryforward was decided (absent in results recorded before carryforward). */
  carryforwardDecided: z.boolean().optional(),
});
export type RunStart = z.infer<typeof RunStart>;

export const ProcessUploadInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  uploadId: UploadIdSchema,
  session: Session,
  target: Target,
});
export type ProcessUploadInput = z.infer<typeof ProcessUploadInput>;

export const ProcessUploadsInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  uploads: z.array(BatchUpload).min(1).max(MAX_PROCESS_CHUNK),
  target: Target,
});
export type ProcessUploadsInput = z.infer<typeof ProcessUploadsInput>;

export const UPLOAD_ERROR_CODES = [
  'file_not_in_storage',
  'report_empty',
  'report_invalid',
  'report_too_large',
  'unknown_processing',
  'processing_timeout',
  'cancelled',
] as const;
export const UploadErrorCode = z.enum(UPLOAD_ERROR_CODES);
export type UploadErrorCode = z.infer<typeof UploadErrorCode>;

export const UploadError = z.object({ code: UploadErrorCode, message: z.string().max(2000) });
export type UploadError = z.infer<typeof UploadError>;

export const ProcessSummary = z.object({
  uploadId: UploadIdSchema,
  session: Session,
  /** Intermediate report key; absent when the upload ended in error. */
  key: z.string().optional(),
  /** Set when that report is a part holding several uploads of one chunk: the part's name. */
  part: IntermediatePart.optional(),
  format: z.string().optional(),
  files: z.number().int().nonnegative(),
  lines: z.number().int().nonnegative(),
  /** Lines the parser skipped or clamped (the details are stored on the upload). */
  warnings: z.number().int().nonnegative().optional(),
  error: UploadError.optional(),
});
export type ProcessSummary = z.infer<typeof ProcessSummary>;

export const FinishInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  target: Target,
  /** The report the batch is merged into (the commit's current version), if any. */
  baseKey: z.string().nullable(),
  /** Version the result is written as (commit target). */
  version: z.number().int().positive(),
  uploads: z.array(FinishUpload).min(1).max(MAX_BATCH_UPLOADS),
});
export type FinishInput = z.infer<typeof FinishInput>;

export const FinishResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('ok'), reportKey: z.string(), totals: ReportTotalsSchema }),
  /** Intermediate reports that were not found (expired, deleted): re-run their processors. */
  z.object({ status: z.literal('missing'), missing: z.array(UploadIdSchema) }),
]);
export type FinishResult = z.infer<typeof FinishResult>;

export const CarryForwardInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  /** The run that owns the commit (only it decides). */
  runId: RunId,
  /** The batch after which the decision is made: it names the report version's key. */
  batch: Batch,
});
export type CarryForwardInput = z.infer<typeof CarryForwardInput>;

/** The commit's report once its carryforward is decided (the saved one, carried sessions or not). */
export const CarryForwardResult = z.object({
  /** Sessions carried (0: nothing was, or an earlier attempt decided). */
  carried: z.number().int().nonnegative(),
  /** The carryforward flags they were carried for, with the ancestor each came from. */
  flags: z.array(z.object({ flag: z.string(), from: CommitShaSchema })),
  version: z.number().int().nonnegative(),
  reportKey: z.string().nullable(),
  totals: ReportTotalsSchema.nullable(),
});
export type CarryForwardResult = z.infer<typeof CarryForwardResult>;

export const CommitRef = z.object({ repo: RepoSlugSchema, sha: CommitShaSchema });
export type CommitRef = z.infer<typeof CommitRef>;

export const FailUploadsInput = z.object({
  uploadIds: z.array(UploadIdSchema).min(1).max(MAX_BATCH_UPLOADS),
  error: UploadError,
});
export type FailUploadsInput = z.infer<typeof FailUploadsInput>;

export const VerifyExperimentInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  batch: z.number().int().nonnegative(),
  /** The persisted (serial) report after the batch; null when the batch merged nothing. */
  serialKey: z.string().nullable(),
  /** The shadow's report, or null when it failed or ran out of time. */
  shadowKey: z.string().nullable(),
  shadowProblem: z.object({ outcome: z.enum(SHADOW_PROBLEMS), message: z.string().max(2000) }).optional(),
  serialMs: z.number().int().nonnegative(),
  shadowMs: z.number().int().nonnegative(),
});
export type VerifyExperimentInput = z.infer<typeof VerifyExperimentInput>;

export const VerifyExperimentResult = z.object({
  outcome: ExperimentOutcomeSchema,
  differingFiles: z.number().int().nonnegative(),
  differingLines: z.number().int().nonnegative(),
  sample: z.array(z.string()).max(20),
});
export type VerifyExperimentResult = z.infer<typeof VerifyExperimentResult>;

const Count = z.number().int().nonnegative();
const CommitId = z.number().int().nonnegative();

export const ReconcileInput = z.object({
  /** Uploads waiting or claimed for longer than this are stuck unless a live run holds them. */
  olderThanMs: z.number().int().nonnegative().max(365 * 86_400_000),
  /** The page's cursor: commits after this id. */
  afterCommitId: CommitId,
  limit: z.number().int().min(1).max(1000),
});
export type ReconcileInput = z.infer<typeof ReconcileInput>;

export const ReconcileResult = z.object({
  /** Commits with stale uploads looked at. */
  examined: Count,
  /** Uploads released from claims of runs that no longer exist. */
  released: Count,
  /** Commit workflows signalled-with-start. */
  nudged: Count,
  /** The next page's cursor, null when this page was the last. */
  next: CommitId.nullable(),
});
export type ReconcileResult = z.infer<typeof ReconcileResult>;

const Ms = z.number().int().nonnegative().max(10 * 365 * 86_400_000);
export const RetentionPolicySchema = z.object({
  rawMs: Ms,
  intermediateGraceMs: Ms,
  scratchGraceMs: Ms,
  reportGraceMs: Ms,
  orphanGraceMs: Ms,
  // Optional: a schedule applied before sources existed still sweeps (keeping referenced sources).
  sourceMs: Ms.optional(),
});

export const GcPrefixSchema = z.enum(GC_PREFIXES);
/** Keys a verbose page answers at most (one page lists at most 1000). */
export const GC_MAX_PAGE = 1000;

/** Where a sweep is: the prefix and the listing cursor in it (the last key of the previous page). */
export const GcPosition = z.object({ prefix: GcPrefixSchema, after: z.string().min(1).max(1024).nullable() });
export type GcPosition = z.infer<typeof GcPosition>;

export const GcPageInput = z.object({
  /** null: the sweep's first page. */
  position: GcPosition.nullable(),
  pageSize: z.number().int().min(1).max(GC_MAX_PAGE),
  dryRun: z.boolean(),
  /** Answer the keys that go (or would go), not only their counts. */
  verbose: z.boolean(),
  policy: RetentionPolicySchema,
  /** The sweep's time (ms since the epoch): one for every page of a sweep. */
  now: z.number().int().nonnegative().max(8.64e15),
});
export type GcPageInput = z.infer<typeof GcPageInput>;

export const GcReasonSchema = z.enum(GC_REASONS);

export const GcPageResult = z.object({
  prefix: GcPrefixSchema,
  listed: Count,
  deleted: Count,
  deletedBytes: Count,
  kept: Count,
  keptBytes: Count,
  byReason: z.partialRecord(GcReasonSchema, Count),
  keys: z.array(z.string()).max(GC_MAX_PAGE),
  /** The next page (in this prefix, or the next prefix's first); null when the sweep is done. */
  next: GcPosition.nullable(),
});
export type GcPageResult = z.infer<typeof GcPageResult>;

/** A re-verification run: the scheduled workflow's id, which names its scheduled time. */
const VerificationRunId = z.string().min(1).max(300);

export const StartVerificationInput = z.object({
  runId: VerificationRunId,
  seed: z.string().min(1).max(300),
  sampleSize: z.number().int().min(0).max(10_000),
  repositories: z.array(RepoSlugSchema).max(1000),
});
export type StartVerificationInput = z.infer<typeof StartVerificationInput>;

export const VerificationSample = z.object({
  seed: z.string(),
  sample: z.array(z.object({ repo: RepoSlugSchema, sha: CommitShaSchema })).max(10_000),
});
export type VerificationSample = z.infer<typeof VerificationSample>;

export const PrepareVerificationInput = CommitRef;
export type PrepareVerificationInput = z.infer<typeof PrepareVerificationInput>;

/** What a commit's re-verification re-runs: its merged uploads, against its saved report. */
export const PreparedVerification = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('ready'),
    reportKey: z.string().min(1),
    reportVersion: z.number().int().nonnegative(),
    uploads: z.array(BatchUpload).min(1).max(MAX_BATCH_UPLOADS),
  }),
  z.object({ status: z.literal('skipped'), reason: z.string().max(2000), reportVersion: z.number().int().nonnegative().nullable(), uploads: z.number().int().nonnegative() }),
]);
export type PreparedVerification = z.infer<typeof PreparedVerification>;

export const ConcludeVerificationInput = z.object({
  runId: VerificationRunId,
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  prepared: PreparedVerification,
  /** Each path's scratch report (null: it merged nothing), and the scratch it may remove. */
  paths: z
    .array(z.object({ path: z.enum(VERIFIED_PATHS), reportKey: z.string().nullable(), target: Target }))
    .max(VERIFIED_PATHS.length),
});
export type ConcludeVerificationInput = z.infer<typeof ConcludeVerificationInput>;

export const VerificationVerdict = z.object({
  outcome: VerificationOutcomeSchema,
  differingFiles: z.number().int().nonnegative(),
  differingLines: z.number().int().nonnegative(),
  files: z.array(z.string()),
  sample: z.array(z.string()),
  reason: z.string().nullable(),
});
export type VerificationVerdict = z.infer<typeof VerificationVerdict>;

export const AnnounceReportInput = CommitRef.extend({ version: z.number().int().nonnegative() });
export type AnnounceReportInput = z.infer<typeof AnnounceReportInput>;

/** What the notifier decides readiness on, read from the database. */
export const CommitReadiness = z.object({
  /** The repository's `afterNBuilds`, null when it sets none. */
  afterNBuilds: z.number().int().positive().nullable(),
  /** Uploads that ended merged or error (cancelled ones will be uploaded again). */
  terminal: Count,
  /** Uploads still waiting or being processed. */
  open: Count,
  /** The saved report's version, 0 when none is saved. */
  version: Count,
  /** Feedback was planned for the commit before (an earlier notifier run settled it). */
  notifiedBefore: z.boolean(),
});
export type CommitReadiness = z.infer<typeof CommitReadiness>;

export const PlanFeedbackInput = CommitRef;
export type PlanFeedbackInput = z.infer<typeof PlanFeedbackInput>;

const DeliveryId = z.string().min(1).max(100);
export const PlannedFeedback = z.object({
  /** The saved report version the feedback was computed from. */
  version: Count,
  /** Deliveries still to send (those sent before, by key, are left out). */
  pending: z.array(DeliveryId).max(100),
  /** Deliveries whose key had already been planned (a redelivered notification). */
  known: Count,
});
export type PlannedFeedback = z.infer<typeof PlannedFeedback>;

export const DeliverFeedbackInput = z.object({ deliveryId: DeliveryId });
export type DeliverFeedbackInput = z.infer<typeof DeliverFeedbackInput>;

export const DeliverFeedbackResult = z.object({ state: z.enum(['sent', 'failed']), statusCode: z.number().int().nullable() });
export type DeliverFeedbackResult = z.infer<typeof DeliverFeedbackResult>;

export const AbandonDeliveryInput = z.object({ deliveryId: DeliveryId, error: z.string().max(2000) });
export type AbandonDeliveryInput = z.infer<typeof AbandonDeliveryInput>;
