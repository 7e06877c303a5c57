/**
 * Builds the report of one session (one upload) from a parser's sink calls.
 *
 * Every file appends to one session-wide log of typed columns (file, line, value, flags). The log
 * is a bounded scratch: it grows geometrically up to a chunk of records, and when full it is
 * sealed into one exactly sized chunk grouped by file (a stable counting sort; a plain copy when
 * the parser delivered each file's lines together, as they all do), each file keeping the
 * segments it has in the chunks. Peak memory is then the finished report plus one chunk, not a
 * doubling log plus the report copied out of it.
 *
 * A repeated line merges in place while its previous record is in the log. A file whose first
 * run is out of order is sorted (stable, so repeats merge in arrival order) when it is sealed, so
 * `finish()` makes the report's columns views of the chunks for nearly every file, and only
 * concatenates, sorts and merges the files spread over several chunks. Columns that depend only
 * on a file's length (offsets and session ids of one session, all-hit-count denominators, plain
 * flags) are views shared by all files, and chunks store no denominators or flags when they are
 * uniform. Common extras are shared by content, and a file's extras are packed into typed keys.
 * The sink takes ownership of the arrays in `extras` (parsers pass fresh ones).
 */
import { ReportParseError } from './errors';
import { MemoryBudget, resolveLimits, type ParseLimits } from './limits';
import {
  ColumnSlab,
  CoverageReport,
  FLAG_EXTRAS,
  FLAG_TYPE_MASK,
  FileCoverage,
  NO_EXTRAS,
  hasExtras,
  resized,
  type FileColumns,
  type SessionMeta,
} from './report';
import type { CoverageSink, FileSink, Generator, LineExtras, LineType, LineValue, PathResolver } from './types';
import {
  DEN_INT,
  branchScheme,
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
  /** The parse's memory estimate (`parseReport` shares one with the parser); else its own. */
  budget?: MemoryBudget;
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
  return createChunkedSessionBuilder(options, LOG_CHUNK);
}

/**
 * `createSessionBuilder` with the number of records the log holds before it is sealed into
 * per-file segments. Internal: tests use small values to cross many seals.
 */
export function createChunkedSessionBuilder(options: SessionBuilderOptions, logChunk: number): SessionBuilder {
  const { sessionId, session, resolver } = options;
  if (!Number.isSafeInteger(sessionId) || sessionId < 0 || sessionId > MAX_U32) {
    throw new RangeError(`invalid session id ${sessionId}`);
  }
  if (!Number.isSafeInteger(logChunk) || logChunk < 1) throw new RangeError(`invalid log chunk ${logChunk}`);
  const limits = resolveLimits(options.limits);
  const ctx: BuilderContext = {
    sessionId,
    fileName: session.file ?? session.name ?? '<input>',
    format: session.format ?? 'unknown',
    maxHits: limits.maxHits,
    maxLineNumber: Math.min(limits.maxLineNumber, MAX_U32),
  };

  const budget = options.budget ?? new MemoryBudget(limits.maxMemoryBytes, ctx.fileName, ctx.format);
  const state = new BuilderState(sessionId, logChunk, budget);
  // Without a format (tests building sessions by hand) ids stay unnamed, like version-1 reports'.
  if (session.format !== undefined) state.setScheme(branchScheme(session.format));
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
      budget.charge(path === null ? MAP_ENTRY_BYTES + 2 * rawPath.length : FILE_BYTES + 2 * (rawPath.length + path.length), 'a file');
      if (path === null) {
        dropped++;
        byRawPath.set(rawPath, null);
        return null;
      }
      // Without a resolver every raw path is its own path: one map lookup per new file, not two.
      let acc = resolver ? byPath.get(path) : undefined;
      if (acc === undefined) {
        acc = new FileAccumulator(ctx, state, state.accs.length, path);
        state.accs.push(acc);
        if (resolver) byPath.set(path, acc);
      }
      byRawPath.set(rawPath, acc);
      return acc;
    },
    sourceBases(bases: string[]): void {
      resolver?.setSourceBases?.(bases);
    },
    generator(name: Generator): void {
      state.setScheme(branchScheme(ctx.format, name));
    },
  };

  return {
    sink,
    finish(): CoverageReport {
      if (report === undefined) {
        state.seal();
        // A file spread over several chunks is concatenated into a slab while its chunks live.
        let spread = 0;
        for (const acc of state.accs) if (acc.more !== null) spread += acc.count;
        if (spread > 0) budget.charge(spread * RECORD_BYTES, 'joining files spread over chunks');
        report = new CoverageReport(buildFiles(ctx, state), [{ ...session, id: sessionId }]);
        // The report's columns are views of the sealed chunks; the builder keeps nothing else, so
        // a caller holding the builder after finish() does not hold the log or the segment lists.
        state.release();
      }
      return report;
    },
    get dropped(): number {
      return dropped;
    },
  };
}

