/**
 * The report model: files -> lines -> per-session entries, plus the sessions' metadata.
 *
 * Every session's record of a line is kept; a line's value and type are derived from its entries
 * in session-id order. Merging reports is then a union of sessions, and no result depends on the
 * order uploads finished in or on the shape of the merge tree.
 *
 * Memory layout (reports reach 200,000 lines x 50 sessions = 10M entries): per file, columns of
 * typed arrays in CSR form. `lines` holds the sorted line numbers; the entries of line i are
 * indices offsets[i] .. offsets[i+1]-1 of the entry columns, sorted by session id with at most one
 * entry per session. Rare extras (missing branches, partial spans, complexity) live in a side map
 * keyed by entry index and are flagged in `flags`, so the common path never touches the map.
 * Files are immutable once built; builders and merges create new ones.
 */
import type { LineExtras, LineType, LineValue } from './types';
import {
  classifyEncoded,
  decodeValue,
  encodeValue,
  foldBranchLine,
  mergeEncoded,
  mergeSessionEntries,
  typeCode,
  typeName,
  type EncodedValue,
  type LineClassCode,
  type LineEntries,
  type SessionEntry,
} from './values';

/**
 * Metadata of one upload. Everything but the id is optional and opaque to the model; a report
 * keeps only these keys (see `normalizeSession`).
 */
export interface SessionMeta {
  /** Report format of the upload (a `FormatName`, or anything a later stage records). */
  format?: string;
  /** The input's name as given (CLI argument or upload file name). */
  file?: string;
  name?: string;
  flags?: string[];
  build?: string;
  job?: string;
  provider?: string;
  ciUrl?: string;
  /** ISO-8601 time of the upload. */
  time?: string;
  state?: string;
  type?: 'uploaded' | 'carriedforward';
  /** A carried-forward session's source: the commit whose upload it is (absent on uploaded ones). */
  carriedFrom?: string;
}

export interface Session extends SessionMeta {
  /** Small dense integer, assigned once when the upload is registered. */
  id: number;
}

const SESSION_KEYS = ['format', 'file', 'name', 'flags', 'build', 'job', 'provider', 'ciUrl', 'time', 'state', 'type', 'carriedFrom'] as const;

/**
 * A session with only the known metadata keys and no undefined members: what a report keeps and
 * what its serialization stores, so a stored report reads back equal.
 */
