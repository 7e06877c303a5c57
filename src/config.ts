import path from 'node:path';
import { z } from 'zod';
import type { ParseLimits } from './coverage/limits';
import { durationMs, parseDuration } from './duration';
import { parseRolloutSpec, type Rollout } from './flags/rollout';
import { resolveTemporalConnection, TEMPORAL_ADDRESS_PATTERN, type TemporalConnectionSettings } from './temporal/profile';

import { MAX_BATCH_UPLOADS, MAX_PROCESS_CHUNK, RepoSlugSchema, UPLOAD_MODES, type UploadMode } from './vocabulary';


const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(1).max(65535);

/** A duration that must not be zero: a timeout of 0 would mean none at all. */
const positiveDuration = durationMs.refine((ms) => ms > 0, 'expected a duration above zero (examples: 500ms, 10s, 5m)');

/** When re-verification runs: every so often (a duration of at least a minute), or a cron expression (UTC). */
export type ReverifyTiming = { kind: 'every'; ms: number } | { kind: 'cron'; expression: string };

const CRON_FIELD = /^[0-9*,/-]+$/;
const ReverifyTimingSchema = z.string().transform((text, ctx): ReverifyTiming => {
  const ms = parseDuration(text);
  if (ms !== undefined) {
    if (ms >= 60_000) return { kind: 'every', ms };
    ctx.addIssue({ code: 'custom', message: 'expected at least 1m between re-verification runs' });
    return z.NEVER;
  }
  const fields = text.trim().split(/\s+/);
  if (fields.length === 5 && fields.every((f) => CRON_FIELD.test(f))) return { kind: 'cron', expression: fields.join(' ') };
  ctx.addIssue({ code: 'custom', message: 'expected a duration (6h, 1d) or a five-field cron expression in UTC (17 3 * * *)' });
  return z.NEVER;
});

const RepoListSchema = z.string().transform((text, ctx) => {
  const slugs = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = slugs.filter((s) => !RepoSlugSchema.safeParse(s).success);
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `expected OWNER/NAME repositories separated by commas, not ${bad.map((b) => JSON.stringify(b)).join(', ')}` });
    return z.NEVER;
  }
  return [...new Set(slugs)].sort();
});

/**
 * The limits of parsing one upload an operator sets; the worker's processors and `tributary parse`
 * read the same variables, so the CLI refuses what the server would.
 */
const ParseLimitsEnvSchema = z.object({
  TRIBUTARY_PARSE_MEMORY_BYTES: z.coerce.number().int().min(1024 * 1024).max(Number.MAX_SAFE_INTEGER).default(96 * 1024 * 1024),
  TRIBUTARY_MAX_DECOMPRESSED_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1024 * 1024 * 1024),
  TRIBUTARY_MAX_COMPRESSION_RATIO: z.coerce.number().min(1).max(100_000).default(100),
});
type ParseLimitsEnv = z.infer<typeof ParseLimitsEnvSchema>;
export type ConfiguredParseLimits = Pick<ParseLimits, 'maxMemoryBytes' | 'maxDecompressedBytes' | 'maxCompressionRatio'>;

function parseLimitsOf(c: ParseLimitsEnv): ConfiguredParseLimits {
  return {
    maxMemoryBytes: c.TRIBUTARY_PARSE_MEMORY_BYTES,
    maxDecompressedBytes: c.TRIBUTARY_MAX_DECOMPRESSED_BYTES,
    maxCompressionRatio: c.TRIBUTARY_MAX_COMPRESSION_RATIO,
  };
}

