/**
 * The five-decimal percentage strings of `ratio` (src/coverage/ratio.ts) as exact integers of
 * 1/100000 of a percent, so targets and thresholds compare without floating-point error.
 */
export function percentUnits(pct: string): number {
  const negative = pct.startsWith('-');
  const [int = '0', frac = ''] = (negative ? pct.slice(1) : pct).split('.');
  const units = Number(int) * 100_000 + Number(frac.padEnd(5, '0').slice(0, 5));
  return negative ? -units : units;
}

/** A settings percentage (a number such as 80 or 87.5) in the same units. */
export function numberUnits(n: number): number {
  return Math.round(n * 100_000);
}

/** Two decimals, cut toward zero like every coverage figure shown (displayPercent): "87.50%". */
export function showPercent(units: number): string {
  const sign = units < 0 ? '-' : '';
  const hundredths = Math.floor(Math.abs(units) / 1000);
  return `${sign}${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}%`;
}

/** A delta with its sign always shown: "+0.80%", "-1.25%", "+0.00%". */
export function showDelta(units: number): string {
  const shown = showPercent(units);
  return shown.startsWith('-') ? (shown === '-0.00%' ? '+0.00%' : shown) : `+${shown}`;
}
