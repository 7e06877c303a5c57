/**
 * Compares two commits' reports (`commit-comparison.ts` is the shape): totals of both and the
 * delta, per-file deltas, and patch coverage, the coverage in head of the lines head's diff adds
 * or changes (`unified-diff.ts`: moved lines are not new). A patch line the head report does not
 * list, or lists as skipped, is not coverable and counts nowhere.
 *
 * A file is in `files` when it is only in base (removed), only in head (added), or in both and
 * its totals differ or the diff touches it (changed). A file the diff renames is compared with
 * its base path. Files in neither report are left out, whatever the diff says of them.
 *
 * Pure: reports and a parsed diff in, the comparison out.
 */
import type { CommitComparison, FileComparison, PatchTotals } from './commit-comparison';
import { flagReport } from './flags';
import { comparePaths, type CoverageReport } from './report';
import type { FileCoverage } from './file-coverage';
import { ratio } from './ratio';
import { fileTotals, reportTotals, type CoverageTotals } from './totals';
import { patchLines, type DiffFile } from './unified-diff';
import { CLASS_HIT, CLASS_MISS, CLASS_PARTIAL } from './values';

export interface CompareSide {
  sha: string;
  report: CoverageReport;
}

export interface CompareOptions {
  /** Maps a diff path to a report path (the repository's path fixes); null leaves the file out. */
  resolvePath?: (path: string) => string | null;
  /** Restricts both reports to the sessions carrying this flag. */
  flag?: string;
}

const SCALE = 100_000;

/** A coverage string (`ratio`'s five decimals, or "100" / "0") in hundred-thousandths, exactly. */
function scaled(coverage: string): number {
  const m = /^(-?)(\d+)(?:\.(\d{1,5}))?$/.exec(coverage);
  if (m === null) throw new RangeError(`not a coverage figure: ${coverage}`);
  const v = Number(m[2]) * SCALE + Number((m[3] ?? '').padEnd(5, '0'));
  return m[1] === '-' ? -v : v;
}

/** head - base in percentage points, five decimals, `-` when coverage dropped ("0.00000" when equal). */
export function coverageDelta(base: string, head: string): string {
  const d = scaled(head) - scaled(base);
  const a = Math.abs(d);
  return `${d < 0 ? '-' : ''}${Math.floor(a / SCALE)}.${String(a % SCALE).padStart(5, '0')}`;
}

/** The coverage of a file's patch lines in head (the compare's per-file `patch`, the file page's). */
export function filePatchTotals(file: FileCoverage | undefined, lines: readonly number[]): PatchTotals {
  let hits = 0;
  let misses = 0;
  let partials = 0;
  if (file !== undefined) {
    for (const n of lines) {
      const i = file.indexOf(n);
      if (i < 0) continue;
      const c = file.classOf(i);
      if (c === CLASS_HIT) hits++;
      else if (c === CLASS_MISS) misses++;
      else if (c === CLASS_PARTIAL) partials++;
    }
  }
  return totalsOfPatch(hits, misses, partials);
}

function totalsOfPatch(hits: number, misses: number, partials: number): PatchTotals {
  const lines = hits + misses + partials;
  return { lines, hits, misses, partials, coverage: lines === 0 ? null : ratio(hits, lines) };
}

const sameTotals = (a: CoverageTotals, b: CoverageTotals) =>
  a.lines === b.lines && a.hits === b.hits && a.misses === b.misses && a.partials === b.partials && a.branches === b.branches && a.methods === b.methods;

export function compareCommits(base: CompareSide, head: CompareSide, diff?: readonly DiffFile[], options: CompareOptions = {}): CommitComparison {
  const flag = options.flag;
  const baseReport = flag === undefined ? base.report : flagReport(base.report, flag);
  const headReport = flag === undefined ? head.report : flagReport(head.report, flag);
  const resolve = options.resolvePath ?? ((p: string) => p);

  // What the diff says per head path: its base path (renames) and its patch lines.
  const patch = diff === undefined ? undefined : patchLines(diff, resolve);
  const basePathOf = new Map<string, string>();
  for (const f of diff ?? []) {
    if (f.newPath === null || f.oldPath === null || f.oldPath === f.newPath) continue;
    const to = resolve(f.newPath);
    const from = resolve(f.oldPath);
    if (to !== null && from !== null && f.status === 'renamed') basePathOf.set(to, from);
  }
  const touched = new Set<string>();
  for (const f of diff ?? []) {
    for (const p of [f.newPath, f.oldPath]) {
      const r = p === null ? null : resolve(p);
      if (r !== null) touched.add(r);
    }
  }

  const files: FileComparison[] = [];
  const baseSeen = new Set<string>();
  let pHits = 0;
  let pMisses = 0;
  let pPartials = 0;
  for (const h of headReport) {
    const renamedFrom = basePathOf.get(h.path);
    const basePath = renamedFrom !== undefined && baseReport.file(renamedFrom) !== undefined && headReport.file(renamedFrom) === undefined ? renamedFrom : h.path;
    const b = baseReport.file(basePath);
    if (b !== undefined) baseSeen.add(basePath);
    const headT = fileTotals(h);
    const baseT = b === undefined ? null : fileTotals(b);
    const lines = patch?.get(h.path);
    const filePatch = lines === undefined ? null : filePatchTotals(h, lines);
    if (filePatch !== null) {
      pHits += filePatch.hits;
      pMisses += filePatch.misses;
      pPartials += filePatch.partials;
    }
    const isTouched = touched.has(h.path) || basePath !== h.path;
    if (baseT !== null && sameTotals(baseT, headT) && !isTouched) continue;
    const entry: FileComparison = {
      path: h.path,
      change: baseT === null ? 'added' : 'changed',
      base: baseT,
      head: headT,
      coverageDelta: baseT === null ? null : coverageDelta(baseT.coverage, headT.coverage),
      patch: filePatch,
    };
    if (basePath !== h.path) entry.basePath = basePath;
    files.push(entry);
  }
  for (const b of baseReport) {
    if (baseSeen.has(b.path) || headReport.file(b.path) !== undefined) continue;
    files.push({ path: b.path, change: 'removed', base: fileTotals(b), head: null, coverageDelta: null, patch: null });
  }
  files.sort((x, y) => comparePaths(x.path, y.path));

  const baseTotals = reportTotals(baseReport);
  const headTotals = reportTotals(headReport);
  const out: CommitComparison = {
    base: { sha: base.sha, totals: baseTotals },
    head: { sha: head.sha, totals: headTotals },
    coverageDelta: coverageDelta(baseTotals.coverage, headTotals.coverage),
    patch: patch === undefined ? null : totalsOfPatch(pHits, pMisses, pPartials),
    files,
  };
  if (flag !== undefined) out.flag = flag;
  return out;
}