/** Only the parse limits of an environment (the CLI's `parse` needs no other setting); throws ConfigError. */
export function loadParseLimits(env: Readonly<Record<string, string | undefined>> = process.env): ConfiguredParseLimits {
  const present = Object.fromEntries(
    Object.keys(ParseLimitsEnvSchema.shape)
      .map((k) => [k, env[k]] as const)
      .filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = ParseLimitsEnvSchema.safeParse(present);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return parseLimitsOf(parsed.data);
}

/**
 * Every setting of every Tributary process, from environment variables. Unset means the embedded
 * default (dev server, data folder on disk); each production part is switched on by its variable.
 */
export const ConfigSchema = z
  .object({
    TRIBUTARY_DATA_DIR: z.string().min(1).default('.data'),
    TEMPORAL_ADDRESS: z.string().regex(TEMPORAL_ADDRESS_PATTERN, 'expected host:port, e.g. temporal.example.com:7233').optional(),
    // Unset: the profile's, else `default` (resolved with the profile below).
    TEMPORAL_NAMESPACE: z.string().min(1).optional(),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('tributary'),
    TEMPORAL_TLS: booleanFromEnv.default(false),
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    // A profile of a TOML client-config file, as the Temporal CLI and SDKs read it.
    TEMPORAL_PROFILE: z.string().min(1).optional(),
    TEMPORAL_CONFIG_FILE: z.string().min(1).optional(),
    // mTLS and a private CA: a file path or the PEM itself (not both).
    TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_CLIENT_CERT_DATA: z.string().min(1).optional(),
    TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_CLIENT_KEY_DATA: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_CA_CERT_DATA: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    TEMPORAL_DEV_PORT: port.default(7233),
    TEMPORAL_UI_PORT: port.default(8233),
    // Unset: the embedded dev server's UI when no server address is configured, else no link.
    TRIBUTARY_TEMPORAL_UI_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s):// URL' }).optional(),
    TEMPORAL_CLI_PATH: z.string().min(1).optional(),
    TRIBUTARY_DEFAULT_MODE: z.enum(UPLOAD_MODES).default('parallel'),
    // 0: an idle commit's first upload is claimed at once; later ones batch while a batch runs.
    TRIBUTARY_DEBOUNCE: durationMs.default(0),
    TRIBUTARY_MAX_DEBOUNCE: durationMs.default(60_000),
    TRIBUTARY_IDLE_TIMEOUT: durationMs.default(3_600_000),
    TRIBUTARY_MAX_PARALLEL: z.coerce.number().int().min(1).max(1000).default(16),
    // 1: one processor activity per upload. More: a large batch's uploads go to processors in
    // chunks, each chunk's uploads parsed one after the other in one activity.
    TRIBUTARY_PROCESS_CHUNK: z.coerce.number().int().min(1).max(MAX_PROCESS_CHUNK).default(1),
    TRIBUTARY_DEFAULT_BRANCH: z.string().min(1).max(1000).default('main'),
    TRIBUTARY_MAX_BATCH: z.coerce.number().int().min(1).max(MAX_BATCH_UPLOADS).default(500),
    TRIBUTARY_SHADOW_TIMEOUT: durationMs.default(600_000),
    // Together they bound a worker's parsing memory: slots x budget (8 x 96 MiB by default).
    TRIBUTARY_WORKER_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(1000).default(8),
    // The quick steps and small finishers: their own slots, so they never queue behind parsing.
    TRIBUTARY_WORKER_LOCAL_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(1000).default(16),
    ...ParseLimitsEnvSchema.shape,
    TRIBUTARY_ROLLOUT: z
      .string()
      .transform((spec, ctx) => {
        try {
          return parseRolloutSpec(spec);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'expected MODE=PROPORTION pairs, e.g. experiment=0.1,serial=0.05 (proportions 0..1)' });
          return z.NEVER;
        }
      })
      .default({}),
    TRIBUTARY_ROLLOUT_SALT: z.string().min(1).default('tributary'),
    TRIBUTARY_REVERIFY_SCHEDULE: ReverifyTimingSchema.default({ kind: 'cron', expression: '17 3 * * *' }),
    TRIBUTARY_REVERIFY_SAMPLE: z.coerce.number().int().min(0).max(10_000).default(20),
    TRIBUTARY_REVERIFY_REPOS: RepoListSchema.default([]),
    TRIBUTARY_REVERIFY_PAUSED: booleanFromEnv.default(false),
    LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// URL')
      .optional(),
    TRIBUTARY_BLOB_STORE: z.enum(['fs', 's3']).default('fs'),
    S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'expected an http(s):// URL' }).optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_BUCKET: z.string().min(1).optional(),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    S3_FORCE_PATH_STYLE: booleanFromEnv.default(true),
    TRIBUTARY_API_HOST: z.string().min(1).default('127.0.0.1'),
    TRIBUTARY_API_PORT: port.default(8080),
    // At least 32 characters: an admin token is a password for everything.
    TRIBUTARY_ADMIN_TOKEN: z.string().min(32, 'expected at least 32 characters').optional(),
    TRIBUTARY_MAX_UPLOAD_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(256 * 1024 * 1024),
    TRIBUTARY_MAX_DIFF_BYTES: z.coerce.number().int().min(1).max(1024 * 1024 * 1024).default(16 * 1024 * 1024),
    TRIBUTARY_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(600),
    TRIBUTARY_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s):// URL' }).optional(),
    // Signs the upload locations given to Codecov uploaders; unset, derived from the admin token.
    TRIBUTARY_UPLOAD_URL_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
    TRIBUTARY_UPLOAD_URL_TTL: positiveDuration.default(15 * 60_000),
    // Signs the pages' session cookies; unset, generated once into <data>/session-secret.
    TRIBUTARY_SESSION_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
    TRIBUTARY_SESSION_TTL: positiveDuration.default(7 * 86_400_000),
    // The source text one upload may carry (`tributary upload --sources`), as sent (JSON).
    TRIBUTARY_MAX_SOURCES_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(32 * 1024 * 1024),
    // 256 MiB (the default upload limit) in 10 minutes needs about 450 KB/s: slower links need more.
    TRIBUTARY_API_REQUEST_TIMEOUT: positiveDuration.default(600_000),
    TRIBUTARY_API_BODY_IDLE_TIMEOUT: positiveDuration.default(30_000),
    TRIBUTARY_API_HEADERS_TIMEOUT: positiveDuration.default(30_000),
    TRIBUTARY_DEPENDENCY_TIMEOUT: positiveDuration.default(5_000),
    // 0: wait for ever (a supervisor that restarts the process would only do the same, louder).
    TRIBUTARY_STARTUP_TIMEOUT: durationMs.default(300_000),
    // Longer than the longest debounce and a claim's round trip, so a healthy run is never nudged.
    TRIBUTARY_RECONCILE_AFTER: positiveDuration.default(120_000),
    TRIBUTARY_RECONCILE_EVERY: positiveDuration.default(60_000),
    TRIBUTARY_GC_EVERY: positiveDuration.default(3_600_000),
    TRIBUTARY_RAW_RETENTION: positiveDuration.default(30 * 86_400_000),
    // Long enough for a retried finisher (or an experiment's shadow) to find what it reads.
    TRIBUTARY_INTERMEDIATE_GRACE: durationMs.default(3_600_000),
    TRIBUTARY_SCRATCH_GRACE: durationMs.default(3_600_000),
    TRIBUTARY_REPORT_GRACE: durationMs.default(3_600_000),
    // Blobs no row refers to: a registration or finisher may still be writing them.
    TRIBUTARY_ORPHAN_GRACE: positiveDuration.default(86_400_000),
    // A commit whose uploads stopped arriving this long ago counts as settled (notifies).
    TRIBUTARY_SETTLE_AFTER: positiveDuration.default(300_000),
    // How long a settled commit's notifier stays open for late uploads before it closes.
    TRIBUTARY_NOTIFY_IDLE_TIMEOUT: positiveDuration.default(3_600_000),
    TRIBUTARY_GITHUB_API_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s):// URL' }).default('https://api.github.com'),
    TRIBUTARY_SOURCE_RETENTION: positiveDuration.default(90 * 86_400_000),
  })
  // Node refuses a header timeout above the request timeout; say so in our own words.
  .refine((c) => c.TRIBUTARY_API_HEADERS_TIMEOUT <= c.TRIBUTARY_API_REQUEST_TIMEOUT, {
    message: 'TRIBUTARY_API_HEADERS_TIMEOUT must not exceed TRIBUTARY_API_REQUEST_TIMEOUT',
    path: ['TRIBUTARY_API_HEADERS_TIMEOUT'],
  })
  .refine((c) => c.TRIBUTARY_MAX_DEBOUNCE >= c.TRIBUTARY_DEBOUNCE, {
    message: 'TRIBUTARY_MAX_DEBOUNCE must be at least TRIBUTARY_DEBOUNCE',
    path: ['TRIBUTARY_MAX_DEBOUNCE'],
  })
  // An experiment's shadow reads the version its batch started from while the serial path
  // supersedes it; the report grace must outlast that wait.
  .refine((c) => c.TRIBUTARY_REPORT_GRACE >= c.TRIBUTARY_SHADOW_TIMEOUT, {
    message: 'TRIBUTARY_REPORT_GRACE must be at least TRIBUTARY_SHADOW_TIMEOUT',
    path: ['TRIBUTARY_REPORT_GRACE'],
  })
  .refine((c) => c.TRIBUTARY_ORPHAN_GRACE >= c.TRIBUTARY_API_REQUEST_TIMEOUT, {
    message: 'TRIBUTARY_ORPHAN_GRACE must be at least TRIBUTARY_API_REQUEST_TIMEOUT (an upload may still be arriving)',
    path: ['TRIBUTARY_ORPHAN_GRACE'],
  })
  .refine((c) => c.TRIBUTARY_BLOB_STORE !== 's3' || c.S3_BUCKET !== undefined, {
    message: 'S3_BUCKET is required when TRIBUTARY_BLOB_STORE is s3',
    path: ['S3_BUCKET'],
  })
  .refine((c) => c.TEMPORAL_TLS_CLIENT_CERT_PATH === undefined || c.TEMPORAL_TLS_CLIENT_CERT_DATA === undefined, {
    message: 'set TEMPORAL_TLS_CLIENT_CERT_PATH or TEMPORAL_TLS_CLIENT_CERT_DATA, not both',
    path: ['TEMPORAL_TLS_CLIENT_CERT_DATA'],
  })
  .refine((c) => c.TEMPORAL_TLS_CLIENT_KEY_PATH === undefined || c.TEMPORAL_TLS_CLIENT_KEY_DATA === undefined, {
    message: 'set TEMPORAL_TLS_CLIENT_KEY_PATH or TEMPORAL_TLS_CLIENT_KEY_DATA, not both',
    path: ['TEMPORAL_TLS_CLIENT_KEY_DATA'],
  })
  .refine((c) => c.TEMPORAL_TLS_SERVER_CA_CERT_PATH === undefined || c.TEMPORAL_TLS_SERVER_CA_CERT_DATA === undefined, {
    message: 'set TEMPORAL_TLS_SERVER_CA_CERT_PATH or TEMPORAL_TLS_SERVER_CA_CERT_DATA, not both',
    path: ['TEMPORAL_TLS_SERVER_CA_CERT_DATA'],
  })
  // A key id without its secret (or the reverse) is a half-done deployment, not a request for
  // the SDK's default credential chain.
  .refine((c) => (c.S3_ACCESS_KEY_ID === undefined) === (c.S3_SECRET_ACCESS_KEY === undefined), {
    message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together',
    path: ['S3_SECRET_ACCESS_KEY'],
  });

