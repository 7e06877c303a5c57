/**
 * The `tributary parse --json` and `--summary` documents:
 *   {"files": {"<path>": {"lines": {"<n>": VALUE}, "totals": TOTALS}}, "totals": TOTALS,
 *    "flags"?: {"<flag>": FLAG_TOTALS},
 *    "sessions": [{"id": 0, "format": "lcov", "file": "<arg>", "warnings"?: [WARNING]}]}
 * VALUE is the line's derived value (hit count, "a/b" or true; skipped lines appear as -1).
 * TOTALS has exactly files, lines, hits, misses, partials, branches, methods, coverage.
 * FLAG_TOTALS is TOTALS then `sessions`: the totals of the report restricted to the sessions
 * carrying the flag (`flags.ts`); `flags` is there only when some session carries a flag, so a
 * report without flags prints as it always did.
 * WARNING is a parse warning (`warnings.ts`); a session has `warnings` only when it has some.
 * Files are in path order and lines in number order, so equal reports print equal text.
 */
import { flagTotals } from './flags';
import type { CoverageReport, Session } from './report';
import { fileTotals, sumTotals, totalsOfFiles, type CoverageTotals, type ReportTotals } from './totals';
import type { LineValue } from './types';
import type { ParseWarning } from './warnings';

export interface SessionJson {
  id: number;
  format?: string;
  file?: string;
  /** Only on carried-forward sessions: `carriedforward`, their flags, the commit they came from. */
  type?: 'carriedforward';
  flags?: string[];
  carriedFrom?: string;
  warnings?: ParseWarning[];
}

export interface FileJson {
  lines: Record<string, LineValue>;
  totals: CoverageTotals;
}

export interface ParseJson {
  files: Record<string, FileJson>;
  totals: CoverageTotals;
  flags?: Record<string, ReportTotals>;
  sessions: SessionJson[];
}

export interface SummaryJson {
  totals: CoverageTotals;
  flags?: Record<string, ReportTotals>;
  sessions: SessionJson[];
}

/** Sessions default to the report's own; pass them to control what is printed. */
export function toParseJson(report: CoverageReport, sessions: readonly Session[] = report.sessions): ParseJson {
  const files: Record<string, FileJson> = {};
  const all: CoverageTotals[] = [];
  for (const f of report) {
    const lines: Record<string, LineValue> = {};
    for (let i = 0; i < f.lineCount; i++) lines[String(f.lines[i])] = f.value(i);
    const totals = fileTotals(f);
    all.push(totals);
    files[f.path] = { lines, totals: orderTotals(totals) };
  }
  return { files, totals: orderTotals(sumTotals(all)), ...flagsJson(report), sessions: sessionsJson(sessions) };
}

export function toSummaryJson(report: CoverageReport, sessions: readonly Session[] = report.sessions): SummaryJson {
  return { totals: orderTotals(totalsOfFiles(report.files.values())), ...flagsJson(report), sessions: sessionsJson(sessions) };
}

function flagsJson(report: CoverageReport): { flags?: Record<string, ReportTotals> } {
  const byFlag = flagTotals(report);
  if (byFlag.size === 0) return {};
  const flags: Record<string, ReportTotals> = {};
  for (const [flag, t] of byFlag) flags[flag] = { ...orderTotals(t), sessions: t.sessions };
  return { flags };
}

function sessionsJson(sessions: readonly Session[]): SessionJson[] {
  return [...sessions]
    .sort((a, b) => a.id - b.id)
    .map((s) => {
      const j: SessionJson = { id: s.id };
      if (s.format !== undefined) j.format = s.format;
      if (s.file !== undefined) j.file = s.file;
      // A carried session says so, with its flags and source; uploaded ones print as they always did.
      if (s.type === 'carriedforward') {
        j.type = s.type;
        if (s.flags !== undefined) j.flags = [...s.flags];
        if (s.carriedFrom !== undefined) j.carriedFrom = s.carriedFrom;
      }
      return j;
    });
}

/**
 * Adds the parse warnings of each session (keyed by session id) to a `--json` or `--summary`
 * document; sessions without warnings are left as they are.
 */
export function addSessionWarnings<T extends { sessions: SessionJson[] }>(doc: T, bySession: ReadonlyMap<number, readonly ParseWarning[]>): T {
  for (const s of doc.sessions) {
    const w = bySession.get(s.id);
    if (w !== undefined && w.length > 0) s.warnings = [...w];
  }
  return doc;
}

/** Fixed key order, whatever object the totals came from. */
function orderTotals(t: CoverageTotals): CoverageTotals {
  return {
    files: t.files,
    lines: t.lines,
    hits: t.hits,
    misses: t.misses,
    partials: t.partials,
    branches: t.branches,
    methods: t.methods,
    coverage: t.coverage,
  };
}
