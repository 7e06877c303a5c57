import { z } from 'zod';

/**
 * The names that cross layers (database, activities, workflows, the gateway, the CLI), each
 * defined once here. Pure values and zod schemas: workflows import only its types.
 */

// --- identifiers ------------------------------------------------------------------------------

const SEGMENT = '[A-Za-z0-9][A-Za-z0-9._-]{0,99}';
/** One segment of a repository slug: the name, or one level of the owner. */
export const SLUG_SEGMENT = new RegExp(`^${SEGMENT}$`);
/** GitLab nests groups (`group/subgroup/…/repo`); the bounds keep keys and ids short. */
export const MAX_SLUG_SEGMENTS = 20;
export const MAX_SLUG_LENGTH = 255;
/** A repository's owner: one segment, or a GitLab group path of several joined by `/`. */
export const REPO_OWNER = new RegExp(`^${SEGMENT}(?:/${SEGMENT}){0,${MAX_SLUG_SEGMENTS - 2}}$`);
export const RepoSlugSchema = z
  .string()
  .max(MAX_SLUG_LENGTH, `expected OWNER/NAME of at most ${MAX_SLUG_LENGTH} characters`)
  .regex(
    new RegExp(`^${SEGMENT}(?:/${SEGMENT}){1,${MAX_SLUG_SEGMENTS - 1}}$`),
    `expected OWNER/NAME, OWNER one or more segments joined by / (a GitLab group path, at most ${MAX_SLUG_SEGMENTS} segments in all), each segment letters, digits, '.', '_' or '-', starting with a letter or digit`,
  );

/**
 * A slug's owner and name: the name is the last segment, the owner everything before it (so
 * `group/sub/app` is owner `group/sub`, name `app`).
 */
export function splitRepoSlug(slug: string): { owner: string; name: string } {
  const at = slug.lastIndexOf('/');
  return { owner: slug.slice(0, at), name: slug.slice(at + 1) };
}
/**
 * The gateway's top-level path segments. Repository pages live at `/{owner}/{repo}`, so an owner
 * whose first segment is one of these would be shadowed by (or shadow) a route: refused when a
 * repository is created. Case-insensitive, so no owner even looks like a route.
 */
export const RESERVED_OWNERS = [
  'api', 'docs', 'badge', 'login', 'logout', 'assets', 'queue', 'health', 'healthz', 'readyz', 'metrics', 'upload', 'favicon.ico', 'robots.txt',
] as const;

/** Whether the slug's first segment is a reserved top-level route (RESERVED_OWNERS). */
export function hasReservedOwner(slug: string): boolean {
  const first = slug.split('/', 1)[0]!.toLowerCase();
  return (RESERVED_OWNERS as readonly string[]).includes(first);
}

/** A slug a new repository may take: a valid slug whose owner is no top-level route. */
export const NewRepoSlugSchema = RepoSlugSchema.refine((s) => !hasReservedOwner(s), {
  message: `expected an owner that is not a top-level route of the gateway (${RESERVED_OWNERS.join(', ')})`,
});

const hexSha = (digits: string) => new RegExp(`^[${digits}]{7,64}$`);
/** A commit sha as stored and compared: lower-case hex, abbreviated or full (SHA-1 or SHA-256). */
export const COMMIT_SHA = hexSha('0-9a-f');
/** What the gateway accepts in a path, lower-cased before use. */
export const COMMIT_SHA_ANY_CASE = hexSha('0-9a-fA-F');
export const CommitShaSchema = z.string().regex(COMMIT_SHA, 'expected a hex commit sha');
/** An upload id's characters, without anchors (a blob key's part name embeds one). */
export const UPLOAD_ID_CHARS = '[A-Za-z0-9][A-Za-z0-9_-]{0,99}';
export const UploadIdSchema = z.string().regex(new RegExp(`^${UPLOAD_ID_CHARS}$`), 'expected an upload id');

// --- flags and carryforward -------------------------------------------------------------------

/** An upload flag (`unit`, `integration`), as uploads send it and repository settings declare it. */
export const FlagNameSchema = z
  .string()
  .min(1, 'a flag is not empty')
  .max(200, 'a flag is at most 200 characters')
  .regex(/^[A-Za-z0-9_.:/-]+$/, 'flags are letters, digits and _ . : / -');

/**
 * Session ids from here up are carried-forward sessions; a commit's own uploads number theirs
 * below it (the `next_session` column is an int4), so the two never meet.
 */
export const CARRIED_SESSION_BASE = 2 ** 31;
/** Ancestors a commit looks through for a carryforward flag's sessions, unless its settings say. */
export const DEFAULT_CARRYFORWARD_DEPTH = 10;
export const MAX_CARRYFORWARD_DEPTH = 100;

/** The most uploads one batch claims (and so one activity payload carries). */
export const MAX_BATCH_UPLOADS = 1000;

/** Most uploads one processor activity takes (TRIBUTARY_PROCESS_CHUNK): its summaries stay a small payload. */
export const MAX_PROCESS_CHUNK = 64;