/** Records kept in the log before it is sealed (about 1.4 MB of columns). */
const LOG_CHUNK = 1 << 16;
/** First size of the log, so a small report does not pay for a whole chunk. */
const LOG_START = 256;

/**
 * Memory estimates charged to the budget: a record's columns (line 4, value 8, denominator 4,
 * flags 1, offset and session views rounded in), an extras entry (packed key and value, the
 * objects of partials), a file (accumulator, report file, column views, map entries), a dropped
 * path's map entry; strings at two bytes a character.
 */
const RECORD_BYTES = 20;
const EXTRAS_BYTES = 96;
const FILE_BYTES = 640;
const MAP_ENTRY_BYTES = 80;

/** Distinct extras shared per builder (as many as the report reader's cache keeps). */
const EXTRAS_CACHE_LIMIT = 65536;

/** The most recent records of the session in arrival order, column-wise; a bounded scratch. */
class SessionLog {
  files: Uint32Array;
  lines: Uint32Array;
  nums: Float64Array;
  dens: Int32Array;
  flags: Uint8Array;
  extras = new Map<number, LineExtras>();
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
 * Records of one sealed log, grouped by file (stable), exactly sized. Columns that are uniform
 * across the chunk (every value a hit count, every line a plain line) are not stored.
 */
interface Chunk {
  readonly lines: Uint32Array;
  readonly nums: Float64Array;
  /** null: every record is a hit count (DEN_INT). */
  readonly dens: Int32Array | null;
  /** null: every flag is 0. */
  readonly flags: Uint8Array | null;
}

/** A run of one file's records in a chunk. */
interface Segment {
  readonly chunk: Chunk;
  readonly start: number;
  readonly length: number;
  /**
   * Keyed by index in the run, null when no record has extras: for a file of one segment this
   * is its extras map as is.
   */
  readonly extras: PackedExtras | null;
}

/**
 * The extras of one file: sorted keys in a typed array and the values beside them, both shared
 * by the files of a chunk, so an entry costs 12 bytes where a Map takes about 50 (LCOV reports
 * have one on every partly covered branch line). Read-only, like every file column; consumers
 * use `get` and `size`, the iterators go through a Map built on demand.
 */
class PackedExtras implements ReadonlyMap<number, LineExtras> {
  constructor(
    private readonly keyCol: Uint32Array,
    private readonly valCol: readonly LineExtras[],
    private readonly from: number,
    private readonly to: number,
  ) {}

  get size(): number {
    return this.to - this.from;
  }

