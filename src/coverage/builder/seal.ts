/**
 * Sealing the session log: when the log is full (and at finish), its records move into one
 * exactly sized chunk grouped by file, and each file keeps its run there as a segment.
 */
import type { MemoryBudget } from '../limits';
import type { LineExtras } from '../types';
import { DEN_INT, type EncodedValue } from '../values';
import { FLAG_EXTRAS } from '../columns';
import { RunSorter } from './assemble';
import { EXTRAS_BYTES, EXTRAS_CACHE_LIMIT, LOG_START, RECORD_BYTES, type Chunk } from './context';
import { SessionLog, type ExtrasColumn, type FileAccumulator } from './log';
import { packExtras, PackedExtras } from './packed-extras';

// Local bindings: in CommonJS output each use of an imported binding is a property read.
const F_EXTRAS = FLAG_EXTRAS;
const D_INT = DEN_INT;

/** What the sinks of one builder share: the log, and every file's accumulator by index. */
export class BuilderState {
  log: SessionLog;
  readonly accs: FileAccumulator[] = [];
  /** Shared extras by key: lists of 3-4 ids and complexities. */
  private readonly extrasCache = new Map<string, LineExtras>();
  /** Shared one-id lists by id, and two-id lists by first and second id. */
  private readonly singles = new Map<string, LineExtras>();
  private readonly pairs = new Map<string, Map<string, LineExtras>>();
  /** Entries in the three caches, together bounded by EXTRAS_CACHE_LIMIT. */
  private cachedCount = 0;
  /** Files seen in the log being sealed, in order of first record (reused across seals). */
  private present = new Uint32Array(64);

  /** The branch-id scheme stamped on every missing-branch list of the session. */
  private scheme: string | undefined;

  /** Scratch of the value being added or merged (sink calls are synchronous). */
  readonly enc: EncodedValue = { num: 0, den: 0 };
  /** Sorts and merges out-of-order runs (when sealed and when finished), with its own scratch. */
  sorter: RunSorter;

  constructor(
    private readonly sessionId: number,
    private readonly chunk: number,
    private readonly budget: MemoryBudget,
  ) {
    this.log = new SessionLog(Math.min(LOG_START, chunk));
    this.sorter = new RunSorter(sessionId);
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
    // Grouped and every run in order (the usual seal): the extras go from the log straight into
    // packed columns, with no map per file on the way.
    let packed: Array<PackedExtras | null> | undefined;
    if (grouped) {
      chunk = {
        lines: log.lines.slice(0, n),
        nums: log.nums.slice(0, n),
        dens: uniformDens ? null : dens.slice(0, n),
        flags: plainFlags ? null : flags.slice(0, n),
      };
      let allSorted = true;
      for (let p = 0; p < nPresent; p++) if (!accs[present[p]!]!.runSorted) allSorted = false;
      if (allSorted && log.extras.size > 0) packed = packGrouped(log.extras, accs, present, nPresent);
      else {
        log.extras.forEach((x, i) => {
          const acc = accs[files[i]!]!;
          (acc.runExtras ??= new Map()).set(i - acc.start, x);
        });
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
        if (acc.chunk === null) acc.pending = this.sorter.sortRun(chunk, acc.start, acc.pending, acc.runExtras);
        acc.runSorted = true;
      }
    }
    if (hadExtras && packed === undefined) {
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
    if (mb !== undefined && x.partials === undefined && c === undefined && mb.length <= 4) {
      // Lists of one or two ids (nearly all) are looked up by the id strings themselves, whose
      // hashes the strings cache (parsers hand out the same few id strings), not by a key
      // string built per line; longer lists use JSON, which is unambiguous for any ids.
      if (mb.length === 1) return this.cached(this.singles, mb[0]!, x);
      if (mb.length === 2) {
        let inner = this.pairs.get(mb[0]!);
        if (inner === undefined) {
          if (this.cachedCount >= EXTRAS_CACHE_LIMIT) return this.stored(x);
          this.pairs.set(mb[0]!, (inner = new Map()));
        }
        return this.cached(inner, mb[1]!, x);
      }
      return this.cached(this.extrasCache, `M${JSON.stringify(mb)}`, x);
    }
    if (mb === undefined && x.partials === undefined && typeof c === 'number') return this.cached(this.extrasCache, `c${c}`, x);
    if (mb === undefined && x.partials === undefined && Array.isArray(c)) return this.cached(this.extrasCache, `C${c[0]},${c[1]}`, x);
    // Not shared: kept as given, but with its own copy of the list (parsers may reuse theirs).
    if (mb === undefined) return x;
    const scheme = this.scheme;
    return scheme === undefined ? { ...x, missingBranches: mb.slice() } : { ...x, missingBranches: mb.slice(), branchScheme: scheme };
  }

  private cached(cache: Map<string, LineExtras>, key: string, x: LineExtras): LineExtras {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const stored = this.stored(x);
    if (this.cachedCount < EXTRAS_CACHE_LIMIT) {
      cache.set(key, stored);
      this.cachedCount++;
    }
    return stored;
  }

  /** The stored form of common extras: an exactly sized copy (parsers' lists are over-allocated by push). */
  private stored(x: LineExtras): LineExtras {
    const mb = x.missingBranches;
    const c = x.complexity;
    const scheme = this.scheme;
    let stored: LineExtras;
    if (mb === undefined) stored = { complexity: typeof c === 'number' ? c : [c![0], c![1]] };
    else stored = scheme === undefined ? { missingBranches: mb.slice() } : { missingBranches: mb.slice(), branchScheme: scheme };
    return stored;
  }

  /** Interned extras carry the scheme, so a new scheme starts a new cache. */
  setScheme(scheme: string): void {
    if (scheme === this.scheme) return;
    this.scheme = scheme;
    this.clearCaches();
  }

  private clearCaches(): void {
    this.extrasCache.clear();
    this.singles.clear();
    this.pairs.clear();
    this.cachedCount = 0;
  }

  release(): void {
    this.clearCaches();
    this.log = new SessionLog(Math.min(LOG_START, this.chunk));
    this.present = new Uint32Array(64);
    for (const acc of this.accs) acc.clearSegments();
    // The sort scratch grows to the longest out-of-order file; a finished builder keeps none of it.
    this.sorter = new RunSorter(this.sessionId);
  }
}

/**
 * The extras of a grouped log (each file's records contiguous, in the order of `present`, and
 * at log index = chunk index) packed per file, as packExtras packs the files' maps: keys relative
 * to the file's run, ascending.
 */
function packGrouped(
  extras: ExtrasColumn,
  accs: readonly FileAccumulator[],
  present: Uint32Array,
  nPresent: number,
): Array<PackedExtras | null> {
  const m = extras.size;
  const keyCol = new Uint32Array(m);
  const valCol = new Array<LineExtras>(m);
  let j = 0;
  // The column yields its entries in ascending index order.
  extras.forEach((x, i) => {
    keyCol[j] = i;
    valCol[j] = x;
    j++;
  });
  const out: Array<PackedExtras | null> = [];
  let q = 0;
  for (let p = 0; p < nPresent; p++) {
    const acc = accs[present[p]!]!;
    const from = q;
    const end = acc.start + acc.pending;
    for (; q < m && keyCol[q]! < end; q++) keyCol[q] = keyCol[q]! - acc.start;
    out.push(q > from ? new PackedExtras(keyCol, valCol, from, q) : null);
  }
  return out;
}
