import { displayPercent } from '../coverage/ratio';
/** Presentation of numbers and times, shared by every page. */

/** "83.33%" from the totals' five-decimal coverage string; an em dash without one. */
export function percent(coverage: string | null | undefined): string {
  if (coverage === null || coverage === undefined) return '—';
  return Number.isFinite(Number(coverage)) ? displayPercent(coverage) : '—';
}

const grouping = new Intl.NumberFormat('en-US');
export const count = (n: number) => grouping.format(n);

/** ISO time for machines (the datetime attribute), a short UTC text for people. */
export function timeText(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export const shortSha = (sha: string) => sha.slice(0, 10);

/**
 * The colour band of a coverage figure. Each band's colours pass WCAG AA (4.5:1) for the text
 * drawn on them; see style.css.
 */
export function band(coverage: string | null | undefined): 'none' | 'low' | 'mid' | 'high' {
  if (coverage === null || coverage === undefined) return 'none';
  const n = Number(coverage);
  if (!Number.isFinite(n)) return 'none';
  return n >= 80 ? 'high' : n >= 60 ? 'mid' : 'low';
}

/** The treemap's fill: red (0%) through amber to green (100%), light enough for dark labels. */
export function coverageFill(coverage: string): string {
  const n = Math.max(0, Math.min(100, Number(coverage) || 0));
  const hue = Math.round((n / 100) * 120);
  return `hsl(${hue} 70% 72%)`;
}

/** Consecutive line numbers as ranges: [1,2,3,7] -> "1–3, 7". */
export function ranges(lines: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j]! + 1) j++;
    out.push(i === j ? String(lines[i]) : `${lines[i]}–${lines[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

/** A delta in percentage points ("+1.30", "-2.22", "±0.00"); an em dash without one. */
export function points(delta: string | null | undefined): string {
  if (delta === null || delta === undefined) return '—';
  if (!Number.isFinite(Number(delta))) return '—';
  const negative = delta.startsWith('-');
  // Cut like every coverage figure (displayPercent), so a delta and the two figures agree.
  const text = displayPercent(negative ? delta.slice(1) : delta).slice(0, -1);
  if (text === '0.00') return '±0.00';
  return `${negative ? '-' : '+'}${text}`;
}

/** Whether a delta went up, down, or stayed (the class of its figure; the sign is the text cue). */
export function deltaClass(delta: string | null | undefined): string | undefined {
  const n = Number(delta);
  if (delta === null || delta === undefined || !Number.isFinite(n) || Math.abs(n) < 0.005) return undefined;
  return n > 0 ? 'delta-up' : 'delta-down';
}