  private find(k: number): number {
    const keys = this.keyCol;
    let lo = this.from;
    let hi = this.to - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = keys[mid]!;
      if (v < k) lo = mid + 1;
      else if (v > k) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  get(k: number): LineExtras | undefined {
    const i = this.find(k);
    return i < 0 ? undefined : this.valCol[i];
  }

  has(k: number): boolean {
    return this.find(k) >= 0;
  }

  forEach(fn: (value: LineExtras, key: number, map: ReadonlyMap<number, LineExtras>) => void, thisArg?: unknown): void {
    for (let i = this.from; i < this.to; i++) fn.call(thisArg, this.valCol[i]!, this.keyCol[i]!, this);
  }

  private toMap(): Map<number, LineExtras> {
    const m = new Map<number, LineExtras>();
    for (let i = this.from; i < this.to; i++) m.set(this.keyCol[i]!, this.valCol[i]!);
    return m;
  }

  entries(): ReturnType<ReadonlyMap<number, LineExtras>['entries']> {
    return this.toMap().entries();
  }

  keys(): ReturnType<ReadonlyMap<number, LineExtras>['keys']> {
    return this.toMap().keys();
  }

  values(): ReturnType<ReadonlyMap<number, LineExtras>['values']> {
    return this.toMap().values();
  }

  [Symbol.iterator](): ReturnType<ReadonlyMap<number, LineExtras>['entries']> {
    return this.toMap().entries();
  }
}

/**
 * Packs the extras maps of several files (keys ascending in each) into one pair of columns; the
 * result has one PackedExtras per map, null for empty ones.
 */
function packExtras(maps: ReadonlyArray<Map<number, LineExtras> | null>): Array<PackedExtras | null> {
  let total = 0;
  for (const m of maps) if (m !== null) total += m.size;
  const keyCol = new Uint32Array(total);
  const valCol = new Array<LineExtras>(total);
  const out: Array<PackedExtras | null> = [];
  let at = 0;
  for (const m of maps) {
    if (m === null || m.size === 0) {
      out.push(null);
      continue;
    }
    const from = at;
    let sorted = true;
    for (const [k, x] of m) {
      if (at > from && k <= keyCol[at - 1]!) sorted = false;
      keyCol[at] = k;
      valCol[at] = x;
      at++;
    }
    if (!sorted) {
      // Insertion order is ascending wherever the builder fills these maps; kept correct anyway.
      const pairs = [...m].sort((a, b) => a[0] - b[0]);
      for (let j = 0; j < pairs.length; j++) {
        keyCol[from + j] = pairs[j]![0];
        valCol[from + j] = pairs[j]![1];
      }
    }
    out.push(new PackedExtras(keyCol, valCol, from, at));
  }
  return out;
}

/** What the sinks of one builder share: the log, and every file's accumulator by index. */
class BuilderState {
  log: SessionLog;
  readonly accs: FileAccumulator[] = [];
  private readonly extrasCache = new Map<string, LineExtras>();
  /** Files seen in the log being sealed, in order of first record (reused across seals). */
  private present = new Uint32Array(64);

  /** The branch-id scheme stamped on every missing-branch list of the session. */
  private scheme: string | undefined;

  /** Scratch of the value being added or merged (sink calls are synchronous). */
  readonly enc: EncodedValue = { num: 0, den: 0 };
  /** Sealing's own scratch: a seal runs while `enc` holds the value about to be appended. */
  private readonly sealEnc: EncodedValue = { num: 0, den: 0 };

  constructor(
    private readonly sessionId: number,
    private readonly chunk: number,
    private readonly budget: MemoryBudget,
  ) {
    this.log = new SessionLog(Math.min(LOG_START, chunk));
  }

  /** Called when the log is full: grow it geometrically up to a chunk, then seal it. */
  makeRoom(): void {
    const cap = this.log.lines.length;
    if (cap < this.chunk) this.log.grow(Math.min(cap * 2, this.chunk));
    else this.seal();
  }

