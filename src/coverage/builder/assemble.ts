/**
 * Assembling the finished report: each file's segments become its canonical columns, views of the
 * sealed chunks for nearly every file, and a sorted, merged copy for files spread over chunks.
 */
import { ColumnSlab, NO_EXTRAS, FLAG_EXTRAS, FLAG_TYPE_MASK, type FileColumns } from '../columns';
import { FileCoverage } from '../file-coverage';
import { stableOrder as importedStableOrder } from '../parsers/bytes';
import type { LineExtras } from '../types';
import { DEN_INT, type EncodedValue } from '../values';
import type { Chunk, Segment } from './context';
import type { FileAccumulator } from './log';
import { packExtras } from './packed-extras';
import { mergeRecord as importedMergeRecord, type RecordColumns } from './records';

// Local bindings: in CommonJS output each use of an imported binding is a property read.
const F_EXTRAS = FLAG_EXTRAS;
const F_TYPE = FLAG_TYPE_MASK;
const D_INT = DEN_INT;
const stableOrder = importedStableOrder;
const mergeRecord = importedMergeRecord;

/**
 * Columns whose content depends only on their length (a single-session file's offsets
 * 0..n and session ids, all-hit-count denominators, plain flags): one buffer each per report,
 * and one view per distinct length, shared by every file. Files are never written once built.
 */
export class UniformColumns {
  private identity: Uint32Array | undefined;
  private sids: Uint32Array | undefined;
  private denInt: Int32Array | undefined;
  private zeros: Uint8Array | undefined;
  private readonly offsetViews = new Map<number, Uint32Array>();
  private readonly sidViews = new Map<number, Uint32Array>();
  private readonly denViews = new Map<number, Int32Array>();
  private readonly flagViews = new Map<number, Uint8Array>();

  constructor(
    private readonly sessionId: number,
    private readonly maxLength: number,
  ) {}

  offsets(n: number): Uint32Array {
    let v = this.offsetViews.get(n);
    if (v === undefined) {
      if (this.identity === undefined) {
        this.identity = new Uint32Array(this.maxLength + 1);
        for (let i = 0; i <= this.maxLength; i++) this.identity[i] = i;
      }
      this.offsetViews.set(n, (v = this.identity.subarray(0, n + 1)));
    }
    return v;
  }

  sessionIds(n: number): Uint32Array {
    let v = this.sidViews.get(n);
    if (v === undefined) {
      this.sids ??= new Uint32Array(this.maxLength).fill(this.sessionId);
      this.sidViews.set(n, (v = this.sids.subarray(0, n)));
    }
    return v;
  }

  dens(n: number): Int32Array {
    let v = this.denViews.get(n);
    if (v === undefined) {
      this.denInt ??= new Int32Array(this.maxLength).fill(D_INT);
      this.denViews.set(n, (v = this.denInt.subarray(0, n)));
    }
    return v;
  }

  flags(n: number): Uint8Array {
    let v = this.flagViews.get(n);
    if (v === undefined) {
      this.zeros ??= new Uint8Array(this.maxLength);
      this.flagViews.set(n, (v = this.zeros.subarray(0, n)));
    }
    return v;
  }
}

function view<T extends Uint32Array | Float64Array | Int32Array | Uint8Array>(a: T, start: number, n: number): T {
  // The whole chunk (a file alone in it) needs no second view object.
  return start === 0 && n === a.length ? a : (a.subarray(start, start + n) as T);
}