export interface Config {
  dataDir: string;
  blobDir: string;
  /** Connection settings: our variables over the profile (`src/temporal/profile.ts`). */
  temporal: TemporalConnectionSettings & {
    taskQueue: string;
    devPort: number;
    uiPort: number;
    cliPath?: string;
    /** Base URL of the Temporal Web UI the pages link workflows to; undefined: no link. */
    uiUrl?: string;
  };
  pipeline: {
    defaultMode: UploadMode;
    debounceMs: number;
    maxDebounceMs: number;
    idleTimeoutMs: number;
    maxParallel: number;
    /** Uploads one processor activity takes at most in parallel mode (1: one activity per upload). */
    processChunk: number;
    maxBatch: number;
    shadowTimeoutMs: number;
    /** The default branch of repositories that do not name theirs (commit priority). */
    defaultBranch: string;
    /** Activities one worker runs at once (`maxConcurrentActivityTaskExecutions`). */
    activitySlots: number;
    /** Local activities one worker runs at once (`maxConcurrentLocalActivityExecutions`). */
    localActivitySlots: number;
  };
  /** Limits of every upload's parse in the processor (the rest are ParseLimits' defaults). */
  parseLimits: ConfiguredParseLimits;
  flags: {
    rollout: Rollout;
    salt: string;
  };
  /** The `tributary-reverify` schedule, applied by the main command and `tributary schedule apply`. */
  reverify: {
    timing: ReverifyTiming;
    sampleSize: number;
    /** Empty: every repository. */
    repositories: string[];
    paused: boolean;
  };
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  database: {
    /** A PostgreSQL server; undefined means PGlite in `dir`. */
    url?: string;
    /** PGlite's folder: `<dataDir>/db`. */
    dir: string;
  };
  blobs: {
    kind: 'fs' | 's3';
    /** The folder of the fs store (same as `blobDir`). */
    dir: string;
    /** Present when kind is 's3'. */
    s3?: S3Config;
  };
  api: ApiConfig;
  /** How long a call to the database or Temporal may take before the gateway answers 503. */
  dependencyTimeoutMs: number;
  /** How long a process waits at start for Temporal and the database; 0 is for ever. */
  startupTimeoutMs: number;
  maintenance: MaintenanceConfig;
  feedback: FeedbackConfig;
}