  /**
   * Moves the log's records into one exactly sized chunk grouped by file and appends each file's
   * run to its segments; the log is then empty. Parsers deliver a file's lines together, so the
   * log is usually grouped already and the chunk is a plain copy.
   */
  seal(): void {
    const log = this.log;
    const n = log.count;
    if (n === 0) return;
    // Charged once per chunk, so the per-line path stays free of it.
    this.budget.charge(n * RECORD_BYTES + log.extras.size * EXTRAS_BYTES, 'the report\'s lines');
    const accs = this.accs;
    const files = log.files;
    if (this.present.length < n) this.present = new Uint32Array(Math.max(n, this.present.length * 2));
    const present = this.present;
    let nPresent = 0;
    let grouped = true;
    let runFile = files[0]!;
    let runStart = 0;
    for (let i = 1; i <= n; i++) {
      const f = i < n ? files[i]! : -1;
      if (f === runFile) continue;
      const acc = accs[runFile]!;
      if (acc.pending === 0) present[nPresent++] = runFile;
      else grouped = false;
      acc.pending += i - runStart;
      runFile = f;
      runStart = i;
    }
    let uniformDens = true;
    const dens = log.dens;
    for (let i = 0; i < n; i++) {
      if (dens[i] !== D_INT) {
        uniformDens = false;
        break;
      }
    }
    let plainFlags = true;
    const flags = log.flags;
    for (let i = 0; i < n; i++) {
      if (flags[i] !== 0) {
        plainFlags = false;
        break;
      }
    }

    // Each file's first slot in the chunk, in order of first appearance.
    let at = 0;
    for (let p = 0; p < nPresent; p++) {
      const acc = accs[present[p]!]!;
      acc.start = at;
      acc.cursor = at;
      at += acc.pending;
    }

    let chunk: Chunk;
    if (grouped) {
      chunk = {
        lines: log.lines.slice(0, n),
        nums: log.nums.slice(0, n),
        dens: uniformDens ? null : dens.slice(0, n),
        flags: plainFlags ? null : flags.slice(0, n),
      };
      for (const [i, x] of log.extras) {
        const acc = accs[files[i]!]!;
        (acc.runExtras ??= new Map()).set(i - acc.start, x);
      }
    } else {
      const lines = new Uint32Array(n);
      const nums = new Float64Array(n);
      const outDens = uniformDens ? null : new Int32Array(n);
      const outFlags = plainFlags ? null : new Uint8Array(n);
      const ll = log.lines;
      const ln = log.nums;
      for (let i = 0; i < n; i++) {
        const acc = accs[files[i]!]!;
        const k = acc.cursor++;
        lines[k] = ll[i]!;
        nums[k] = ln[i]!;
        if (outDens !== null) outDens[k] = dens[i]!;
        if (outFlags !== null) {
          const fl = flags[i]!;
          outFlags[k] = fl;
          if (fl & F_EXTRAS) (acc.runExtras ??= new Map()).set(k - acc.start, log.extras.get(i)!);
        }
      }
      chunk = { lines, nums, dens: outDens, flags: outFlags };
    }
    const hadExtras = log.extras.size > 0;
    log.extras.clear();
    for (let p = 0; p < nPresent; p++) {
      const acc = accs[present[p]!]!;
      if (!acc.runSorted) {
        // Sorting now, while the run is the file's whole history, folds its repeats in arrival
        // order as finish() would, and leaves the usual file one sorted segment. A later run
        // of the file is sorted together with this one at finish().
        if (acc.chunk === null) acc.pending = sortRun(this.sessionId, chunk, acc.start, acc.pending, acc.runExtras, this.sealEnc);
        acc.runSorted = true;
      }
    }
    let packed: Array<PackedExtras | null> | undefined;
    if (hadExtras) {
      const maps: Array<Map<number, LineExtras> | null> = [];
      for (let p = 0; p < nPresent; p++) maps.push(accs[present[p]!]!.runExtras);
      packed = packExtras(maps);
    }
    for (let p = 0; p < nPresent; p++) {
      const acc = accs[present[p]!]!;
      acc.addSegment(chunk, acc.start, acc.pending, packed === undefined ? null : packed[p]!);
      acc.runExtras = null;
      acc.pending = 0;
      acc.last = -1;
    }
    log.count = 0;
  }

  /**
   * One shared object per distinct common extras (a missing-branch list of a few ids, a
   * complexity count or pair): reports repeat the same few branch ids on most branch lines, and each
   * object with its array costs ~250 bytes of heap (parsers build the lists with push, which
   * over-allocates). Extras are never mutated once stored (merges build new ones, and reading
   * a stored report shares them the same way), so sharing is safe.
   */
  intern(x: LineExtras): LineExtras {
    const mb = x.missingBranches;
    const c = x.complexity;
    const scheme = this.scheme;
    let key: string;
    if (mb !== undefined && x.partials === undefined && c === undefined && mb.length <= 4) {
      // One id needs no separator; longer lists use JSON, which is unambiguous for any ids.
      key = mb.length === 1 ? `m${mb[0]!}` : `M${JSON.stringify(mb)}`;
    } else if (mb === undefined && x.partials === undefined && typeof c === 'number') {
      key = `c${c}`;
    } else if (mb === undefined && x.partials === undefined && Array.isArray(c)) {
      key = `C${c[0]},${c[1]}`;
    } else {
      return mb === undefined || scheme === undefined ? x : { ...x, branchScheme: scheme };
    }
    const hit = this.extrasCache.get(key);
    if (hit !== undefined) return hit;
    // An exactly sized copy: the caller's array is usually over-allocated by push.
    let stored: LineExtras;
    if (mb === undefined) stored = { complexity: typeof c === 'number' ? c : [c![0], c![1]] };
    else stored = scheme === undefined ? { missingBranches: mb.slice() } : { missingBranches: mb.slice(), branchScheme: scheme };
    if (this.extrasCache.size < EXTRAS_CACHE_LIMIT) this.extrasCache.set(key, stored);
    return stored;
  }

  /** Interned extras carry the scheme, so a new scheme starts a new cache. */
  setScheme(scheme: string): void {
    if (scheme === this.scheme) return;
    this.scheme = scheme;
    this.extrasCache.clear();
  }

