/**
 * The per-line path of the session builder: every file's sink appends its records to one
 * session-wide log of typed columns, merging a repeated line in place while it is in the log.
 */
import { ReportParseError } from '../errors';
import { FLAG_EXTRAS, hasExtras, resized } from '../columns';
import type { FileSink, LineExtras, LineType, LineValue } from '../types';
import { DEN_INT, MAX_BRANCHES, encodeValue, typeCode } from '../values';
import type { BuilderContext, Chunk, Segment } from './context';
import type { PackedExtras } from './packed-extras';
import { invalidExtras as importedInvalidExtras, mergeRecord as importedMergeRecord } from './records';
import type { BuilderState } from './seal';

// Local bindings for the per-line path: in CommonJS output each use of an imported binding is a
// property read (a getter call under tsx).
const encode = encodeValue;
const typeOf = typeCode;
const hasAnyExtras = hasExtras;
const mergeRecord = importedMergeRecord;
const invalidExtras = importedInvalidExtras;
const F_EXTRAS = FLAG_EXTRAS;
const D_INT = DEN_INT;
const MAX_BRANCH_COUNT = MAX_BRANCHES;

/** The most recent records of the session in arrival order, column-wise; a bounded scratch. */
export class SessionLog {
  files: Uint32Array;
  lines: Uint32Array;
  nums: Float64Array;
  dens: Int32Array;
  flags: Uint8Array;
  readonly extras = new ExtrasColumn();
  count = 0;

  constructor(capacity: number) {
    this.files = new Uint32Array(capacity);
    this.lines = new Uint32Array(capacity);
    this.nums = new Float64Array(capacity);
    this.dens = new Int32Array(capacity);
    this.flags = new Uint8Array(capacity);
  }

  grow(n: number): void {
    this.files = resized(this.files, n);
    this.lines = resized(this.lines, n);
    this.nums = resized(this.nums, n);
    this.dens = resized(this.dens, n);
    this.flags = resized(this.flags, n);
  }
}

/**
 * The extras of the log's records by log index: a plain array beside the typed columns, not a
 * Map, because a branch-heavy report stores one for most of its branch lines and a Map's inserts
 * (and its regrowth after every seal's clear) cost several times an array store. Entries come
 * out in ascending index order.
 */
export class ExtrasColumn {
  private values: Array<LineExtras | undefined> = [];
  /** Highest index set, plus one: what clear() and the iteration cover. */
  private end = 0;
  size = 0;

  get(k: number): LineExtras | undefined {
    return k < this.end ? this.values[k] : undefined;
  }

  set(k: number, x: LineExtras): void {
    const values = this.values;
    // Filled up to k with undefined (never holes), so the array keeps its packed elements.
    while (values.length <= k) values.push(undefined);
    if (values[k] === undefined) this.size++;
    values[k] = x;
    if (k >= this.end) this.end = k + 1;
  }

  delete(k: number): void {
    if (k < this.end && this.values[k] !== undefined) {
      this.values[k] = undefined;
      this.size--;
    }
  }

  forEach(fn: (x: LineExtras, k: number) => void): void {
    if (this.size === 0) return;
    const values = this.values;
    for (let k = 0; k < this.end; k++) {
      const x = values[k];
      if (x !== undefined) fn(x, k);
    }
  }

  clear(): void {
    if (this.size > 0) this.values.fill(undefined, 0, this.end);
    this.size = 0;
    this.end = 0;
  }
}

/** The sink of one file: appends to the session log, remembering its last record. */
export class FileAccumulator implements FileSink {
  /** Log index of this file's last record, -1 when it is not in the log (none yet, or sealed). */
  last = -1;
  /** Line number of this file's last record, 0 before the first. */
  lastLine = 0;
  /** Whether this file's records in the log are strictly increasing (no sort needed). */
  runSorted = true;
  /** Records in the segments (repeats merged in place in the log are one record). */
  count = 0;
  /** While sealing: records in the log, first slot in the chunk, next slot, extras of the run. */
  pending = 0;
  start = 0;
  cursor = 0;
  runExtras: Map<number, LineExtras> | null = null;
  /** The first segment, inline (see Segment): most files have exactly one. */
  chunk: Chunk | null = null;
  segStart = 0;
  segLength = 0;
  segExtras: PackedExtras | null = null;
  /** Later segments. */
  more: Segment[] | null = null;

  constructor(
    private readonly ctx: BuilderContext,
    private readonly state: BuilderState,
    readonly index: number,
    readonly path: string,
  ) {}

