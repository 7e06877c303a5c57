/**
 * Merging reports = the union of their sessions. Every line keeps one entry per session, sorted
 * by session id, and its value is re-derived from them, so the result is the same whatever the
 * input order or the shape of the merge tree (serial, parallel, pairwise, all at once).
 *
 * A file present in one input only is shared as is (files are immutable). Otherwise its columns
 * are rebuilt in one pass: union of line numbers, counts, prefix sums, scatter; inputs are visited
 * in order of their smallest session id, so the per-line session order is usually right already
 * and the fix-up sort only runs where sessions of different inputs interleave. Output columns come
 * from one slab per merge and temporaries from reused scratch buffers: with thousands of files,
 * per-file allocations otherwise dominate the time (mostly in garbage collection).
 */
import { ColumnSlab, ColumnWriter, FLAG_EXTRAS, NO_EXTRAS, type FileColumns } from './columns';
import { CoverageReport, type Session } from './report';
import { FileCoverage } from './file-coverage';
import type { LineExtras } from './types';

/** Inputs that cannot be merged (the same session in two inputs). */
export class ReportMergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportMergeError';
  }
}

// Module-local copies: in CommonJS output each use of an imported binding is a property read (a
// getter call under tsx), which shows in the per-entry loops.
const EXTRAS = FLAG_EXTRAS;

export function mergeReports(reports: readonly CoverageReport[]): CoverageReport {
  if (reports.length === 1) return reports[0]!;
  const sessions = new Map<number, Session>();
  for (const r of reports) {
    for (const s of r.sessions) {
      if (sessions.has(s.id)) throw new ReportMergeError(`session ${s.id} appears in more than one report`);
      sessions.set(s.id, s);
    }
  }
  const byPath = new Map<string, FileCoverage[]>();
  for (const r of reports) {
    for (const f of r.files.values()) {
      const list = byPath.get(f.path);
      if (list === undefined) byPath.set(f.path, [f]);
      else list.push(f);
    }
  }
  const slab = new ColumnSlab();
  const files: FileCoverage[] = [];
  for (const [path, list] of byPath) files.push(list.length === 1 ? list[0]! : mergeFiles(path, list, slab));
  return new CoverageReport(files, sessions.values());
}

/** Scratch buffers reused across files (merging is synchronous, so sharing is safe). */
let scratchLines = new Uint32Array(1024);
let scratchWhere = new Uint32Array(1024);
let scratchUnionA = new Uint32Array(1024);
let scratchUnionB = new Uint32Array(1024);

/**
 * Sorted union of the inputs' line numbers. Versions of one file usually list the same lines, so
 * a running two-way union that skips inputs equal to it costs one comparison pass per input.
 */
function unionLines(inputs: readonly FileCoverage[], slab: ColumnSlab): Uint32Array {
  let cap = 0;
  for (const f of inputs) cap += f.lines.length;
  if (scratchUnionA.length < cap) scratchUnionA = new Uint32Array(cap * 2);
  if (scratchUnionB.length < cap) scratchUnionB = new Uint32Array(cap * 2);
  let acc = scratchUnionA;
  let next = scratchUnionB;
  const first = inputs[0]!.lines;
  acc.set(first);
  let n = first.length;
  for (let q = 1; q < inputs.length; q++) {
    const b = inputs[q]!.lines;
    const m = b.length;
    if (m === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (acc[i] !== b[i]) {
          same = false;
          break;
        }
      }
      if (same) continue;
    }
    let i = 0;
    let j = 0;
    let o = 0;
    while (i < n && j < m) {
      const x = acc[i]!;
      const y = b[j]!;
      if (x < y) {
        next[o++] = x;
        i++;
      } else if (y < x) {
        next[o++] = y;
        j++;
      } else {
        next[o++] = x;
        i++;
        j++;
      }
    }
    while (i < n) next[o++] = acc[i++]!;
    while (j < m) next[o++] = b[j++]!;
    const t = acc;
    acc = next;
    next = t;
    n = o;
  }
  const out = slab.u32(n);
  out.set(acc.subarray(0, n));
  return out;
}

