/**
 * Codecov's coverage ratio string: "100" when x == y, "0" when either is 0, otherwise
 * x / y * 100 rounded to five decimals and written with exactly five.
 *
 * Python computes `round(x / y * 100, 5)` (exact round-half-even on the double) and then formats
 * with "%.5f". `Number#toFixed` rounds exact ties upwards instead, so ties (e.g. 0.015625) are
 * detected from the exact decimal expansion and rounded to even, to give the same strings.
 */
export function ratio(x: number, y: number): string {
  if (x === y) return '100';
  if (x === 0 || y === 0) return '0';
  return fixed5HalfEven((x / y) * 100);
}

function fixed5HalfEven(v: number): string {
  // Only a value whose sixth decimal onwards is exactly 5 (then zeros) can be a tie. Ratios are
  // at most a few hundred, so v * 1e5 is off by far less than 1e-6 from the exact product: a
  // fraction of it not near .5 is no tie, and toFixed(5) rounds it as Python does. This spares
  // the exact expansion below (a 100-digit string) for nearly every ratio.
  const scaled = Math.abs(v) * 1e5;
  if (Math.abs(scaled - Math.floor(scaled) - 0.5) > 1e-6 || scaled > 1e9) return v.toFixed(5);
  // toFixed(100) is exact: every double's binary fraction has a finite decimal expansion.
  const exact = Math.abs(v).toFixed(100);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 6);
  if (!/^50*$/.test(rest)) return v.toFixed(5);
  const digits = exact.slice(0, dot + 6);
  const last = digits.charCodeAt(digits.length - 1) - 48;
  if (last % 2 === 0) return (v < 0 ? '-' : '') + digits;
  return v.toFixed(5);
}

/**
 * A ratio string for people: two decimals, the rest cut off (never rounded up, so 99.999% does
 * not read as 100.00%, Codecov's default `round: down`), and a percent sign: "90.51%". Every
 * place that shows a coverage figure (CLI, pages, statuses, comments) writes it with this.
 */
export function displayPercent(ratioText: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(ratioText);
  if (!m) return ratioText;
  return `${m[1]}${m[2]}.${(m[3] ?? '').padEnd(2, '0').slice(0, 2)}%`;
}
