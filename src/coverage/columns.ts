/**
 * The column storage of one file's coverage (see ./report for the layout): the flags bits, the
 * slab that carves small typed arrays out of large buffers, and the writer that appends canonical
 * columns line by line.
 */
import type { LineExtras } from './types';
import { encodeValue, typeCode, type EncodedValue } from './values';
import type { SessionEntry } from './session-entries';

/** flags column: bits 0-1 the line type code, bit 2 "has extras in the side map". */
export const FLAG_TYPE_MASK = 3;
export const FLAG_EXTRAS = 4;

/** The stored columns of one file (see the module comment). */
export interface FileColumns {
  lines: Uint32Array;
  offsets: Uint32Array;
  sessionIds: Uint32Array;
  nums: Float64Array;
  dens: Int32Array;
  flags: Uint8Array;
  extras: ReadonlyMap<number, LineExtras>;
}

/** Shared by every file without extras, so most files allocate no map. */
export const NO_EXTRAS: ReadonlyMap<number, LineExtras> = new Map();

/**
 * Carves many small typed arrays out of a few large buffers. A report has thousands of files,
 * each with several columns; one backing store per column per file made allocation and garbage
 * collection dominate merges. Views are never written after their file is built.
 */
export class ColumnSlab {
  private u32s = new Uint32Array(0);
  private u32At = 0;
  private f64s = new Float64Array(0);
  private f64At = 0;
  private i32s = new Int32Array(0);
  private i32At = 0;
  private u8s = new Uint8Array(0);
  private u8At = 0;

  constructor(private readonly chunk = 1 << 16) {}

  /**
   * Reuses the current chunks from the start. Only for transient files: every view handed out
   * before must be dead (merging serialized reports resets once per path).
   */
  reset(): void {
    this.u32At = 0;
    this.f64At = 0;
    this.i32At = 0;
    this.u8At = 0;
  }

  u32(n: number): Uint32Array {
    if (n * 8 > this.chunk) return new Uint32Array(n);
    if (this.u32At + n > this.u32s.length) {
      this.u32s = new Uint32Array(this.chunk);
      this.u32At = 0;
    }
    const v = this.u32s.subarray(this.u32At, this.u32At + n);
    this.u32At += n;
    return v;
  }

  f64(n: number): Float64Array {
    if (n * 8 > this.chunk) return new Float64Array(n);
    if (this.f64At + n > this.f64s.length) {
      this.f64s = new Float64Array(this.chunk);
      this.f64At = 0;
    }
    const v = this.f64s.subarray(this.f64At, this.f64At + n);
    this.f64At += n;
    return v;
  }

  i32(n: number): Int32Array {
    if (n * 8 > this.chunk) return new Int32Array(n);
    if (this.i32At + n > this.i32s.length) {
      this.i32s = new Int32Array(this.chunk);
      this.i32At = 0;
    }
    const v = this.i32s.subarray(this.i32At, this.i32At + n);
    this.i32At += n;
    return v;
  }

  u8(n: number): Uint8Array {
    if (n * 8 > this.chunk) return new Uint8Array(n);
    if (this.u8At + n > this.u8s.length) {
      this.u8s = new Uint8Array(this.chunk);
      this.u8At = 0;
    }
    const v = this.u8s.subarray(this.u8At, this.u8At + n);
    this.u8At += n;
    return v;
  }
}

/**
 * Writes canonical columns line by line; grows its entry columns as needed. Used by the builder,
 * merge, the serializer's reader and `fromEntries`.
 */
export class ColumnWriter {
  private lines: Uint32Array;
  private offsets: Uint32Array;
  private sessionIds: Uint32Array;
  private nums: Float64Array;
  private dens: Int32Array;
  private flags: Uint8Array;
  private readonly extras = new Map<number, LineExtras>();
  private lineCount = 0;
  private entryCount = 0;
  private readonly scratch: EncodedValue = { num: 0, den: 0 };

  constructor(lineCapacity: number, entryCapacity: number) {
    const lc = Math.max(1, lineCapacity);
    const ec = Math.max(1, entryCapacity);
    this.lines = new Uint32Array(lc);
    this.offsets = new Uint32Array(lc + 1);
    this.sessionIds = new Uint32Array(ec);
    this.nums = new Float64Array(ec);
    this.dens = new Int32Array(ec);
    this.flags = new Uint8Array(ec);
  }

  startLine(lineNumber: number): void {
    if (this.lineCount === this.lines.length) {
      this.lines = resized(this.lines, this.lines.length * 2);
      this.offsets = resized(this.offsets, this.lines.length + 1);
    }
    this.lines[this.lineCount] = lineNumber;
    this.lineCount++;
    this.offsets[this.lineCount] = this.entryCount;
  }

  /** Appends a raw entry to the current line. */
  push(sessionId: number, num: number, den: number, flags: number, extras: LineExtras | undefined): void {
    const k = this.entryCount;
    if (k === this.sessionIds.length) this.growEntries();
    this.sessionIds[k] = sessionId;
    this.nums[k] = num;
    this.dens[k] = den;
    if (extras !== undefined && hasExtras(extras)) {
      this.flags[k] = (flags & FLAG_TYPE_MASK) | FLAG_EXTRAS;
      this.extras.set(k, extras);
    } else {
      this.flags[k] = flags & FLAG_TYPE_MASK;
    }
    this.entryCount = k + 1;
    this.offsets[this.lineCount] = this.entryCount;
  }

  pushEntry(e: SessionEntry): void {
    const err = encodeValue(e.value, this.scratch);
    if (err !== null) throw new RangeError(err);
    const extras: LineExtras = {};
    if (e.missingBranches !== undefined) extras.missingBranches = e.missingBranches;
    if (e.branchScheme !== undefined) extras.branchScheme = e.branchScheme;
    if (e.partials !== undefined) extras.partials = e.partials;
    if (e.complexity !== undefined) extras.complexity = e.complexity;
    this.push(e.sessionId, this.scratch.num, this.scratch.den, typeCode(e.type), extras);
  }

  private growEntries(): void {
    const n = this.sessionIds.length * 2;
    this.sessionIds = resized(this.sessionIds, n);
    this.nums = resized(this.nums, n);
    this.dens = resized(this.dens, n);
    this.flags = resized(this.flags, n);
  }

  finish(): FileColumns {
    const lc = this.lineCount;
    const ec = this.entryCount;
    return {
      lines: this.lines.length === lc ? this.lines : this.lines.slice(0, lc),
      offsets: this.offsets.length === lc + 1 ? this.offsets : this.offsets.slice(0, lc + 1),
      sessionIds: this.sessionIds.length === ec ? this.sessionIds : this.sessionIds.slice(0, ec),
      nums: this.nums.length === ec ? this.nums : this.nums.slice(0, ec),
      dens: this.dens.length === ec ? this.dens : this.dens.slice(0, ec),
      flags: this.flags.length === ec ? this.flags : this.flags.slice(0, ec),
      extras: this.extras.size > 0 ? this.extras : NO_EXTRAS,
    };
  }
}

export function hasExtras(x: LineExtras): boolean {
  return x.missingBranches !== undefined || x.partials !== undefined || x.complexity !== undefined;
}

type GrowableArray = Uint32Array | Int32Array | Float64Array | Uint8Array;

/** A copy of `a` in a new array of the same type and length `n` (truncated or zero-filled). */
export function resized<T extends GrowableArray>(a: T, n: number): T {
  const b = new (a.constructor as new (length: number) => T)(n);
  b.set((a.length <= n ? a : a.subarray(0, n)) as ArrayLike<number>);
  return b;
}