/** Turns every file's segments into its canonical columns, in the order files were first seen. */
export function buildFiles(accs: readonly FileAccumulator[], sorter: RunSorter): FileCoverage[] {
  let maxLength = 0;
  for (const acc of accs) if (acc.count > maxLength) maxLength = acc.count;
  const uniform = new UniformColumns(sorter.sessionId, maxLength);
  const slab = new ColumnSlab();
  const out: FileCoverage[] = [];
  for (const acc of accs) {
    const chunk = acc.chunk;
    if (chunk === null) continue;
    let cols: FileColumns;
    if (acc.more === null) {
      // One run, strictly increasing (sorted and merged when sealed): views of the chunk.
      const start = acc.segStart;
      const n = acc.segLength;
      cols = {
        lines: view(chunk.lines, start, n),
        offsets: uniform.offsets(n),
        sessionIds: uniform.sessionIds(n),
        nums: view(chunk.nums, start, n),
        // A file without branches in a chunk with some still needs no column of its own.
        dens: chunk.dens === null || allEqual(chunk.dens, start, n, D_INT) ? uniform.dens(n) : view(chunk.dens, start, n),
        flags: chunk.flags === null || allEqual(chunk.flags, start, n, 0) ? uniform.flags(n) : view(chunk.flags, start, n),
        extras: acc.segExtras ?? NO_EXTRAS,
      };
    } else {
      cols = sorter.gather(acc, uniform, slab);
    }
    out.push(new FileCoverage(acc.path, cols));
  }
  return out;
}

/**
 * Sorts and merges one file's records. Its scratch columns (`in*` in arrival order, `out*` the
 * result) belong to one builder and are reused across its files and seals; building is
 * synchronous.
 */
export class RunSorter {
  private inLines = new Uint32Array(256);
  private inNums = new Float64Array(256);
  private inDens = new Int32Array(256);
  private inFlags = new Uint8Array(256);
  private outLines = new Uint32Array(256);
  private outNums = new Float64Array(256);
  private outDens = new Int32Array(256);
  private outFlags = new Uint8Array(256);
  private order = new Uint32Array(256);
  private keys = new Float64Array(256);
  private readonly inExtras = new Map<number, LineExtras>();
  private readonly outExtras = new Map<number, LineExtras>();
  /** The value a merge produces (a seal runs while the log's own scratch holds a value). */
  private readonly enc: EncodedValue = { num: 0, den: 0 };

  constructor(readonly sessionId: number) {}

  private reserve(n: number): void {
    if (this.inLines.length >= n) return;
    const cap = Math.max(n, this.inLines.length * 2);
    this.inLines = new Uint32Array(cap);
    this.inNums = new Float64Array(cap);
    this.inDens = new Int32Array(cap);
    this.inFlags = new Uint8Array(cap);
    this.outLines = new Uint32Array(cap);
    this.outNums = new Float64Array(cap);
    this.outDens = new Int32Array(cap);
    this.outFlags = new Uint8Array(cap);
    this.order = new Uint32Array(cap);
    this.keys = new Float64Array(cap);
  }

  /** Appends the records of a run (its chunk's [start, start + n), its extras) to `in*` at `at`. */
  private loadIn(chunk: Chunk, start: number, n: number, extras: ReadonlyMap<number, LineExtras> | null, at: number): void {
    const end = start + n;
    this.inLines.set(chunk.lines.subarray(start, end), at);
    this.inNums.set(chunk.nums.subarray(start, end), at);
    if (chunk.dens === null) this.inDens.fill(D_INT, at, at + n);
    else this.inDens.set(chunk.dens.subarray(start, end), at);
    if (chunk.flags === null) this.inFlags.fill(0, at, at + n);
    else this.inFlags.set(chunk.flags.subarray(start, end), at);
    const inExtras = this.inExtras;
    extras?.forEach((x, k) => inExtras.set(at + k, x));
  }

  /**
   * Sorts the `in` records [0, n) by line, stable, so repeats merge in the order they came, and
   * merges equal lines into the `out` scratch; returns the number of lines. Clears `inExtras`.
   */
  private sortMerge(n: number): number {
    const il = this.inLines;
    const inNums = this.inNums;
    const inDens = this.inDens;
    const inFlags = this.inFlags;
    const inExtras = this.inExtras;
    const outLines = this.outLines;
    const outNums = this.outNums;
    const outDens = this.outDens;
    const outFlags = this.outFlags;
    const outExtras = this.outExtras;
    const idx = stableOrder(il, n, this.keys, this.order);
    outExtras.clear();
    const cols: RecordColumns = { nums: outNums, dens: outDens, flags: outFlags, extras: outExtras };
    let m = 0;
    for (let j = 0; j < n; j++) {
      const i = idx[j]!;
      const fl = inFlags[i]!;
      const x = fl & F_EXTRAS ? inExtras.get(i) : undefined;
      if (m > 0 && outLines[m - 1] === il[i]) {
        mergeRecord(this.sessionId, cols, m - 1, inNums[i]!, inDens[i]!, fl & F_TYPE, x, this.enc);
        continue;
      }
      outLines[m] = il[i]!;
      outNums[m] = inNums[i]!;
      outDens[m] = inDens[i]!;
      outFlags[m] = fl;
      if (x !== undefined) outExtras.set(m, x);
      m++;
    }
    inExtras.clear();
    return m;
  }

