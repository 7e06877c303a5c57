/**
 * Builds the report of one session (one upload) from a parser's sink calls.
 *
 * Every file appends to one session-wide log of typed columns (file, line, value, flags), so a
 * report of many small files costs a handful of doubling allocations rather than several arrays
 * per file. A repeated line merges in place when it follows the previous record of its file;
 * `finish()` groups the log by file with a stable counting sort and only sorts the files whose
 * lines arrived out of order, merging repeats in arrival order. The sink takes ownership of the
 * arrays in `extras` (parsers pass fresh ones).
 */
import { ReportParseError } from './errors';
import { resolveLimits, type ParseLimits } from './limits';
import {
  ColumnSlab,
  CoverageReport,
  FLAG_EXTRAS,
  FLAG_TYPE_MASK,
  FileCoverage,
  NO_EXTRAS,
  hasExtras,
  type FileColumns,
  type SessionMeta,
} from './report';
import type { CoverageSink, FileSink, LineExtras, LineType, LineValue, PathResolver } from './types';
import {
  DEN_INT,
  decodeValue,
  encodeValue,
  mergeEncoded,
  mergeSessionEntries,
  typeCode,
  typeName,
  type EncodedValue,
  type SessionEntry,
} from './values';

export interface SessionBuilderOptions {
  sessionId: number;
  session: SessionMeta;
  /** Maps raw report paths to repository paths; identity when absent. */
  resolver?: PathResolver;
  limits?: Partial<ParseLimits>;
}

export interface SessionBuilder {
  readonly sink: CoverageSink;
  /** The session's report; files without any line are left out. Idempotent. */
  finish(): CoverageReport;
  /** Distinct raw paths the resolver dropped so far. */
  readonly dropped: number;
}

const MAX_U32 = 0xffffffff;

// Local bindings for the per-line path: in CommonJS output each use of an imported binding is a
// property read (a getter call under tsx).
const encode = encodeValue;
const typeOf = typeCode;
const mergeEnc = mergeEncoded;
const hasAnyExtras = hasExtras;
const F_EXTRAS = FLAG_EXTRAS;
const F_TYPE = FLAG_TYPE_MASK;
const D_INT = DEN_INT;

interface BuilderContext {
  readonly sessionId: number;
  readonly fileName: string;
  readonly format: string;
  /** Hit counts above this are clamped; they only ever mean "hit". */
  readonly maxHits: number;
  readonly maxLineNumber: number;
}

export function createSessionBuilder(options: SessionBuilderOptions): SessionBuilder {
  const { sessionId, session, resolver } = options;
  if (!Number.isSafeInteger(sessionId) || sessionId < 0 || sessionId > MAX_U32) {
    throw new RangeError(`invalid session id ${sessionId}`);
  }
  const limits = resolveLimits(options.limits);
  const ctx: BuilderContext = {
    sessionId,
    fileName: session.file ?? session.name ?? '<input>',
    format: session.format ?? 'unknown',
    maxHits: limits.maxHits,
    maxLineNumber: Math.min(limits.maxLineNumber, MAX_U32),
  };

  const log = new SessionLog();
  const byRawPath = new Map<string, FileAccumulator | null>();
  const byPath = new Map<string, FileAccumulator>();
  let dropped = 0;
  let report: CoverageReport | undefined;

  const sink: CoverageSink = {
    file(rawPath: string): FileSink | null {
      const known = byRawPath.get(rawPath);
      if (known !== undefined) return known;
      if (report !== undefined) throw new Error('session builder already finished');
      // Dropped paths count too: a report of a million unresolvable paths is still too big.
      if (byRawPath.size >= limits.maxFiles) {
        throw new ReportParseError({
          code: 'limit_exceeded',
          file: ctx.fileName,
          format: ctx.format,
          reason: `more than ${limits.maxFiles} files in the report`,
          limit: 'maxFiles',
        });
      }
      const path = resolver ? resolver.resolve(rawPath) : rawPath;
      if (path === null) {
        dropped++;
        byRawPath.set(rawPath, null);
        return null;
      }
      let acc = byPath.get(path);
      if (acc === undefined) byPath.set(path, (acc = new FileAccumulator(ctx, log, byPath.size)));
      byRawPath.set(rawPath, acc);
      return acc;
    },
    sourceBases(bases: string[]): void {
      resolver?.setSourceBases?.(bases);
    },
  };

  return {
    sink,
    finish(): CoverageReport {
      if (report === undefined) {
        report = new CoverageReport(buildFiles(ctx, log, [...byPath]), [{ ...session, id: sessionId }]);
      }
      return report;
    },
    get dropped(): number {
      return dropped;
    },
  };
}

