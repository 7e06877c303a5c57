/**
 * Totals per file and per report (coverage-semantics.md): lines = hits + misses + partials,
 * branches = lines of type b, methods = lines of type m, coverage = ratio(hits, lines).
 *
 * Skipped (-1) lines are counted nowhere, branches and methods included (the design doc's rule;
 * Codecov's own totals count the types of skipped lines too). A file's `files` is 1, so report
 * totals are plain column sums of file totals, plus the session count.
 */
import { FLAG_TYPE_MASK, type CoverageReport, type FileCoverage } from './report';
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

export function fileTotals(file: FileCoverage): CoverageTotals {
  const cached = fileCache.get(file);
  if (cached !== undefined) return { ...cached };
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
  const lines = hits + misses + partials;
  const totals: CoverageTotals = {
    files: 1,
    lines,
    hits,
    misses,
    partials,
    branches,
    methods,
    coverage: ratio(hits, lines),
  };
  fileCache.set(file, totals);
  return { ...totals };
}

/** Column sums of per-file totals; `coverage` recomputed from the sums. */
export function sumTotals(list: Iterable<CoverageTotals>): CoverageTotals {
  const t: CoverageTotals = { files: 0, lines: 0, hits: 0, misses: 0, partials: 0, branches: 0, methods: 0, coverage: '' };
  for (const x of list) {
    t.files += x.files;
    t.lines += x.lines;
    t.hits += x.hits;
    t.misses += x.misses;
    t.partials += x.partials;
    t.branches += x.branches;
    t.methods += x.methods;
  }
  t.coverage = ratio(t.hits, t.lines);
  return t;
}

export function reportTotals(report: CoverageReport): ReportTotals {
  const files: CoverageTotals[] = [];
  for (const f of report) files.push(fileTotals(f));
  return { ...sumTotals(files), sessions: report.sessions.length };
}
