/**
 * Line values: classification and the merge rule (Codecov-compatible, see
 * ../shared/design/coverage-semantics.md).
 *
 * Values are handled in two forms. The public form is `LineValue` (number | "a/b" | true). The
 * report model stores values column-wise as a pair of numbers (`num`, `den`), so the hot merge and
 * derivation loops never allocate strings:
 *   den === DEN_INT  -> integer hit count `num` (-1 = skipped)
 *   den === DEN_TRUE -> `true` (partial)
 *   den >= 0         -> branch fraction `num/den`
 * Both forms share one merge implementation (`mergeEncoded`), so they cannot drift apart.
 *
 * Deliberate deviations from Codecov's `merge_coverage`, which in these cases depends on argument
 * order (Python treats `True` as the integer 1):
 *   - `true` vs a hit count -> the hit count; `true` vs 0 -> `true` (the design doc: "true loses to
 *     any hit and wins over a miss").
 *   - `true` vs a fraction -> the fraction, unless the fraction is a miss ("0/n"), then `true`.
 *     Codecov would turn `true` + "1/2" into "2/2", inventing full coverage from a partial.
 */
import type { LineType, LineValue } from './types';

export const DEN_INT = -1;
export const DEN_TRUE = -2;

/** Largest branch count we store (the denominator lives in an Int32Array). */
export const MAX_BRANCHES = 0x7fffffff;

/** Line classes, numbered like Codecov's `LineType` so ports of its tests read the same. */
export const CLASS_SKIPPED = -1;
export const CLASS_HIT = 0;
export const CLASS_MISS = 1;
export const CLASS_PARTIAL = 2;
export type LineClassCode = -1 | 0 | 1 | 2;
export type LineClass = 'hit' | 'miss' | 'partial' | 'skipped';

const CLASS_NAMES: Record<LineClassCode, LineClass> = {
  [-1]: 'skipped',
  0: 'hit',
  1: 'miss',
  2: 'partial',
};

/** Line types as stored in the model's Uint8Array columns. */
export const TYPE_LINE = 0;
export const TYPE_BRANCH = 1;
export const TYPE_METHOD = 2;
const TYPE_NAMES: readonly LineType[] = ['line', 'b', 'm'];

export function typeCode(type: LineType | undefined): number {
  return type === 'b' ? TYPE_BRANCH : type === 'm' ? TYPE_METHOD : TYPE_LINE;
}

export function typeName(code: number): LineType {
  return TYPE_NAMES[code] ?? 'line';
}

/** A mutable (num, den) pair used as an out-parameter so hot loops do not allocate. */
export interface EncodedValue {
  num: number;
  den: number;
}

/**
 * Encodes a value into `out`. Returns null on success, or the reason the value is invalid
 * (callers turn it into a typed error naming their input).
 */
export function encodeValue(value: unknown, out: EncodedValue): string | null {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return `hit count ${String(value)} is not a safe integer`;
    if (value < -1) return `hit count ${value} is negative`;
    out.num = value;
    out.den = DEN_INT;
    return null;
  }
  if (value === true) {
    out.num = 0;
    out.den = DEN_TRUE;
    return null;
  }
  if (typeof value === 'string') {
    const slash = value.indexOf('/');
    if (slash <= 0 || slash === value.length - 1) return `branch value "${clip(value)}" is not "a/b"`;
    const a = parseDigits(value, 0, slash);
    const b = parseDigits(value, slash + 1, value.length);
    if (a < 0 || b < 0) return `branch value "${clip(value)}" is not "a/b"`;
    if (b > MAX_BRANCHES) return `branch count ${b} exceeds ${MAX_BRANCHES}`;
    out.num = a;
    out.den = b;
    return null;
  }
  return `unsupported line value ${clip(String(value))}`;
}