/** All records of the session in arrival order, column-wise. */
class SessionLog {
  files = new Uint32Array(1024);
  lines = new Uint32Array(1024);
  nums = new Float64Array(1024);
  dens = new Int32Array(1024);
  flags = new Uint8Array(1024);
  readonly extras = new Map<number, LineExtras>();
  count = 0;

  grow(): void {
    const n = this.lines.length * 2;
    const files = new Uint32Array(n);
    files.set(this.files);
    this.files = files;
    const lines = new Uint32Array(n);
    lines.set(this.lines);
    this.lines = lines;
    const nums = new Float64Array(n);
    nums.set(this.nums);
    this.nums = nums;
    const dens = new Int32Array(n);
    dens.set(this.dens);
    this.dens = dens;
    const flags = new Uint8Array(n);
    flags.set(this.flags);
    this.flags = flags;
  }
}

/** The sink of one file: appends to the session log, remembering its last record. */
class FileAccumulator implements FileSink {
  /** Log index of this file's last record, -1 before the first. */
  last = -1;
  /** Whether this file's lines arrived strictly increasing (no sort needed). */
  sorted = true;
  records = 0;
  private readonly enc: EncodedValue = { num: 0, den: 0 };

  constructor(
    private readonly ctx: BuilderContext,
    private readonly log: SessionLog,
    readonly index: number,
  ) {}

  line(lineNumber: number, value: LineValue, type?: LineType, extras?: LineExtras): void {
    const ctx = this.ctx;
    const log = this.log;
    const last = this.last;
    // Fast path for the bulk of every report: a valid hit count on a later line, no extras.
    // `>>> 0` equality accepts exactly the integers 0 .. 2^32-1 (not NaN, fractions, negatives).
    if (
      typeof value === 'number' &&
      extras === undefined &&
      lineNumber >>> 0 === lineNumber &&
      lineNumber >= 1 &&
      lineNumber <= ctx.maxLineNumber &&
      (last < 0 || lineNumber > log.lines[last]!) &&
      Number.isSafeInteger(value) &&
      value >= -1
    ) {
      const n = log.count;
      if (n === log.lines.length) log.grow();
      log.files[n] = this.index;
      log.lines[n] = lineNumber;
      log.nums[n] = value > ctx.maxHits ? ctx.maxHits : value;
      log.dens[n] = D_INT;
      log.flags[n] = type === undefined ? 0 : typeOf(type);
      log.count = n + 1;
      this.last = n;
      this.records++;
      return;
    }
    this.slowLine(lineNumber, value, type, extras);
  }

  private slowLine(lineNumber: number, value: LineValue, type?: LineType, extras?: LineExtras): void {
    const ctx = this.ctx;
    const log = this.log;
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
    const enc = this.enc;
    const err = encode(value, enc);
    if (err !== null) throw this.error('invalid_number', `line ${lineNumber}: ${err}`);
    if (enc.num > ctx.maxHits) enc.num = ctx.maxHits;
    const t = typeOf(type);
    const x = extras !== undefined && hasAnyExtras(extras) ? extras : undefined;
    if (x !== undefined) {
      const bad = invalidExtras(x);
      if (bad !== null) throw this.error('invalid_number', `line ${lineNumber}: ${bad}`);
    }

    const last = this.last;
    if (last >= 0) {
      const prev = log.lines[last]!;
      if (lineNumber === prev) {
        mergeRecord(ctx.sessionId, log, last, enc.num, enc.den, t, x, enc);
        return;
      }
      if (lineNumber < prev) this.sorted = false;
    }
    const n = log.count;
    if (n === log.lines.length) log.grow();
    log.files[n] = this.index;
    log.lines[n] = lineNumber;
    log.nums[n] = enc.num;
    log.dens[n] = enc.den;
    log.flags[n] = x === undefined ? t : t | F_EXTRAS;
    if (x !== undefined) log.extras.set(n, x);
    log.count = n + 1;
    this.last = n;
    this.records++;
  }

