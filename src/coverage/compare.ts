import type { CoverageReport } from './report';
import type { FileCoverage } from './file-coverage';
import { serializeReport } from './report-format';
import { reportTotals } from './totals';

export interface ReportDifference {
  /** True when the two reports serialize to the same bytes (every session entry equal). */
  identical: boolean;
  differingFiles: number;
  /** The paths of the first differing files (at most `MAX_DIFFERING_PATHS`), sorted. */
  differingPaths: string[];
  differingLines: number;
  totalsEqual: boolean;
  /** A few human-readable differences, e.g. `src/a.js:12 expected 3, got 0`. */
  sample: string[];
}

export const MAX_DIFFERING_PATHS = 100;

/**
 * Compares an expected report (the trusted one) with an actual one, file by file and line by line
 * on each line's derived value and type, plus the totals. Identical bytes short-cut everything.
 */
export function compareReports(expected: CoverageReport, actual: CoverageReport, sampleSize = 10): ReportDifference {
  const a = serializeReport(expected);
  const b = serializeReport(actual);
  if (Buffer.compare(a, b) === 0) {
    return { identical: true, differingFiles: 0, differingPaths: [], differingLines: 0, totalsEqual: true, sample: [] };
  }
  const sample: string[] = [];
  const note = (s: string) => {
    if (sample.length < sampleSize) sample.push(s);
  };
  const left = new Map([...expected].map((f) => [f.path, f]));
  const right = new Map([...actual].map((f) => [f.path, f]));
  const paths = [...new Set([...left.keys(), ...right.keys()])].sort();
  let differingFiles = 0;
  const differingPaths: string[] = [];
  const fileDiffers = (path: string) => {
    differingFiles++;
    if (differingPaths.length < MAX_DIFFERING_PATHS) differingPaths.push(path);
  };
  let differingLines = 0;
  for (const path of paths) {
    const l = left.get(path);
    const r = right.get(path);
    if (!l || !r) {
      fileDiffers(path);
      differingLines += (l ?? r)!.lineCount;
      note(`${path}: only in the ${l ? 'expected' : 'actual'} report`);
      continue;
    }
    const lv = lineMap(l);
    const rv = lineMap(r);
    let differs = false;
    for (const n of new Set([...lv.keys(), ...rv.keys()])) {
      const x = lv.get(n);
      const y = rv.get(n);
      if (x === y) continue;
      differs = true;
      differingLines++;
      note(`${path}:${n} expected ${x ?? 'no data'}, got ${y ?? 'no data'}`);
    }
    if (differs) fileDiffers(path);
  }
  const te = reportTotals(expected);
  const ta = reportTotals(actual);
  const totalsEqual = JSON.stringify(te) === JSON.stringify(ta);
  if (!totalsEqual) note(`totals expected ${JSON.stringify(te)}, got ${JSON.stringify(ta)}`);
  if (differingFiles === 0 && totalsEqual) note('line values and totals agree; session entries or metadata differ');
  return { identical: false, differingFiles, differingPaths, differingLines, totalsEqual, sample };
}

/** Line number to "value:type", the derived view both reports must agree on. */
function lineMap(f: FileCoverage): Map<number, string> {
  const m = new Map<number, string>();
  for (let i = 0; i < f.lineCount; i++) m.set(f.lines[i] as number, `${JSON.stringify(f.value(i))}:${f.type(i)}`);
  return m;
}