/** Parses decimal digits in s[start, end); -1 when empty, not digits, or unsafe. */
function parseDigits(s: string, start: number, end: number): number {
  if (end <= start || end - start > 16) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return Number.isSafeInteger(n) ? n : -1;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

export function decodeValue(num: number, den: number): LineValue {
  if (den === DEN_INT) return num;
  if (den === DEN_TRUE) return true;
  return `${num}/${den}`;
}

export function classifyEncoded(num: number, den: number): LineClassCode {
  if (den === DEN_INT) return num > 0 ? CLASS_HIT : num === 0 ? CLASS_MISS : CLASS_SKIPPED;
  if (den === DEN_TRUE) return CLASS_PARTIAL;
  // "0/0" is a hit: equality is tested first, as Codecov does.
  if (num === den) return CLASS_HIT;
  return num === 0 ? CLASS_MISS : CLASS_PARTIAL;
}

export function classCode(value: LineValue): LineClassCode {
  const e = encodeOrThrow(value);
  return classifyEncoded(e.num, e.den);
}

/** hit / miss / partial / skipped, per the semantics. */
export function classifyValue(value: LineValue): LineClass {
  return CLASS_NAMES[classCode(value)];
}

/**
 * Codecov's `merge_coverage` on encoded values, writing the result into `out`.
 * `missing` is the line's missing-branch intersection across sessions (undefined = unknown); it
 * only matters when both sides are fractions, exactly as in Codecov.
 */
export function mergeEncoded(
  n1: number,
  d1: number,
  n2: number,
  d2: number,
  missing: readonly string[] | undefined,
  out: EncodedValue,
): void {
  if ((d1 === DEN_INT && n1 === -1) || (d2 === DEN_INT && n2 === -1)) {
    out.num = -1;
    out.den = DEN_INT;
    return;
  }
  const f1 = d1 >= 0;
  const f2 = d2 >= 0;
  if (!f1 && !f2) {
    if (d1 === DEN_INT && d2 === DEN_INT) {
      out.num = n1 >= n2 ? n1 : n2;
      out.den = DEN_INT;
    } else if (d1 === DEN_TRUE && d2 === DEN_TRUE) {
      out.num = 0;
      out.den = DEN_TRUE;
    } else {
      const hits = d1 === DEN_INT ? n1 : n2;
      if (hits > 0) {
        out.num = hits;
        out.den = DEN_INT;
      } else {
        out.num = 0;
        out.den = DEN_TRUE;
      }
    }
    return;
  }
  if (f1 !== f2) {
    const fn = f1 ? n1 : n2;
    const fd = f1 ? d1 : d2;
    const on = f1 ? n2 : n1;
    const od = f1 ? d2 : d1;
    if (od === DEN_INT) {
      // A hit count means every branch ran; a zero count adds nothing.
      out.num = on > 0 ? fd : fn;
      out.den = fd;
    } else if (fn === 0 && fd !== 0) {
      out.num = 0;
      out.den = DEN_TRUE;
    } else {
      out.num = fn;
      out.den = fd;
    }
    return;
  }
  if (missing !== undefined) {
    // Codecov counts from the left-hand (accumulated) side's branch total.
    const covered = d1 - missing.length;
    out.num = missing.length === 0 ? d1 : covered > 0 ? covered : 0;
    out.den = d1;
    return;
  }
  if ((n1 === n2 && d1 === d2) || n1 === d1) {
    out.num = n1;
    out.den = d1;
  } else if (n2 === d2) {
    out.num = n2;
    out.den = d2;
  } else {
    out.num = n1 >= n2 ? n1 : n2;
    out.den = d1 >= d2 ? d1 : d2;
  }
}

/** The encoded form of a value known to be valid (a RangeError otherwise). */
export function encodeOrThrow(value: LineValue): EncodedValue {
  const e: EncodedValue = { num: 0, den: 0 };
  const err = encodeValue(value, e);
  if (err !== null) throw new RangeError(err);
  return e;
}

/**
 * Merges two values of one line (Codecov's `merge_coverage(l1, l2, missing)`); undefined stands
 * for "no data". `missing` is the missing-branch intersection, when known.
 */
export function mergeValues(
  a: LineValue | undefined,
  b: LineValue | undefined,
  missing?: readonly string[],
): LineValue | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const x = encodeOrThrow(a);
  const y = encodeOrThrow(b);
  const out: EncodedValue = { num: 0, den: 0 };
  mergeEncoded(x.num, x.den, y.num, y.den, missing, out);
  return decodeValue(out.num, out.den);
}