  line(lineNumber: number, value: LineValue, type?: LineType, extras?: LineExtras): void {
    const ctx = this.ctx;
    // Fast path for the bulk of every report: a valid hit count on a later line, no extras.
    // `>>> 0` equality accepts exactly the integers 0 .. 2^32-1 (not NaN, fractions, negatives).
    if (
      typeof value === 'number' &&
      extras === undefined &&
      lineNumber >>> 0 === lineNumber &&
      lineNumber > this.lastLine &&
      lineNumber <= ctx.maxLineNumber &&
      Number.isSafeInteger(value) &&
      value >= -1
    ) {
      this.append(lineNumber, value > ctx.maxHits ? ctx.maxHits : value, D_INT, type === undefined ? 0 : typeOf(type));
      return;
    }
    this.slowLine(lineNumber, value, type, extras);
  }

  branches(lineNumber: number, taken: number, total: number, type: LineType, extras?: LineExtras): void {
    if (
      lineNumber >>> 0 !== lineNumber ||
      lineNumber === 0 ||
      lineNumber > this.ctx.maxLineNumber ||
      !Number.isSafeInteger(taken) ||
      taken < 0 ||
      !Number.isSafeInteger(total) ||
      total < 0 ||
      total > MAX_BRANCH_COUNT
    ) {
      // The value as `line` takes it, which explains what is wrong with it.
      return this.slowLine(lineNumber, `${taken}/${total}`, type, extras);
    }
    this.store(lineNumber, taken, total, typeOf(type), extras);
  }

  private slowLine(lineNumber: number, value: LineValue, type?: LineType, extras?: LineExtras): void {
    const ctx = this.ctx;
    if (!Number.isSafeInteger(lineNumber) || lineNumber < 1) {
      throw this.error('invalid_number', `line number ${String(lineNumber)} is not a positive integer`);
    }
    if (lineNumber > ctx.maxLineNumber) {
      throw this.error(
        'limit_exceeded',
        `line number ${lineNumber} exceeds the limit of ${ctx.maxLineNumber}`,
        'maxLineNumber',
      );
    }
    const enc = this.state.enc;
    const err = encode(value, enc);
    if (err !== null) throw this.error('invalid_number', `line ${lineNumber}: ${err}`);
    this.store(lineNumber, enc.num, enc.den, typeOf(type), extras);
  }

  /** Stores a checked record: merged into the file's last one when it repeats its line, else appended. */
  private store(lineNumber: number, num: number, den: number, t: number, extras: LineExtras | undefined): void {
    const ctx = this.ctx;
    if (num > ctx.maxHits) num = ctx.maxHits;
    let x = extras !== undefined && hasAnyExtras(extras) ? extras : undefined;
    if (x !== undefined) {
      const bad = invalidExtras(x);
      if (bad !== null) throw this.error('invalid_number', `line ${lineNumber}: ${bad}`);
      // Before a repeat merges too, so every stored list carries the session's scheme.
      x = this.state.intern(x);
    }

    if (this.lastLine !== 0) {
      const prev = this.lastLine;
      if (lineNumber === prev && this.last >= 0) {
        mergeRecord(ctx.sessionId, this.state.log, this.last, num, den, t, x, this.state.enc);
        return;
      }
      // A repeat of a sealed record lands in a later segment; finish() merges it in order.
      if (lineNumber <= prev && this.last >= 0) this.runSorted = false;
    }
    const n = this.append(lineNumber, num, den, x === undefined ? t : t | F_EXTRAS);
    if (x !== undefined) this.state.log.extras.set(n, x);
  }

  /** Appends a record to the log (sealing it first when full); returns its index there. */
  private append(lineNumber: number, num: number, den: number, flags: number): number {
    let log = this.state.log;
    if (log.count === log.lines.length) {
      this.state.makeRoom();
      log = this.state.log;
    }
    const n = log.count;
    log.files[n] = this.index;
    log.lines[n] = lineNumber;
    log.nums[n] = num;
    log.dens[n] = den;
    log.flags[n] = flags;
    log.count = n + 1;
    this.last = n;
    this.lastLine = lineNumber;
    this.count++;
    return n;
  }

  addSegment(chunk: Chunk, start: number, length: number, extras: PackedExtras | null): void {
    if (this.chunk === null) {
      this.chunk = chunk;
      this.segStart = start;
      this.segLength = length;
      this.segExtras = extras;
    } else {
      (this.more ??= []).push({ chunk, start, length, extras });
    }
  }

  clearSegments(): void {
    this.chunk = null;
    this.segExtras = null;
    this.more = null;
    this.count = 0;
    this.last = -1;
  }

  private error(code: 'invalid_number' | 'limit_exceeded', reason: string, limit?: string): ReportParseError {
    return new ReportParseError({ code, file: this.ctx.fileName, format: this.ctx.format, reason, limit });
  }
}
