/**
 * The environment variables of every Tributary process and their checks (zod): what each may
 * hold, its default, and the rules between them. `loadConfig` (./config) turns the parsed
 * variables into the typed `Config`.
 */
import { z } from 'zod';
import { durationMs, parseDuration } from './duration';
import { parseRolloutSpec } from './flags/rollout';
import { parseLimitsEnvSchema } from './parse-limits-env';
import { TEMPORAL_ADDRESS_PATTERN } from './temporal/profile';
import { MAX_BATCH_UPLOADS, MAX_PROCESS_CHUNK, RepoSlugSchema, UPLOAD_MODES } from './vocabulary';

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
    // 1: one processor activity per upload. More (32 by default): a large batch's uploads go to processors in
    // chunks, each chunk's uploads parsed one after the other in one activity.
    TRIBUTARY_PROCESS_CHUNK: z.coerce.number().int().min(1).max(MAX_PROCESS_CHUNK).default(32),
    TRIBUTARY_DEFAULT_BRANCH: z.string().min(1).max(1000).default('main'),
    TRIBUTARY_MAX_BATCH: z.coerce.number().int().min(1).max(MAX_BATCH_UPLOADS).default(500),
    TRIBUTARY_SHADOW_TIMEOUT: durationMs.default(600_000),
    // Together they bound a worker's parsing memory: slots x budget (8 x 96 MiB by default).
    TRIBUTARY_WORKER_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(1000).default(8),
    // The quick steps and small finishers: their own slots, so they never queue behind parsing.
    TRIBUTARY_WORKER_LOCAL_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(1000).default(16),
    ...parseLimitsEnvSchema().shape,
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

/** The environment variables the configuration reads (docs and the compose-file check use it). */
export const CONFIG_ENV_VARS = Object.keys(ConfigSchema.shape) as (keyof typeof ConfigSchema.shape)[];