  release(): void {
    this.extrasCache.clear();
    this.log = new SessionLog(Math.min(LOG_START, this.chunk));
    this.present = new Uint32Array(64);
    for (const acc of this.accs) acc.clearSegments();
  }
}

/** The sink of one file: appends to the session log, remembering its last record. */
class FileAccumulator implements FileSink {
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
      let log = this.state.log;
      if (log.count === log.lines.length) {
        this.state.makeRoom();
        log = this.state.log;
      }
      const n = log.count;
      log.files[n] = this.index;
      log.lines[n] = lineNumber;
      log.nums[n] = value > ctx.maxHits ? ctx.maxHits : value;
      log.dens[n] = D_INT;
      log.flags[n] = type === undefined ? 0 : typeOf(type);
      log.count = n + 1;
      this.last = n;
      this.lastLine = lineNumber;
      this.count++;
      return;
    }
    this.slowLine(lineNumber, value, type, extras);
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
    if (enc.num > ctx.maxHits) enc.num = ctx.maxHits;
    const t = typeOf(type);
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
        mergeRecord(ctx.sessionId, this.state.log, this.last, enc.num, enc.den, t, x, enc);
        return;
      }
      // A repeat of a sealed record lands in a later segment; finish() merges it in order.
      if (lineNumber <= prev && this.last >= 0) this.runSorted = false;
    }
    let log = this.state.log;
    if (log.count === log.lines.length) {
      this.state.makeRoom();
      log = this.state.log;
    }
    const n = log.count;
    log.files[n] = this.index;
    log.lines[n] = lineNumber;
    log.nums[n] = enc.num;
    log.dens[n] = enc.den;
    log.flags[n] = x === undefined ? t : t | F_EXTRAS;
    if (x !== undefined) log.extras.set(n, x);
    log.count = n + 1;
    this.last = n;
    this.lastLine = lineNumber;
    this.count++;
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

/**
 * Columns whose content depends only on their length (a single-session file's offsets
 * 0..n and session ids, all-hit-count denominators, plain flags): one buffer each per report,
 * and one view per distinct length, shared by every file. Files are never written once built.
 */
class UniformColumns {
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
function buildFiles(ctx: BuilderContext, state: BuilderState): FileCoverage[] {
  let maxLength = 0;
  for (const acc of state.accs) if (acc.count > maxLength) maxLength = acc.count;
  const uniform = new UniformColumns(ctx.sessionId, maxLength);
  const slab = new ColumnSlab();
  const out: FileCoverage[] = [];
  const scratch: EncodedValue = { num: 0, den: 0 };
  for (const acc of state.accs) {
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
      cols = gather(ctx.sessionId, acc, uniform, slab, scratch);
    }
    out.push(new FileCoverage(acc.path, cols));
  }
  return out;
}

/**
 * Scratch for sorting and merging one file's records: `in*` in arrival order, `out*` the result
 * (reused across files; building is synchronous).
 */
let inLines = new Uint32Array(256);
let inNums = new Float64Array(256);
let inDens = new Int32Array(256);
let inFlags = new Uint8Array(256);
let outLines = new Uint32Array(256);
let outNums = new Float64Array(256);
let outDens = new Int32Array(256);
let outFlags = new Uint8Array(256);
let order = new Uint32Array(256);
const inExtras = new Map<number, LineExtras>();
const outExtras = new Map<number, LineExtras>();

function reserve(n: number): void {
  if (inLines.length >= n) return;
  const cap = Math.max(n, inLines.length * 2);
  inLines = new Uint32Array(cap);
  inNums = new Float64Array(cap);
  inDens = new Int32Array(cap);
  inFlags = new Uint8Array(cap);
  outLines = new Uint32Array(cap);
  outNums = new Float64Array(cap);
  outDens = new Int32Array(cap);
  outFlags = new Uint8Array(cap);
  order = new Uint32Array(cap);
}

/** Appends the records of a run (its chunk's [start, start + n), its extras) to `in*` at `at`. */
function loadIn(chunk: Chunk, start: number, n: number, extras: ReadonlyMap<number, LineExtras> | null, at: number): void {
  const end = start + n;
  inLines.set(chunk.lines.subarray(start, end), at);
  inNums.set(chunk.nums.subarray(start, end), at);
  if (chunk.dens === null) inDens.fill(D_INT, at, at + n);
  else inDens.set(chunk.dens.subarray(start, end), at);
  if (chunk.flags === null) inFlags.fill(0, at, at + n);
  else inFlags.set(chunk.flags.subarray(start, end), at);
  extras?.forEach((x, k) => inExtras.set(at + k, x));
}

