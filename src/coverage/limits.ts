import { z } from 'zod';

/**
 * Bounds on what one report may cost. Every limit is configurable; the error raised when one is
 * hit names the limit (`ReportParseError.limit`) so an operator knows which knob to turn.
 */
export const ParseLimitsSchema = z.object({
  /** Raw bytes of one upload as received (possibly compressed). */
  maxInputBytes: z.number().int().positive().default(512 * 1024 * 1024),
  /** Bytes after decompression (gzip bombs). */
  maxDecompressedBytes: z.number().int().positive().default(1024 * 1024 * 1024),
  /** Longest text line of a line-based format (LCOV, Go, gcov), in bytes. */
  maxLineBytes: z.number().int().positive().default(1024 * 1024),
  /** Files in one report. */
  maxFiles: z.number().int().positive().default(1_000_000),
  /** Largest line number accepted in a source file. */
  maxLineNumber: z.number().int().positive().default(10_000_000),
  /** Deepest XML element nesting. */
  maxXmlDepth: z.number().int().positive().default(256),
  /** Largest JSON document held for formats that cannot stream (bytes). */
  maxJsonBytes: z.number().int().positive().default(512 * 1024 * 1024),
  /** Largest hit count kept; larger counts are clamped (they only ever mean "hit"). */
  maxHits: z.number().int().positive().default(Number.MAX_SAFE_INTEGER),
});
export type ParseLimits = z.infer<typeof ParseLimitsSchema>;

export const DEFAULT_LIMITS: ParseLimits = ParseLimitsSchema.parse({});

export function resolveLimits(partial?: Partial<ParseLimits>): ParseLimits {
  return ParseLimitsSchema.parse({ ...DEFAULT_LIMITS, ...partial });
}