/**
 * Where an idempotency key lives: a raw upload's key, or a multipart part's (the request's key +
 * ":" + the part's index). One key per scope and commit; the scopes never meet.
 */
export const IDEMPOTENCY_SCOPES = ['raw', 'multipart'] as const;
export const IdempotencyScopeSchema = z.enum(IDEMPOTENCY_SCOPES);
export type IdempotencyScope = z.infer<typeof IdempotencyScopeSchema>;

// --- modes ------------------------------------------------------------------------------------

/** How a commit's uploads are processed (see README). */
export const UPLOAD_MODES = ['serial', 'parallel', 'experiment'] as const;
export const UploadModeSchema = z.enum(UPLOAD_MODES);
export type UploadMode = z.infer<typeof UploadModeSchema>;

/** The `upload-mode` flag's answer for a repository, recorded in the workflow's history. */
export const ModeDecisionSchema = z.object({
  mode: UploadModeSchema,
  /** Why, in words an operator reads in the workflow's history and details. */
  reason: z.string(),
});
export type ModeDecision = z.infer<typeof ModeDecisionSchema>;

// --- upload states ----------------------------------------------------------------------------

/** An upload's stored state (`uploads.state`); only moves forward, except a dead run's release. */
export const UPLOAD_STATES = ['uploaded', 'processing', 'processed', 'merged', 'error', 'cancelled'] as const;
export const UploadStateSchema = z.enum(UPLOAD_STATES);
export type UploadState = z.infer<typeof UploadStateSchema>;

/** The states an upload is still on its way in: what a cancellation ends. */
export const OPEN_UPLOAD_STATES = ['uploaded', 'processing', 'processed'] as const satisfies readonly UploadState[];

/**
 * An upload's state as the API shows it: `processed` is an internal step, so to callers the
 * upload is still processing until merged.
 */
export const PUBLIC_UPLOAD_STATES = ['uploaded', 'processing', 'merged', 'error', 'cancelled'] as const;
export const PublicUploadStateSchema = z.enum(PUBLIC_UPLOAD_STATES);
export type PublicUploadState = z.infer<typeof PublicUploadStateSchema>;

/** Public upload states after which nothing changes any more. */
export const TERMINAL_UPLOAD_STATES = ['merged', 'error', 'cancelled'] as const satisfies readonly PublicUploadState[];

export function publicUploadState(state: UploadState): PublicUploadState {
  return state === 'processed' ? 'processing' : state;
}

export function isTerminalUploadState(state: string): boolean {
  return isOneOf(TERMINAL_UPLOAD_STATES, state);
}

// --- commit states ----------------------------------------------------------------------------

/** A commit's state as the API derives it from its uploads and workflow (nothing stores it). */
export const PUBLIC_COMMIT_STATES = ['pending', 'processing', 'complete', 'cancelled'] as const;
export const PublicCommitStateSchema = z.enum(PUBLIC_COMMIT_STATES);
export type PublicCommitState = z.infer<typeof PublicCommitStateSchema>;

export const TERMINAL_COMMIT_STATES = ['complete', 'cancelled'] as const satisfies readonly PublicCommitState[];

export function isTerminalCommitState(state: string): boolean {
  return isOneOf(TERMINAL_COMMIT_STATES, state);
}

// --- outcomes ---------------------------------------------------------------------------------

/** How an experiment batch compared (stored per batch; the `ExperimentOutcome` search attribute). */
export const EXPERIMENT_OUTCOMES = ['match', 'mismatch', 'shadow_failed', 'shadow_timeout'] as const;
export const ExperimentOutcomeSchema = z.enum(EXPERIMENT_OUTCOMES);
export type ExperimentOutcome = z.infer<typeof ExperimentOutcomeSchema>;

/** The experiment outcomes that mean the shadow gave no report to compare. */
export const SHADOW_PROBLEMS = ['shadow_failed', 'shadow_timeout'] as const satisfies readonly ExperimentOutcome[];
export type ShadowProblem = (typeof SHADOW_PROBLEMS)[number];

/**
 * How a scheduled re-verification of a completed commit ended: both paths re-ran its raw uploads
 * and gave the persisted report (match), one did not (mismatch), or its raw uploads are gone
 * (skipped: retention deleted them, nothing to re-run).
 */
export const VERIFICATION_OUTCOMES = ['match', 'mismatch', 'skipped'] as const;
export const VerificationOutcomeSchema = z.enum(VERIFICATION_OUTCOMES);
export type VerificationOutcome = z.infer<typeof VerificationOutcomeSchema>;

/** The two processing paths a re-verification re-runs (the experiment's pair, each on its own). */
export const VERIFIED_PATHS = ['serial', 'parallel'] as const;
export type VerifiedPath = (typeof VERIFIED_PATHS)[number];

/** What a commit workflow writes to its `Outcome` search attribute. */
export const WORKFLOW_OUTCOMES = ['success', 'partial', 'failed', 'cancelled'] as const;
export type WorkflowOutcome = (typeof WORKFLOW_OUTCOMES)[number];

function isOneOf(list: readonly string[], value: string): boolean {
  return list.includes(value);
}