export function normalizeSession(s: Session): Session {
  const out: Session = { id: s.id };
  for (const k of SESSION_KEYS) {
    const v = s[k];
    // Keys and value types come from SessionMeta itself; the cast only re-attaches them.
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

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

export class FileCoverage implements FileColumns {
  readonly path: string;
  readonly lines: Uint32Array;
  readonly offsets: Uint32Array;
  readonly sessionIds: Uint32Array;
  readonly nums: Float64Array;
  readonly dens: Int32Array;
  readonly flags: Uint8Array;
  readonly extras: ReadonlyMap<number, LineExtras>;
  /**
   * Derived per-line value (encoded like the entries) and type code. Read the type as
   * `lineTypes[i] & FLAG_TYPE_MASK`: when every line has one entry these share the entry columns.
   */
  readonly lineNums: Float64Array;
  readonly lineDens: Int32Array;
  readonly lineTypes: Uint8Array;

  /** Columns must already be canonical (sorted lines; per line, strictly increasing sessions). */
  constructor(path: string, cols: FileColumns, slab?: ColumnSlab) {
    this.path = path;
    this.lines = cols.lines;
    this.offsets = cols.offsets;
    this.sessionIds = cols.sessionIds;
    this.nums = cols.nums;
    this.dens = cols.dens;
    this.flags = cols.flags;
    this.extras = cols.extras;
    const n = cols.lines.length;
    if (cols.sessionIds.length === n) {
      // One entry per line (every single-session report): the entries are the derived values.
      this.lineNums = cols.nums;
      this.lineDens = cols.dens;
      this.lineTypes = cols.flags;
    } else {
      this.lineNums = slab ? slab.f64(n) : new Float64Array(n);
      this.lineDens = slab ? slab.i32(n) : new Int32Array(n);
      this.lineTypes = slab ? slab.u8(n) : new Uint8Array(n);
      deriveLines(this);
    }
  }

  get lineCount(): number {
    return this.lines.length;
  }

  get entryCount(): number {
    return this.sessionIds.length;
  }

  /** Index of `lineNumber` in `lines`, or -1. */
  indexOf(lineNumber: number): number {
    const lines = this.lines;
    let lo = 0;
    let hi = lines.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = lines[mid]!;
      if (v < lineNumber) lo = mid + 1;
      else if (v > lineNumber) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  /** Derived value of the line at index i. */
  value(i: number): LineValue {
    return decodeValue(this.lineNums[i]!, this.lineDens[i]!);
  }

  type(i: number): LineType {
    return typeName(this.lineTypes[i]! & FLAG_TYPE_MASK);
  }

  classOf(i: number): LineClassCode {
    return classifyEncoded(this.lineNums[i]!, this.lineDens[i]!);
  }

  /** The derived value of a line by number, or undefined when the file has no such line. */
  valueAt(lineNumber: number): LineValue | undefined {
    const i = this.indexOf(lineNumber);
    return i < 0 ? undefined : this.value(i);
  }

  /** Decoded session entries of the line at index i, in session-id order. */
  entries(i: number): SessionEntry[] {
    const out: SessionEntry[] = [];
    for (let k = this.offsets[i]!; k < this.offsets[i + 1]!; k++) out.push(this.entry(k));
    return out;
  }

  entry(k: number): SessionEntry {
    const e: SessionEntry = {
      sessionId: this.sessionIds[k]!,
      value: decodeValue(this.nums[k]!, this.dens[k]!),
    };
    const f = this.flags[k]!;
    const t = f & FLAG_TYPE_MASK;
    if (t !== 0) e.type = typeName(t);
    if (f & FLAG_EXTRAS) {
      const x = this.extras.get(k);
      if (x?.missingBranches !== undefined) e.missingBranches = x.missingBranches.slice();
      if (x?.branchScheme !== undefined) e.branchScheme = x.branchScheme;
      if (x?.partials !== undefined) e.partials = x.partials.map((p) => [p[0], p[1], p[2]]);
      if (x?.complexity !== undefined)
        e.complexity = typeof x.complexity === 'number' ? x.complexity : [x.complexity[0], x.complexity[1]];
    }
    return e;
  }

  /** Session ids present in this file, ascending. */
  sessionIdSet(): number[] {
    return [...new Set(this.sessionIds)].sort((a, b) => a - b);
  }

  /**
   * Builds a file from decoded entries in any order; entries of the same line and session merge
   * with the in-session rule. Convenient for tests and small inputs, not a hot path.
   */
  static fromEntries(path: string, lines: Iterable<[lineNumber: number, entries: SessionEntry[]]>): FileCoverage {
    const byLine = new Map<number, Map<number, SessionEntry>>();
    for (const [ln, entries] of lines) {
      if (!Number.isSafeInteger(ln) || ln < 1 || ln > 0xffffffff) throw new RangeError(`bad line number ${ln}`);
      let m = byLine.get(ln);
      if (m === undefined) byLine.set(ln, (m = new Map()));
      for (const e of entries) {
        const prev = m.get(e.sessionId);
        m.set(e.sessionId, prev === undefined ? e : mergeSessionEntries(prev, e));
      }
    }
    const lineNumbers = [...byLine.keys()].filter((ln) => byLine.get(ln)!.size > 0).sort((a, b) => a - b);
    const w = new ColumnWriter(lineNumbers.length, 16);
    for (const ln of lineNumbers) {
      const m = byLine.get(ln)!;
      w.startLine(ln);
      for (const sid of [...m.keys()].sort((a, b) => a - b)) w.pushEntry(m.get(sid)!);
    }
    return new FileCoverage(path, w.finish());
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

const derivedScratch: EncodedValue = { num: 0, den: 0 };
// Local bindings: in CommonJS output each use of an imported binding is a property read (a getter
// call under tsx), which shows in per-entry loops.
const mergeEncodedLocal = mergeEncoded;
const foldBranchLineLocal = foldBranchLine;

/** A file's entry columns as `foldBranchLine` reads them (one reused instance; derivation is synchronous). */
class ColumnEntries implements LineEntries {
  f: FileColumns | undefined;

  num(k: number): number {
    return this.f!.nums[k]!;
  }

  den(k: number): number {
    return this.f!.dens[k]!;
  }

  missing(k: number): readonly string[] | undefined {
    const f = this.f!;
    return f.flags[k]! & FLAG_EXTRAS ? f.extras.get(k)?.missingBranches : undefined;
  }

  scheme(k: number): string | undefined {
    const f = this.f!;
    return f.flags[k]! & FLAG_EXTRAS ? f.extras.get(k)?.branchScheme : undefined;
  }
}
const columnEntries = new ColumnEntries();

/** Fills the derived columns: fold of each line's entries in session order, first non-plain type. */
function deriveLines(f: FileCoverage): void {
  const { offsets, nums, dens, flags, lineNums, lineDens, lineTypes } = f;
  const out = derivedScratch;
  for (let i = 0; i < lineNums.length; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    let anyExtras = false;
    let type = 0;
    for (let k = start; k < end; k++) {
      const fl = flags[k]!;
      if (fl & FLAG_EXTRAS) anyExtras = true;
      if (type === 0) type = fl & FLAG_TYPE_MASK;
    }
    lineTypes[i] = type;
    if (anyExtras && end - start > 1) {
      columnEntries.f = f;
      foldBranchLineLocal(columnEntries, start, end, out);
      columnEntries.f = undefined;
    } else {
      out.num = nums[start]!;
      out.den = dens[start]!;
      for (let k = start + 1; k < end; k++) mergeEncodedLocal(out.num, out.den, nums[k]!, dens[k]!, undefined, out);
    }
    lineNums[i] = out.num;
    lineDens[i] = out.den;
  }
}

export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A report: files keyed by normalised path, and the sessions (uploads) it is made of. */
export class CoverageReport {
  readonly sessions: readonly Session[];
  readonly files: ReadonlyMap<string, FileCoverage>;
  private sortedPaths: string[] | undefined;

  constructor(files: Iterable<FileCoverage>, sessions: Iterable<Session>) {
    const ss = [...sessions].map(normalizeSession).sort((a, b) => a.id - b.id);
    for (let i = 0; i < ss.length; i++) {
      const id = ss[i]!.id;
      if (!Number.isSafeInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError(`invalid session id ${id}`);
      if (i > 0 && ss[i - 1]!.id === id) throw new RangeError(`duplicate session id ${id}`);
    }
    this.sessions = ss;
    const m = new Map<string, FileCoverage>();
    for (const f of files) {
      // One hash lookup per file (a report can have a million): a duplicate leaves the size as is.
      const size = m.size;
      if (m.set(f.path, f).size === size) throw new RangeError(`duplicate file ${f.path}`);
    }
    this.files = m;
  }

  /** File paths in canonical (code unit) order. */
  paths(): readonly string[] {
    if (this.sortedPaths === undefined) this.sortedPaths = [...this.files.keys()].sort(comparePaths);
    return this.sortedPaths;
  }

  file(path: string): FileCoverage | undefined {
    return this.files.get(path);
  }

  /** Files in canonical order. */
  *[Symbol.iterator](): IterableIterator<FileCoverage> {
    for (const p of this.paths()) yield this.files.get(p)!;
  }

  get fileCount(): number {
    return this.files.size;
  }

  sessionIds(): number[] {
    return this.sessions.map((s) => s.id);
  }
}

