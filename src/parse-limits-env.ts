import type { z } from 'zod';
import type { ParseLimits } from './coverage/limits';
import { ConfigError } from './config-error';

/**
 * The limits of parsing one upload an operator sets; the worker's processors and `tributary parse`
 * read the same variables, so the CLI refuses what the server would. Here, apart from the rest of
 * the configuration, so that `tributary parse` loads neither zod nor the configuration's other
 * dependencies when none of these variables is set (the common case; zod costs about 50 ms of
 * start-up).
 */
export const PARSE_LIMIT_DEFAULTS = {
  TRIBUTARY_PARSE_MEMORY_BYTES: 96 * 1024 * 1024,
  TRIBUTARY_MAX_DECOMPRESSED_BYTES: 1024 * 1024 * 1024,
  TRIBUTARY_MAX_COMPRESSION_RATIO: 100,
} as const;

type ParseLimitsEnv = { [K in keyof typeof PARSE_LIMIT_DEFAULTS]: number };
export type ConfiguredParseLimits = Pick<ParseLimits, 'maxMemoryBytes' | 'maxDecompressedBytes' | 'maxCompressionRatio'>;

function buildSchema() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- zod only once a variable is set (see above)
  const { z: zod } = require('zod') as typeof import('zod');
  return zod.object({
    TRIBUTARY_PARSE_MEMORY_BYTES: zod.coerce
      .number()
      .int()
      .min(1024 * 1024)
      .max(Number.MAX_SAFE_INTEGER)
      .default(PARSE_LIMIT_DEFAULTS.TRIBUTARY_PARSE_MEMORY_BYTES),
    TRIBUTARY_MAX_DECOMPRESSED_BYTES: zod.coerce
      .number()
      .int()
      .min(1)
      .max(Number.MAX_SAFE_INTEGER)
      .default(PARSE_LIMIT_DEFAULTS.TRIBUTARY_MAX_DECOMPRESSED_BYTES),
    TRIBUTARY_MAX_COMPRESSION_RATIO: zod.coerce.number().min(1).max(100_000).default(PARSE_LIMIT_DEFAULTS.TRIBUTARY_MAX_COMPRESSION_RATIO),
  });
}

let schema: ReturnType<typeof buildSchema> | undefined;

/** The variables' zod schema (the full configuration's schema spreads its shape). */
export function parseLimitsEnvSchema(): ReturnType<typeof buildSchema> {
  schema ??= buildSchema();
  return schema;
}

export function parseLimitsOf(c: ParseLimitsEnv): ConfiguredParseLimits {
  return {
    maxMemoryBytes: c.TRIBUTARY_PARSE_MEMORY_BYTES,
    maxDecompressedBytes: c.TRIBUTARY_MAX_DECOMPRESSED_BYTES,
    maxCompressionRatio: c.TRIBUTARY_MAX_COMPRESSION_RATIO,
  };
}

/** Only the parse limits of an environment (the CLI's `parse` needs no other setting); throws ConfigError. */
export function loadParseLimits(env: Readonly<Record<string, string | undefined>> = process.env): ConfiguredParseLimits {
  // An empty variable means "unset", as in the full configuration.
  const present = Object.fromEntries(
    Object.keys(PARSE_LIMIT_DEFAULTS)
      .map((k) => [k, env[k]] as const)
      .filter(([, v]) => v !== undefined && v !== ''),
  );
  // Nothing set: the defaults, which are what the schema would answer for an empty object.
  if (Object.keys(present).length === 0) return parseLimitsOf(PARSE_LIMIT_DEFAULTS);
  const parsed: z.ZodSafeParseResult<ParseLimitsEnv> = parseLimitsEnvSchema().safeParse(present);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return parseLimitsOf(parsed.data);
}
