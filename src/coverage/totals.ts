/**
 * Totals per file and per report (coverage-semantics.md): lines = hits + misses + partials,
 * branches = lines of type b, methods = lines of type m, coverage = ratio(hits, lines).
 *
 * Skipped (-1) lines are counted nowhere, branches and methods included (the design doc's rule;
 * Codecov's own totals count the types of skipped lines too). A file's `files` is 1, so report
 * totals are plain column sums of file totals, plus the session count.
 */
import { FLAG_TYPE_MASK } from './columns';
import type { CoverageReport } from './report';
import type { FileCoverage } from './file-coverage';
import { ratio } from './ratio';
import { CLASS_HIT, CLASS_MISS, CLASS_PARTIAL, TYPE_BRANCH, TYPE_METHOD, classifyEncoded } from './values';

export interface CoverageTotals {
  files: number;
  lines: number;
  hits: number;
  misses: number;
  partials: number;
  branches: number;
  methods: number;
  /** ratio(hits, lines): five-decimal string, "100" when equal, "0" when either is 0. */
  coverage: string;
}

/** One file's totals with its path: the commit page's tree rows, the finisher's per-file totals. */
export interface PathTotals {
  path: string;
  totals: CoverageTotals;
}

export interface ReportTotals extends CoverageTotals {
  sessions: number;
}

const fileCache = new WeakMap<FileCoverage, CoverageTotals>();
// Local binding: calls through an imported binding cost a getter per call in CommonJS output.
const classify = classifyEncoded;

/** Running line counts: a totals object without its ratio string. */
type Counts = Omit<CoverageTotals, 'coverage'>;

/** Adds one file's counts to `into` (files + 1). */
function addFileCounts(file: FileCoverage, into: Counts): void {
  let hits = 0;
  let misses = 0;
  let partials = 0;
  let branches = 0;
  let methods = 0;
  const { lineNums, lineDens, lineTypes } = file;
  for (let i = 0; i < lineNums.length; i++) {
    const c = classify(lineNums[i]!, lineDens[i]!);
    if (c === CLASS_HIT) hits++;
    else if (c === CLASS_MISS) misses++;
    else if (c === CLASS_PARTIAL) partials++;
    else continue;
    const t = lineTypes[i]! & FLAG_TYPE_MASK;
    if (t === TYPE_BRANCH) branches++;
    else if (t === TYPE_METHOD) methods++;
  }
  into.files += 1;
  into.lines += hits + misses + partials;
  into.hits += hits;
  into.misses += misses;
  into.partials += partials;
  into.branches += branches;
  into.methods += methods;
}

function addCounts(from: Counts, into: Counts): void {
  into.files += from.files;
  into.lines += from.lines;
  into.hits += from.hits;
  into.misses += from.misses;
  into.partials += from.partials;
  into.branches += from.branches;
  into.methods += from.methods;
}

function zeroCounts(): Counts {
  return { files: 0, lines: 0, hits: 0, misses: 0, partials: 0, branches: 0, methods: 0 };
}

export function fileTotals(file: FileCoverage): CoverageTotals {
  const cached = fileCache.get(file);
  if (cached !== undefined) return { ...cached };
  const c = zeroCounts();
  addFileCounts(file, c);
  const totals: CoverageTotals = { ...c, coverage: ratio(c.hits, c.lines) };
  fileCache.set(file, totals);
  return { ...totals };
}

/** Column sums of per-file totals; `coverage` recomputed from the sums. */
export function sumTotals(list: Iterable<CoverageTotals>): CoverageTotals {
  const t = zeroCounts();
  for (const x of list) addCounts(x, t);
  return { ...t, coverage: ratio(t.hits, t.lines) };
}

/**
 * The totals of a set of files: the sums of their `fileTotals`, counted straight into one set of
 * sums (no object or ratio string per file). Sums do not depend on the order, so the files may
 * come in any (a report's map order needs no path sort).
 */
export function totalsOfFiles(files: Iterable<FileCoverage>): CoverageTotals {
  const t = zeroCounts();
  for (const f of files) {
    const cached = fileCache.get(f);
    if (cached !== undefined) addCounts(cached, t);
    else addFileCounts(f, t);
  }
  return { ...t, coverage: ratio(t.hits, t.lines) };
}

export function reportTotals(report: CoverageReport): ReportTotals {
  return { ...totalsOfFiles(report.files.values()), sessions: report.sessions.length };
}
