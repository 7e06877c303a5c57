import { displayCoverage } from './parse-command';
import type { Totals } from './api-schemas';

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

export function coverageText(coverage: Totals['coverage']): string {
  if (coverage === null) return '-';
  return displayCoverage(String(coverage));
}

export const TOTALS_HEADER = ['coverage', 'lines', 'hits', 'misses', 'partials', 'files', 'sessions'] as const;

export function totalsRow(t: Totals): string[] {
  return [coverageText(t.coverage), String(t.lines), String(t.hits), String(t.misses), String(t.partials), String(t.files), String(t.sessions ?? '-')];
}

export function totalsTable(t: Totals): string {
  return table([[...TOTALS_HEADER], totalsRow(t)]);
}

export function json(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

export function dash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}

/** Seconds as people read them: 42s, 3m 05s, 2h 10m. */
export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return '-';
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}
