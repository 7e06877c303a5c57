import path from 'node:path';
import { z } from 'zod';
import { durationMs } from './duration';

export const UPLOAD_MODES = ['serial', 'parallel', 'experiment'] as const;
export type UploadMode = (typeof UPLOAD_MODES)[number];

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(1).max(65535);

/**
 * Every setting of every Tributary process, from environment variables. Unset means the embedded
 * default (dev server, data folder on disk); each production part is switched on by its variable.
 */
export const ConfigSchema = z
  .object({
    TRIBUTARY_DATA_DIR: z.string().min(1).default('.data'),
    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[^\s:]+:\d+$/, 'expected host:port, e.g. temporal.example.com:7233')
      .optional(),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('tributary'),
    TEMPORAL_TLS: booleanFromEnv.default(false),
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    TEMPORAL_DEV_PORT: port.default(7233),
    TEMPORAL_UI_PORT: port.default(8233),
    TEMPORAL_CLI_PATH: z.string().min(1).optional(),
    TRIBUTARY_DEFAULT_MODE: z.enum(UPLOAD_MODES).default('parallel'),
    TRIBUTARY_DEBOUNCE: durationMs.default(5_000),
    TRIBUTARY_MAX_DEBOUNCE: durationMs.default(60_000),
    TRIBUTARY_IDLE_TIMEOUT: durationMs.default(3_600_000),
    TRIBUTARY_MAX_PARALLEL: z.coerce.number().int().min(1).max(1000).default(16),
    LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
  })
  .refine((c) => c.TRIBUTARY_MAX_DEBOUNCE >= c.TRIBUTARY_DEBOUNCE, {
    message: 'TRIBUTARY_MAX_DEBOUNCE must be at least TRIBUTARY_DEBOUNCE',
    path: ['TRIBUTARY_MAX_DEBOUNCE'],
  });

export interface Config {
  dataDir: string;
  blobDir: string;
  temporal: {
    /** An existing server; undefined means the embedded dev server. */
    address?: string;
    namespace: string;
    taskQueue: string;
    tls: boolean;
    apiKey?: string;
    devPort: number;
    uiPort: number;
    cliPath?: string;
  };
  pipeline: {
    defaultMode: UploadMode;
    debounceMs: number;
    maxDebounceMs: number;
    idleTimeoutMs: number;
    maxParallel: number;
  };
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
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
  const dataDir = path.resolve(cwd, c.TRIBUTARY_DATA_DIR);
  return {
    dataDir,
    blobDir: path.join(dataDir, 'blobs'),
    temporal: {
      address: c.TEMPORAL_ADDRESS,
      namespace: c.TEMPORAL_NAMESPACE,
      taskQueue: c.TEMPORAL_TASK_QUEUE,
      tls: c.TEMPORAL_TLS,
      apiKey: c.TEMPORAL_API_KEY,
      devPort: c.TEMPORAL_DEV_PORT,
      uiPort: c.TEMPORAL_UI_PORT,
      cliPath: c.TEMPORAL_CLI_PATH,
    },
    pipeline: {
      defaultMode: c.TRIBUTARY_DEFAULT_MODE,
      debounceMs: c.TRIBUTARY_DEBOUNCE,
      maxDebounceMs: c.TRIBUTARY_MAX_DEBOUNCE,
      idleTimeoutMs: c.TRIBUTARY_IDLE_TIMEOUT,
      maxParallel: c.TRIBUTARY_MAX_PARALLEL,
    },
    logLevel: c.LOG_LEVEL,
  };
}

/** The environment variables the configuration reads (docs and the compose-file check use it). */
export const CONFIG_ENV_VARS = Object.keys(ConfigSchema.shape) as (keyof typeof ConfigSchema.shape)[];