/** Merges versions of one file whose session sets are disjoint. */
export function mergeFiles(path: string, inputs: readonly FileCoverage[], slab = new ColumnSlab()): FileCoverage {
  const ordered = inputs
    .map((f) => ({ f, min: minSession(f) }))
    .sort((a, b) => a.min - b.min)
    .map((x) => x.f);

  let total = 0;
  let totalEntries = 0;
  let anyExtras = false;
  for (const f of ordered) {
    total += f.lines.length;
    totalEntries += f.sessionIds.length;
    if (f.extras.size > 0) anyExtras = true;
  }
  // Union of line numbers.
  const lines = unionLines(ordered, slab);
  const u = lines.length;

  // Where each input line lands in the union (scratchWhere, input after input); entries per line.
  const offsets = slab.u32(u + 1);
  offsets.fill(0);
  if (scratchWhere.length < total) scratchWhere = new Uint32Array(total * 2);
  const where = scratchWhere;
  let p = 0;
  for (const f of ordered) {
    const fl = f.lines;
    const fo = f.offsets;
    const n = fl.length;
    let j = 0;
    for (let i = 0; i < n; i++, p++) {
      const ln = fl[i]!;
      while (lines[j]! < ln) j++;
      where[p] = j;
      offsets[j + 1] = offsets[j + 1]! + fo[i + 1]! - fo[i]!;
    }
  }
  for (let i = 0; i < u; i++) offsets[i + 1] = offsets[i + 1]! + offsets[i]!;

  // Scatter entries; `cursor` holds the next free slot per union line.
  if (scratchLines.length < u) scratchLines = new Uint32Array(u * 2);
  const cursor = scratchLines.subarray(0, u);
  cursor.set(offsets.subarray(0, u));
  const sessionIds = slab.u32(totalEntries);
  const nums = slab.f64(totalEntries);
  const dens = slab.i32(totalEntries);
  const flags = slab.u8(totalEntries);
  const extras = anyExtras ? new Map<number, LineExtras>() : undefined;
  p = 0;
  for (const f of ordered) {
    const fo = f.offsets;
    const fs = f.sessionIds;
    const fn = f.nums;
    const fd = f.dens;
    const ff = f.flags;
    const fx = f.extras;
    const n = f.lines.length;
    for (let i = 0; i < n; i++, p++) {
      const w = where[p]!;
      let c = cursor[w]!;
      const end = fo[i + 1]!;
      for (let k = fo[i]!; k < end; k++, c++) {
        sessionIds[c] = fs[k]!;
        nums[c] = fn[k]!;
        dens[c] = fd[k]!;
        const flag = ff[k]!;
        flags[c] = flag;
        if (flag & EXTRAS) extras!.set(c, fx.get(k)!);
      }
      cursor[w] = c;
    }
  }

  const cols: FileColumns = { lines, offsets, sessionIds, nums, dens, flags, extras: extras ?? NO_EXTRAS };
  for (let i = 0; i < u; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    for (let k = start + 1; k < end; k++) {
      if (sessionIds[k]! <= sessionIds[k - 1]!) {
        sortSegment(cols, extras, start, end, path, lines[i]!);
        break;
      }
    }
  }
  return new FileCoverage(path, cols, slab);
}

function minSession(f: FileCoverage): number {
  let m = Infinity;
  const s = f.sessionIds;
  for (let k = 0; k < s.length; k++) if (s[k]! < m) m = s[k]!;
  return m;
}

/** Sorts entries [start, end) by session id, moving every column and the extras with them. */
function sortSegment(
  cols: FileColumns,
  extras: Map<number, LineExtras> | undefined,
  start: number,
  end: number,
  path: string,
  line: number,
): void {
  const idx: number[] = [];
  for (let k = start; k < end; k++) idx.push(k);
  idx.sort((a, b) => cols.sessionIds[a]! - cols.sessionIds[b]!);
  for (let j = 1; j < idx.length; j++) {
    if (cols.sessionIds[idx[j]!] === cols.sessionIds[idx[j - 1]!]) {
      throw new ReportMergeError(`session ${cols.sessionIds[idx[j]!]} has two entries for ${path}:${line}`);
    }
  }
  const sid = idx.map((k) => cols.sessionIds[k]!);
  const num = idx.map((k) => cols.nums[k]!);
  const den = idx.map((k) => cols.dens[k]!);
  const fl = idx.map((k) => cols.flags[k]!);
  const ex = idx.map((k) => (cols.flags[k]! & EXTRAS ? extras?.get(k) : undefined));
  for (let j = 0; j < idx.length; j++) {
    const k = start + j;
    cols.sessionIds[k] = sid[j]!;
    cols.nums[k] = num[j]!;
    cols.dens[k] = den[j]!;
    cols.flags[k] = fl[j]!;
    const x = ex[j];
    if (x === undefined) extras?.delete(k);
    else extras!.set(k, x);
  }
}

/** Restricts a report to some of its sessions (e.g. to drop a failed upload); files left empty go. */
export function filterSessions(report: CoverageReport, keep: (s: Session) => boolean): CoverageReport {
  const kept = report.sessions.filter(keep);
  const ids = new Set(kept.map((s) => s.id));
  const files: FileCoverage[] = [];
  for (const f of report) {
    const w = new ColumnWriter(f.lineCount, f.entryCount);
    let any = false;
    for (let i = 0; i < f.lineCount; i++) {
      let started = false;
      for (let k = f.offsets[i]!; k < f.offsets[i + 1]!; k++) {
        if (!ids.has(f.sessionIds[k]!)) continue;
        if (!started) {
          w.startLine(f.lines[i]!);
          started = true;
          any = true;
        }
        w.push(f.sessionIds[k]!, f.nums[k]!, f.dens[k]!, f.flags[k]!, f.flags[k]! & FLAG_EXTRAS ? f.extras.get(k) : undefined);
      }
    }
    if (any) files.push(new FileCoverage(f.path, w.finish()));
  }
  return new CoverageReport(files, kept);
}