  private error(code: 'invalid_number' | 'limit_exceeded', reason: string, limit?: string): ReportParseError {
    return new ReportParseError({ code, file: this.ctx.fileName, format: this.ctx.format, reason, limit });
  }
}

/** Record columns a merge can write to: the log, or a file's output columns. */
interface RecordColumns {
  nums: Float64Array;
  dens: Int32Array;
  flags: Uint8Array;
  extras: Map<number, LineExtras>;
}

/** Merges a repeated record of one line (same session) into record k, with the in-session rule. */
function mergeRecord(
  sessionId: number,
  cols: RecordColumns,
  k: number,
  num: number,
  den: number,
  t: number,
  x: LineExtras | undefined,
  scratch: EncodedValue,
): void {
  const oldFlags = cols.flags[k]!;
  if (x === undefined && !(oldFlags & F_EXTRAS)) {
    mergeEnc(cols.nums[k]!, cols.dens[k]!, num, den, undefined, scratch);
    cols.nums[k] = scratch.num;
    cols.dens[k] = scratch.den;
    if ((oldFlags & F_TYPE) === 0) cols.flags[k] = t;
    return;
  }
  const before = toEntry(sessionId, cols.nums[k]!, cols.dens[k]!, oldFlags & F_TYPE, oldFlags & F_EXTRAS ? cols.extras.get(k) : undefined);
  const merged = mergeSessionEntries(before, toEntry(sessionId, num, den, t, x));
  const err = encode(merged.value, scratch);
  if (err !== null) throw new RangeError(err);
  cols.nums[k] = scratch.num;
  cols.dens[k] = scratch.den;
  const mx = extrasOf(merged);
  const mt = typeOf(merged.type);
  if (mx === undefined) {
    cols.flags[k] = mt;
    cols.extras.delete(k);
  } else {
    cols.flags[k] = mt | F_EXTRAS;
    cols.extras.set(k, mx);
  }
}

/** Groups the log by file (stable) and writes each file's canonical columns. */
function buildFiles(ctx: BuilderContext, log: SessionLog, files: Array<[string, FileAccumulator]>): FileCoverage[] {
  const nFiles = files.length;
  const n = log.count;
  const starts = new Uint32Array(nFiles + 1);
  for (let i = 0; i < n; i++) starts[log.files[i]! + 1]!++;
  for (let f = 0; f < nFiles; f++) starts[f + 1] = starts[f + 1]! + starts[f]!;
  const order = new Uint32Array(n);
  const cursor = starts.slice(0, nFiles);
  for (let i = 0; i < n; i++) order[cursor[log.files[i]!]!++] = i;

  const slab = new ColumnSlab();
  const out: FileCoverage[] = [];
  const scratch: EncodedValue = { num: 0, den: 0 };
  for (const [path, acc] of files) {
    const from = starts[acc.index]!;
    const to = starts[acc.index + 1]!;
    if (to === from) continue;
    const idx = order.subarray(from, to);
    if (!acc.sorted) {
      // Stable: equal lines keep arrival order, so repeats merge in the order they came.
      const lines = log.lines;
      const sortedIdx = Array.from(idx).sort((a, b) => lines[a]! - lines[b]! || a - b);
      idx.set(sortedIdx);
    }
    out.push(new FileCoverage(path, gather(ctx.sessionId, log, idx, slab, scratch), slab));
  }
  return out;
}