  /**
   * Sorts and merges a run of one file in a chunk in place, and its extras map (keyed by index in
   * the run); returns the run's new length.
   */
  sortRun(chunk: Chunk, start: number, n: number, extras: Map<number, LineExtras> | null): number {
    this.reserve(n);
    this.loadIn(chunk, start, n, extras, 0);
    const m = this.sortMerge(n);
    chunk.lines.set(this.outLines.subarray(0, m), start);
    chunk.nums.set(this.outNums.subarray(0, m), start);
    // Uniform columns stay uniform: merging hit counts of plain lines gives a plain hit count.
    chunk.dens?.set(this.outDens.subarray(0, m), start);
    chunk.flags?.set(this.outFlags.subarray(0, m), start);
    if (extras !== null) {
      extras.clear();
      for (const [k, x] of this.outExtras) extras.set(k, x);
    }
    this.outExtras.clear();
    return m;
  }

  /**
   * A file with several segments: concatenates them in arrival order and, when the lines are not
   * strictly increasing, sorts and merges them; the columns are carved from the report's slab.
   */
  gather(acc: FileAccumulator, uniform: UniformColumns, slab: ColumnSlab): FileColumns {
    this.reserve(acc.count);
    let n = 0;
    const first: Segment = { chunk: acc.chunk!, start: acc.segStart, length: acc.segLength, extras: acc.segExtras };
    const segs = acc.more === null ? [first] : [first, ...acc.more];
    for (const { chunk, start, length, extras } of segs) {
      this.loadIn(chunk, start, length, extras, n);
      n += length;
    }
    let srcLines = this.inLines;
    let srcNums = this.inNums;
    let srcDens = this.inDens;
    let srcFlags = this.inFlags;
    let srcExtras = this.inExtras;
    let m = n;
    if (!isStrictlyIncreasing(this.inLines, 0, n)) {
      m = this.sortMerge(n);
      srcLines = this.outLines;
      srcNums = this.outNums;
      srcDens = this.outDens;
      srcFlags = this.outFlags;
      srcExtras = this.outExtras;
    }
    const lines = slab.u32(m);
    lines.set(srcLines.subarray(0, m));
    const nums = slab.f64(m);
    nums.set(srcNums.subarray(0, m));
    let dens: Int32Array;
    if (allEqual(srcDens, 0, m, D_INT)) dens = uniform.dens(m);
    else (dens = slab.i32(m)).set(srcDens.subarray(0, m));
    let flags: Uint8Array;
    if (allEqual(srcFlags, 0, m, 0)) flags = uniform.flags(m);
    else (flags = slab.u8(m)).set(srcFlags.subarray(0, m));
    const extras = srcExtras.size > 0 ? packExtras([srcExtras])[0]! : NO_EXTRAS;
    this.inExtras.clear();
    this.outExtras.clear();
    return { lines, offsets: uniform.offsets(m), sessionIds: uniform.sessionIds(m), nums, dens, flags, extras };
  }
}

export function allEqual(a: Int32Array | Uint8Array, start: number, n: number, v: number): boolean {
  for (let i = start; i < start + n; i++) if (a[i] !== v) return false;
  return true;
}

function isStrictlyIncreasing(a: Uint32Array, from: number, to: number): boolean {
  for (let i = from + 1; i < to; i++) if (a[i]! <= a[i - 1]!) return false;
  return true;
}
