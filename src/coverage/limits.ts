import { z } from 'zod';
import { ReportParseError } from './errors';

/**
 * Bounds on what one report may cost. Every limit is configurable; the error raised when one is
 * hit names the limit (`ReportParseError.limit`) so an operator knows which knob to turn.
 */
export const ParseLimitsSchema = z.object({
  /** Raw bytes of one upload as received (possibly compressed). */
  maxInputBytes: z.number().int().positive().default(512 * 1024 * 1024),
  /** Bytes after decompression (gzip bombs). */
  maxDecompressedBytes: z.number().int().positive().default(1024 * 1024 * 1024),
  /**
   * Largest inflated/compressed ratio of gzip input once past `compressionRatioFloorBytes`. Real
   * reports gzip 2-17x (the corpus at level 9); deflate's ceiling is about 1030x, which only
   * padding reaches.
   */
  maxCompressionRatio: z.number().positive().default(100),
  /** Inflated bytes below which any ratio is accepted (small, very regular reports). */
  compressionRatioFloorBytes: z.number().int().nonnegative().default(16 * 1024 * 1024),
  /** Longest text line of a line-based format (LCOV, Go, gcov), in bytes. */
  maxLineBytes: z.number().int().positive().default(1024 * 1024),
  /** Files in one report. */
  maxFiles: z.number().int().positive().default(1_000_000),
  /** Largest line number accepted in a source file. */
  maxLineNumber: z.number().int().positive().default(10_000_000),
  /** Deepest XML element nesting. */
  maxXmlDepth: z.number().int().positive().default(256),
  /** Largest JSON document held for formats that cannot stream (bytes, whitespace runs aside). */
  maxJsonBytes: z.number().int().positive().default(512 * 1024 * 1024),
  /** Deepest JSON nesting of arrays and objects (the JSON formats need at most 8). */
  maxJsonDepth: z.number().int().positive().default(64),
  /** Longest JSON string or number, in bytes (file paths, keys, counts). */
  maxJsonTokenBytes: z.number().int().positive().default(1024 * 1024),
  /**
   * Estimated memory one parse may hold, in bytes: the input when given whole, the JSON document,
   * the report's columns, files and extras. Past it the report is `limit_exceeded`.
   */
  maxMemoryBytes: z.number().int().positive().default(1024 * 1024 * 1024),
  /** Largest hit count kept; larger counts are clamped (they only ever mean "hit"). */
  maxHits: z.number().int().positive().default(Number.MAX_SAFE_INTEGER),
});
export type ParseLimits = z.infer<typeof ParseLimitsSchema>;

export const DEFAULT_LIMITS: ParseLimits = ParseLimitsSchema.parse({});

export function resolveLimits(partial?: Partial<ParseLimits>): ParseLimits {
  return ParseLimitsSchema.parse({ ...DEFAULT_LIMITS, ...partial });
}

/**
 * The running memory estimate of one parse against `maxMemoryBytes`. Charges are estimates of
 * what stays allocated (columns, documents, the input held whole), made where memory is taken in
 * bulk, so the per-line path pays nothing.
 */
export class MemoryBudget {
  private usedBytes = 0;

  constructor(
    readonly maxBytes: number,
    private readonly fileName: string,
    public format: string,
  ) {}

  get used(): number {
    return this.usedBytes;
  }

  charge(bytes: number, what: string): void {
    this.usedBytes += bytes;
    if (this.usedBytes > this.maxBytes) {
      throw new ReportParseError({
        code: 'limit_exceeded',
        file: this.fileName,
        format: this.format,
        reason: `parsing needs more than maxMemoryBytes (${this.maxBytes} bytes; ${what} brought the estimate to ${this.usedBytes})`,
        limit: 'maxMemoryBytes',
      });
    }
  }

  release(bytes: number): void {
    this.usedBytes = Math.max(0, this.usedBytes - bytes);
  }
}
