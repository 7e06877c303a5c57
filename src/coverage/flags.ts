/**
 * Flags: the labels a session carries (`unit`, `integration`, a platform). A flag's view of a
 * report is the report restricted to the sessions carrying it, each line's value derived from
 * those sessions only, exactly as if only they had been uploaded; its totals are that view's.
 */
import { filterSessions } from './merge';
import type { CoverageReport } from './report';
import { reportTotals, type ReportTotals } from './totals';

/** The flags of a report's sessions, sorted. */
export function reportFlags(report: CoverageReport): string[] {
  const flags = new Set<string>();
  for (const s of report.sessions) for (const f of s.flags ?? []) flags.add(f);
  return [...flags].sort();
}

/** The report restricted to the sessions carrying `flag` (none: an empty report). */
export function flagReport(report: CoverageReport, flag: string): CoverageReport {
  return filterSessions(report, (s) => s.flags?.includes(flag) === true);
}

/**
 * Totals per flag, in flag order. One filtered pass per flag: a line's value folds its entries in
 * session order (branch lines intersect their missing branches), so a flag's totals cannot be sums
 * of per-session figures; reports carry a handful of flags.
 */
export function flagTotals(report: CoverageReport): Map<string, ReportTotals> {
  const out = new Map<string, ReportTotals>();
  for (const flag of reportFlags(report)) out.set(flag, reportTotals(flagReport(report, flag)));
  return out;
}