/**
 * Sorts the `in` records [0, n) by line, stable, so repeats merge in the order they came, and
 * merges equal lines into the `out` scratch; returns the number of lines. Clears `inExtras`.
 */
function sortMerge(sessionId: number, n: number, scratch: EncodedValue): number {
  const idx = order.subarray(0, n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const il = inLines;
  idx.sort((a, b) => il[a]! - il[b]! || a - b);
  outExtras.clear();
  const cols: RecordColumns = { nums: outNums, dens: outDens, flags: outFlags, extras: outExtras };
  let m = 0;
  for (let j = 0; j < n; j++) {
    const i = idx[j]!;
    const fl = inFlags[i]!;
    const x = fl & F_EXTRAS ? inExtras.get(i) : undefined;
    if (m > 0 && outLines[m - 1] === il[i]) {
      mergeRecord(sessionId, cols, m - 1, inNums[i]!, inDens[i]!, fl & F_TYPE, x, scratch);
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
function sortRun(
  sessionId: number,
  chunk: Chunk,
  start: number,
  n: number,
  extras: Map<number, LineExtras> | null,
  scratch: EncodedValue,
): number {
  reserve(n);
  loadIn(chunk, start, n, extras, 0);
  const m = sortMerge(sessionId, n, scratch);
  chunk.lines.set(outLines.subarray(0, m), start);
  chunk.nums.set(outNums.subarray(0, m), start);
  // Uniform columns stay uniform: merging hit counts of plain lines gives a plain hit count.
  chunk.dens?.set(outDens.subarray(0, m), start);
  chunk.flags?.set(outFlags.subarray(0, m), start);
  if (extras !== null) {
    extras.clear();
    for (const [k, x] of outExtras) extras.set(k, x);
  }
  outExtras.clear();
  return m;
}

/**
 * A file with several segments: concatenates them in arrival order and, when the lines are not
 * strictly increasing, sorts and merges them; the columns are carved from the report's slab.
 */
function gather(
  sessionId: number,
  acc: FileAccumulator,
  uniform: UniformColumns,
  slab: ColumnSlab,
  scratch: EncodedValue,
): FileColumns {
  reserve(acc.count);
  let n = 0;
  const first: Segment = { chunk: acc.chunk!, start: acc.segStart, length: acc.segLength, extras: acc.segExtras };
  const segs = acc.more === null ? [first] : [first, ...acc.more];
  for (const { chunk, start, length, extras } of segs) {
    loadIn(chunk, start, length, extras, n);
    n += length;
  }
  let srcLines = inLines;
  let srcNums = inNums;
  let srcDens = inDens;
  let srcFlags = inFlags;
  let srcExtras = inExtras;
  let m = n;
  if (!isStrictlyIncreasing(inLines, 0, n)) {
    m = sortMerge(sessionId, n, scratch);
    srcLines = outLines;
    srcNums = outNums;
    srcDens = outDens;
    srcFlags = outFlags;
    srcExtras = outExtras;
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
  inExtras.clear();
  outExtras.clear();
  return { lines, offsets: uniform.offsets(m), sessionIds: uniform.sessionIds(m), nums, dens, flags, extras };
}

function allEqual(a: Int32Array | Uint8Array, start: number, n: number, v: number): boolean {
  for (let i = start; i < start + n; i++) if (a[i] !== v) return false;
  return true;
}

function isStrictlyIncreasing(a: Uint32Array, from: number, to: number): boolean {
  for (let i = from + 1; i < to; i++) if (a[i]! <= a[i - 1]!) return false;
  return true;
}

function toEntry(sessionId: number, num: number, den: number, t: number, x: LineExtras | undefined): SessionEntry {
  const e: SessionEntry = { sessionId, value: decodeValue(num, den) };
  if (t !== 0) e.type = typeName(t);
  if (x?.missingBranches !== undefined) e.missingBranches = x.missingBranches;
  if (x?.branchScheme !== undefined) e.branchScheme = x.branchScheme;
  if (x?.partials !== undefined) e.partials = x.partials;
  if (x?.complexity !== undefined) e.complexity = x.complexity;
  return e;
}

function extrasOf(e: SessionEntry): LineExtras | undefined {
  const x: LineExtras = {};
  if (e.missingBranches !== undefined) x.missingBranches = e.missingBranches;
  if (e.branchScheme !== undefined) x.branchScheme = e.branchScheme;
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
