/**
 * The `tributary parse --json` and `--summary` documents:
 *   {"files": {"<path>": {"lines": {"<n>": VALUE}, "totals": TOTALS}}, "totals": TOTALS,
 *    "sessions": [{"id": 0, "format": "lcov", "file": "<arg>"}]}
 * VALUE is the line's derived value (hit count, "a/b" or true; skipped lines appear as -1).
 * TOTALS has exactly files, lines, hits, misses, partials, branches, methods, coverage.
 * Files are in path order and lines in number order, so equal reports print equal text.
 */
import type { CoverageReport, Session } from './report';
import { fileTotals, sumTotals, type CoverageTotals } from './totals';
import type { LineValue } from './types';

export interface SessionJson {
  id: number;
  format?: string;
  file?: string;
}

export interface FileJson {
  lines: Record<string, LineValue>;
  totals: CoverageTotals;
}

export interface ParseJson {
  files: Record<string, FileJson>;
  totals: CoverageTotals;
  sessions: SessionJson[];
}

export interface SummaryJson {
  totals: CoverageTotals;
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
  return { files, totals: orderTotals(sumTotals(all)), sessions: sessionsJson(sessions) };
}

export function toSummaryJson(report: CoverageReport, sessions: readonly Session[] = report.sessions): SummaryJson {
  const all: CoverageTotals[] = [];
  for (const f of report) all.push(fileTotals(f));
  return { totals: orderTotals(sumTotals(all)), sessions: sessionsJson(sessions) };
}

function sessionsJson(sessions: readonly Session[]): SessionJson[] {
  return [...sessions]
    .sort((a, b) => a.id - b.id)
    .map((s) => {
      const j: SessionJson = { id: s.id };
      if (s.format !== undefined) j.format = s.format;
      if (s.file !== undefined) j.file = s.file;
      return j;
    });
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
