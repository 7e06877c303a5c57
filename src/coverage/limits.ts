import { ReportParseError } from './errors';

/**
 * Bounds on what one report may cost. Every limit is configurable; the error raised when one is
 * hit names the limit (`ReportParseError.limit`) so an operator knows which knob to turn.
 */
export interface ParseLimits {
  /** Raw bytes of one upload as received (possibly compressed). */
  maxInputBytes: number;
  /** Bytes after decompression (gzip bombs). */
  maxDecompressedBytes: number;
  /**
   * Largest inflated/compressed ratio of gzip input once past `compressionRatioFloorBytes`. Real
   * reports gzip 2-17x (the corpus at level 9); deflate's ceiling is about 1030x, which only
   * padding reaches.
   */
  maxCompressionRatio: number;
  /** Inflated bytes below which any ratio is accepted (small, very regular reports). */
  compressionRatioFloorBytes: number;
  /** Longest text line of a line-based format (LCOV, Go, gcov), in bytes. */
  maxLineBytes: number;
  /** Files in one report. */
  maxFiles: number;
  /** Largest line number accepted in a source file. */
  maxLineNumber: number;
  /** Deepest XML element nesting. */
  maxXmlDepth: number;
  /** Largest JSON document held for formats that cannot stream (bytes, whitespace runs aside). */
  maxJsonBytes: number;
  /** Deepest JSON nesting of arrays and objects (the JSON formats need at most 8). */
  maxJsonDepth: number;
  /** Longest JSON string or number, in bytes (file paths, keys, counts). */
  maxJsonTokenBytes: number;
  /**
   * Estimated memory one parse may hold, in bytes: the input when given whole, the JSON document,
   * the report's columns, files and extras. Past it the report is `limit_exceeded`.
   */
  maxMemoryBytes: number;
  /** Largest hit count kept; larger counts are clamped (they only ever mean "hit"). */
  maxHits: number;
}

/** What each limit must be. */
const RULE_TEXT = { 'positive-int': 'a positive integer', positive: 'a positive number', 'nonnegative-int': 'an integer >= 0' } as const;
type LimitRule = keyof typeof RULE_TEXT;

const LIMIT_RULES: { readonly [K in keyof ParseLimits]: readonly [rule: LimitRule, fallback: number] } = {
  maxInputBytes: ['positive-int', 512 * 1024 * 1024],
  maxDecompressedBytes: ['positive-int', 1024 * 1024 * 1024],
  maxCompressionRatio: ['positive', 100],
  compressionRatioFloorBytes: ['nonnegative-int', 16 * 1024 * 1024],
  maxLineBytes: ['positive-int', 1024 * 1024],
  maxFiles: ['positive-int', 1_000_000],
  maxLineNumber: ['positive-int', 10_000_000],
  maxXmlDepth: ['positive-int', 256],
  maxJsonBytes: ['positive-int', 512 * 1024 * 1024],
  maxJsonDepth: ['positive-int', 64],
  maxJsonTokenBytes: ['positive-int', 1024 * 1024],
  maxMemoryBytes: ['positive-int', 1024 * 1024 * 1024],
  maxHits: ['positive-int', Number.MAX_SAFE_INTEGER],
};

const LIMIT_NAMES = Object.keys(LIMIT_RULES) as (keyof ParseLimits)[];

function fits(rule: LimitRule, value: number): boolean {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (rule === 'positive') return value > 0;
  return Number.isSafeInteger(value) && (rule === 'positive-int' ? value > 0 : value >= 0);
}

/**
 * The limits with every one not given at its default; a value out of its range throws a
 * RangeError naming it. These are options set in code (the worker's configuration is validated
 * by its zod schema where it is read), so a plain check serves, and parsing does not load zod.
 */
export function resolveLimits(partial?: Partial<ParseLimits>): ParseLimits {
  const out = {} as ParseLimits;
  for (const name of LIMIT_NAMES) {
    const [rule, fallback] = LIMIT_RULES[name];
    const value = partial?.[name] ?? fallback;
    if (!fits(rule, value)) throw new RangeError(`parse limit ${name} must be ${RULE_TEXT[rule]}, not ${String(value)}`);
    out[name] = value;
  }
  return out;
}

export const DEFAULT_LIMITS: ParseLimits = resolveLimits();

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
