import path from 'node:path';
import { ConfigError } from './config-error';
import { ConfigSchema, type ReverifyTiming } from './config-schema';
import type { Rollout } from './flags/rollout';
import { parseLimitsOf, type ConfiguredParseLimits } from './parse-limits-env';
import { resolveTemporalConnection, type TemporalConnectionSettings } from './temporal/profile';
import type { UploadMode } from './vocabulary';

// Defined apart so that `tributary parse` can read its limits without this module's dependencies.
export { ConfigError } from './config-error';
export { loadParseLimits, type ConfiguredParseLimits } from './parse-limits-env';


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