/** Readiness and feedback (commit statuses, PR comments, webhooks) of settled commits. */
export interface FeedbackConfig {
  /** Quiet period after which a commit without an explicit "done" or enough uploads settles. */
  settleAfterMs: number;
  /** A notifier with nothing new for this long closes (a later report starts it again). */
  notifyIdleTimeoutMs: number;
  /** GitHub's REST API (GitHub Enterprise: https://HOST/api/v3), no trailing slash. */
  githubApiUrl: string;
  /** Base of the links in statuses and comments; undefined: the gateway's own address. */
  publicUrl?: string;
}

/** The schedules the workers keep (src/temporal/schedules.ts) and what they act on. */
export interface MaintenanceConfig {
  /** Open uploads older than this with no live run holding them are released and re-nudged. */
  reconcileAfterMs: number;
  reconcileEveryMs: number;
  gcEveryMs: number;
  retention: RetentionPolicy;
}

/** How long each kind of blob outlives what made it garbage (src/storage/gc-plan.ts). */
export interface RetentionPolicy {
  /** Raw uploads (and their file lists) of finished uploads, from their registration. */
  rawMs: number;
  /** Intermediate reports, once their upload is merged (or failed, cancelled). */
  intermediateGraceMs: number;
  /** Experiment scratch, once the batch's verification is recorded. */
  scratchGraceMs: number;
  /** Superseded report versions, once a later version is saved. */
  reportGraceMs: number;
  /** Blobs no row refers to, from their last write. */
  orphanGraceMs: number;
  /**
   * Source text, from the last upload that sent it (any commit: blobs are shared by content).
   * Absent only in a schedule applied before sources existed: referenced sources are then kept.
   */
  sourceMs?: number;
}

