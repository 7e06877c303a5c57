/**
 * One file's coverage: its entry columns and the derived per-line values and types (the fold of
 * each line's entries in session order; see ./report for the layout).
 */
import type { LineExtras, LineType, LineValue } from './types';
import { classifyEncoded, decodeValue, mergeEncoded, typeName, type EncodedValue, type LineClassCode } from './values';
import { foldBranchLine, mergeSessionEntries, type LineEntries, type SessionEntry } from './session-entries';
import { ColumnSlab, ColumnWriter, FLAG_EXTRAS, FLAG_TYPE_MASK, type FileColumns } from './columns';

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

const derivedScratch: EncodedValue = { num: 0, den: 0 };
// Local bindings: in CommonJS output each use of an imported binding is a property read (a getter
// call under tsx), which shows in per-entry loops.
const mergeEncodedLocal = mergeEncoded;
const foldBranchLineLocal = foldBranchLine;
const EXTRAS_BIT = FLAG_EXTRAS;
const TYPE_MASK = FLAG_TYPE_MASK;

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
    return f.flags[k]! & EXTRAS_BIT ? f.extras.get(k)?.missingBranches : undefined;
  }

  scheme(k: number): string | undefined {
    const f = this.f!;
    return f.flags[k]! & EXTRAS_BIT ? f.extras.get(k)?.branchScheme : undefined;
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
      if (fl & EXTRAS_BIT) anyExtras = true;
      if (type === 0) type = fl & TYPE_MASK;
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

