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
import { SessionLog, type FileAccumulator } from './log';
import { packExtras, PackedExtras } from './packed-extras';

// Local bindings: in CommonJS output each use of an imported binding is a property read.
const F_EXTRAS = FLAG_EXTRAS;
const D_INT = DEN_INT;

/** What the sinks of one builder share: the log, and every file's accumulator by index. */
export class BuilderState {
  log: SessionLog;
  readonly accs: FileAccumulator[] = [];
  private readonly extrasCache = new Map<string, LineExtras>();
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
        for (const [i, x] of log.extras) {
          const acc = accs[files[i]!]!;
          (acc.runExtras ??= new Map()).set(i - acc.start, x);
        }
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
    // The sort scratch grows to the longest out-of-order file; a finished builder keeps none of it.
    this.sorter = new RunSorter(this.sessionId);
  }
}

/**
 * The extras of a grouped log (each file's records contiguous, in the order of `present`, and
 * at log index = chunk index) packed per file, as packExtras packs the files' maps: keys relative
 * to the file's run, ascending. Log indexes come in insertion order, which a merged repeat can
 * break (it re-inserts its index), so they are sorted when they are not ascending.
 */
function packGrouped(
  extras: ReadonlyMap<number, LineExtras>,
  accs: readonly FileAccumulator[],
  present: Uint32Array,
  nPresent: number,
): Array<PackedExtras | null> {
  const m = extras.size;
  let keyCol = new Uint32Array(m);
  let valCol = new Array<LineExtras>(m);
  let j = 0;
  let ascending = true;
  extras.forEach((x, i) => {
    if (j > 0 && i <= keyCol[j - 1]!) ascending = false;
    keyCol[j] = i;
    valCol[j] = x;
    j++;
  });
  if (!ascending) {
    const pairs = [...extras].sort((a, b) => a[0] - b[0]);
    keyCol = Uint32Array.from(pairs, (e) => e[0]);
    valCol = pairs.map((e) => e[1]);
  }
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