export interface ApiConfig {
  host: string;
  port: number;
  /** undefined: the main command generates one into `<dataDir>/admin-token`. */
  adminToken?: string;
  maxUploadBytes: number;
  /** Largest commit diff, as sent and once gunzipped; larger ones are refused with 413. */
  maxDiffBytes: number;
  /** Requests per minute per token (per address for requests without one). */
  rateLimitPerMinute: number;
  /** Base of the URLs in responses; undefined means the request's own scheme and host. */
  publicUrl?: string;
  /** HMAC key of the Codecov upload locations; undefined: derived from the admin token. */
  uploadUrlSecret?: string;
  /** How long an upload location answered to a Codecov uploader stays valid. */
  uploadUrlTtlMs: number;
  /** HMAC key of the pages' session cookies; undefined: generated into `<dataDir>/session-secret`. */
  sessionSecret?: string;
  /** How long a page session lasts after logging in. */
  sessionTtlMs: number;
  /** Largest source-text request of one upload (`tributary upload --sources`). */
  maxSourcesBytes: number;
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** A request body that sends nothing for this long is cut with 408. */
  bodyIdleTimeoutMs: number;
  /** The request headers must arrive within this. */
  headersTimeoutMs: number;
}

export interface S3Config {
  /** A custom endpoint (MinIO and other S3-compatible stores); undefined means AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  forcePathStyle: boolean;
  /** Static credentials; undefined means the SDK's default chain (environment, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the configuration from an environment (process.env by default); throws ConfigError. */
export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Config {
  // An empty variable means "unset", as shells and compose files often write it.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`));
  }
  const c = parsed.data;
  const connection = resolveTemporalConnection(c, present, cwd);
  if (!connection.ok) throw new ConfigError(connection.issues);
  const dataDir = path.resolve(cwd, c.TRIBUTARY_DATA_DIR);
  const blobDir = path.join(dataDir, 'blobs');
  return {
    dataDir,
    blobDir,
    temporal: {
      ...connection.settings,
      taskQueue: c.TEMPORAL_TASK_QUEUE,
      devPort: c.TEMPORAL_DEV_PORT,
      uiPort: c.TEMPORAL_UI_PORT,
      cliPath: c.TEMPORAL_CLI_PATH,
      uiUrl: c.TRIBUTARY_TEMPORAL_UI_URL?.replace(/\/+$/, '') ?? (connection.settings.address === undefined ? `http://127.0.0.1:${c.TEMPORAL_UI_PORT}` : undefined),
    },
    pipeline: {
      defaultMode: c.TRIBUTARY_DEFAULT_MODE,
      debounceMs: c.TRIBUTARY_DEBOUNCE,
      maxDebounceMs: c.TRIBUTARY_MAX_DEBOUNCE,
      idleTimeoutMs: c.TRIBUTARY_IDLE_TIMEOUT,
      maxParallel: c.TRIBUTARY_MAX_PARALLEL,
      processChunk: c.TRIBUTARY_PROCESS_CHUNK,
      maxBatch: c.TRIBUTARY_MAX_BATCH,
      shadowTimeoutMs: c.TRIBUTARY_SHADOW_TIMEOUT,
      defaultBranch: c.TRIBUTARY_DEFAULT_BRANCH,
      activitySlots: c.TRIBUTARY_WORKER_ACTIVITY_SLOTS,
      localActivitySlots: c.TRIBUTARY_WORKER_LOCAL_ACTIVITY_SLOTS,
    },
    parseLimits: parseLimitsOf(c),
    flags: {
      rollout: c.TRIBUTARY_ROLLOUT,
      salt: c.TRIBUTARY_ROLLOUT_SALT,
    },
    reverify: {
      timing: c.TRIBUTARY_REVERIFY_SCHEDULE,
      sampleSize: c.TRIBUTARY_REVERIFY_SAMPLE,
      repositories: c.TRIBUTARY_REVERIFY_REPOS,
      paused: c.TRIBUTARY_REVERIFY_PAUSED,
    },
    logLevel: c.LOG_LEVEL,
    database: { url: c.DATABASE_URL, dir: path.join(dataDir, 'db') },
    blobs: {
      kind: c.TRIBUTARY_BLOB_STORE,
      dir: blobDir,
      s3:
        c.TRIBUTARY_BLOB_STORE === 's3' && c.S3_BUCKET !== undefined
          ? {
              endpoint: c.S3_ENDPOINT,
              region: c.S3_REGION,
              bucket: c.S3_BUCKET,
              forcePathStyle: c.S3_FORCE_PATH_STYLE,
              credentials:
                c.S3_ACCESS_KEY_ID !== undefined && c.S3_SECRET_ACCESS_KEY !== undefined
                  ? { accessKeyId: c.S3_ACCESS_KEY_ID, secretAccessKey: c.S3_SECRET_ACCESS_KEY }
                  : undefined,
            }
          : undefined,
    },
    api: {
      host: c.TRIBUTARY_API_HOST,
      port: c.TRIBUTARY_API_PORT,
      adminToken: c.TRIBUTARY_ADMIN_TOKEN,
      maxUploadBytes: c.TRIBUTARY_MAX_UPLOAD_BYTES,
      maxDiffBytes: c.TRIBUTARY_MAX_DIFF_BYTES,
      rateLimitPerMinute: c.TRIBUTARY_RATE_LIMIT,
      publicUrl: c.TRIBUTARY_PUBLIC_URL?.replace(/\/+$/, ''),
      uploadUrlSecret: c.TRIBUTARY_UPLOAD_URL_SECRET,
      uploadUrlTtlMs: c.TRIBUTARY_UPLOAD_URL_TTL,
      sessionSecret: c.TRIBUTARY_SESSION_SECRET,
      sessionTtlMs: c.TRIBUTARY_SESSION_TTL,
      maxSourcesBytes: c.TRIBUTARY_MAX_SOURCES_BYTES,
      requestTimeoutMs: c.TRIBUTARY_API_REQUEST_TIMEOUT,
      bodyIdleTimeoutMs: c.TRIBUTARY_API_BODY_IDLE_TIMEOUT,
      headersTimeoutMs: c.TRIBUTARY_API_HEADERS_TIMEOUT,
    },
    dependencyTimeoutMs: c.TRIBUTARY_DEPENDENCY_TIMEOUT,
    startupTimeoutMs: c.TRIBUTARY_STARTUP_TIMEOUT,
    maintenance: {
      reconcileAfterMs: c.TRIBUTARY_RECONCILE_AFTER,
      reconcileEveryMs: c.TRIBUTARY_RECONCILE_EVERY,
      gcEveryMs: c.TRIBUTARY_GC_EVERY,
      retention: {
        rawMs: c.TRIBUTARY_RAW_RETENTION,
        intermediateGraceMs: c.TRIBUTARY_INTERMEDIATE_GRACE,
        scratchGraceMs: c.TRIBUTARY_SCRATCH_GRACE,
        reportGraceMs: c.TRIBUTARY_REPORT_GRACE,
        orphanGraceMs: c.TRIBUTARY_ORPHAN_GRACE,
        sourceMs: c.TRIBUTARY_SOURCE_RETENTION,
      },
    },
    feedback: {
      settleAfterMs: c.TRIBUTARY_SETTLE_AFTER,
      notifyIdleTimeoutMs: c.TRIBUTARY_NOTIFY_IDLE_TIMEOUT,
      githubApiUrl: c.TRIBUTARY_GITHUB_API_URL.replace(/\/+$/, ''),
      publicUrl: c.TRIBUTARY_PUBLIC_URL?.replace(/\/+$/, ''),
    },
  };
}

/** The environment variables the configuration reads (docs and the compose-file check use it). */
export const CONFIG_ENV_VARS = Object.keys(ConfigSchema.shape) as (keyof typeof ConfigSchema.shape)[];