/** Copies the records `idx` (sorted by line) into file columns, merging equal lines. */
function gather(sessionId: number, log: SessionLog, idx: Uint32Array, slab: ColumnSlab, scratch: EncodedValue): FileColumns {
  const cap = idx.length;
  const first = idx[0]!;
  if (idx[cap - 1]! - first === cap - 1 && isStrictlyIncreasing(log.lines, first, first + cap)) {
    return copyRun(sessionId, log, first, cap, slab);
  }
  const lines = slab.u32(cap);
  const nums = slab.f64(cap);
  const dens = slab.i32(cap);
  const flags = slab.u8(cap);
  const extras = new Map<number, LineExtras>();
  const cols: RecordColumns = { nums, dens, flags, extras };
  let m = 0;
  for (let j = 0; j < cap; j++) {
    const i = idx[j]!;
    const fl = log.flags[i]!;
    const x = fl & F_EXTRAS ? log.extras.get(i) : undefined;
    if (m > 0 && lines[m - 1] === log.lines[i]) {
      mergeRecord(sessionId, cols, m - 1, log.nums[i]!, log.dens[i]!, fl & F_TYPE, x, scratch);
      continue;
    }
    lines[m] = log.lines[i]!;
    nums[m] = log.nums[i]!;
    dens[m] = log.dens[i]!;
    flags[m] = fl;
    if (x !== undefined) extras.set(m, x);
    m++;
  }
  const offsets = slab.u32(m + 1);
  for (let i = 0; i <= m; i++) offsets[i] = i;
  const sessionIds = slab.u32(m);
  sessionIds.fill(sessionId);
  return {
    lines: m === cap ? lines : lines.subarray(0, m),
    offsets,
    sessionIds,
    nums: m === cap ? nums : nums.subarray(0, m),
    dens: m === cap ? dens : dens.subarray(0, m),
    flags: m === cap ? flags : flags.subarray(0, m),
    extras: extras.size > 0 ? extras : NO_EXTRAS,
  };
}

function isStrictlyIncreasing(a: Uint32Array, from: number, to: number): boolean {
  for (let i = from + 1; i < to; i++) if (a[i]! <= a[i - 1]!) return false;
  return true;
}

/** The common case: a file's records are one sorted run of the log, so block copies do. */
function copyRun(sessionId: number, log: SessionLog, first: number, n: number, slab: ColumnSlab): FileColumns {
  const end = first + n;
  const lines = slab.u32(n);
  lines.set(log.lines.subarray(first, end));
  const nums = slab.f64(n);
  nums.set(log.nums.subarray(first, end));
  const dens = slab.i32(n);
  dens.set(log.dens.subarray(first, end));
  const flags = slab.u8(n);
  flags.set(log.flags.subarray(first, end));
  let extras: Map<number, LineExtras> | undefined;
  if (log.extras.size > 0) {
    for (let i = first; i < end; i++) {
      if (flags[i - first]! & F_EXTRAS) (extras ??= new Map()).set(i - first, log.extras.get(i)!);
    }
  }
  const offsets = slab.u32(n + 1);
  for (let i = 0; i <= n; i++) offsets[i] = i;
  const sessionIds = slab.u32(n);
  sessionIds.fill(sessionId);
  return { lines, offsets, sessionIds, nums, dens, flags, extras: extras ?? NO_EXTRAS };
}

function toEntry(sessionId: number, num: number, den: number, t: number, x: LineExtras | undefined): SessionEntry {
  const e: SessionEntry = { sessionId, value: decodeValue(num, den) };
  if (t !== 0) e.type = typeName(t);
  if (x?.missingBranches !== undefined) e.missingBranches = x.missingBranches;
  if (x?.partials !== undefined) e.partials = x.partials;
  if (x?.complexity !== undefined) e.complexity = x.complexity;
  return e;
}

function extrasOf(e: SessionEntry): LineExtras | undefined {
  const x: LineExtras = {};
  if (e.missingBranches !== undefined) x.missingBranches = e.missingBranches;
  if (e.partials !== undefined) x.partials = e.partials;
  if (e.complexity !== undefined) x.complexity = e.complexity;
  return hasAnyExtras(x) ? x : undefined;
}

function isCount(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Why extras cannot be stored (columns and hits must be non-negative integers), or null. */
function invalidExtras(x: LineExtras): string | null {
  if (x.missingBranches !== undefined) {
    if (!Array.isArray(x.missingBranches) || !x.missingBranches.every((b) => typeof b === 'string')) {
      return 'missing branches must be strings';
    }
  }
  if (x.partials !== undefined) {
    if (!Array.isArray(x.partials)) return 'partials must be a list';
    for (const p of x.partials) {
      if (!Array.isArray(p) || p.length !== 3) return 'a partial span must be [start, end, hits]';
      if ((p[0] !== null && !isCount(p[0])) || (p[1] !== null && !isCount(p[1])) || !isCount(p[2])) {
        return `partial span ${JSON.stringify(p)} is not non-negative integers`;
      }
    }
  }
  const c = x.complexity;
  if (c !== undefined && !isCount(c) && !(Array.isArray(c) && c.length === 2 && isCount(c[0]) && isCount(c[1]))) {
    return `complexity ${JSON.stringify(c)} is not a count or [covered, total]`;
  }
  return null;
}
