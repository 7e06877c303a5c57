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
import type { LineExtras, LineType, LineValue, PartialSpan } from './types';

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
  const e: EncodedValue = { num: 0, den: 0 };
  const err = encodeValue(value, e);
  if (err !== null) throw new RangeError(err);
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

function encodeOrThrow(value: LineValue): EncodedValue {
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

/** One session's record of one line. */
export interface SessionEntry extends LineExtras {
  sessionId: number;
  value: LineValue;
  type?: LineType;
}

/**
 * The branch-id scheme of a session: its format, refined by the generator where that tool names
 * branches its own way. Ids of two schemes are never compared (see `foldBranchLine`).
 */
export function branchScheme(format: string, generator?: string): string {
  return generator === undefined ? format : `${format}/${generator}`;
}

/**
 * The missing branches of a line across sessions (Codecov's `merge_missed_branches`): the
 * intersection of the sessions' lists; [] when a session without a list hit the line or the
 * lists are disjoint; undefined when no session knows its missing branches. Meaningful only when
 * every list uses one scheme; `foldSessionValues` takes care of lines that mix schemes.
 */
export function intersectMissingBranches(
  entries: ReadonlyArray<Pick<SessionEntry, 'value' | 'missingBranches'>>,
): string[] | undefined {
  let known = false;
  for (const e of entries) if (e.missingBranches !== undefined) known = true;
  if (!known) return undefined;
  let acc: string[] | undefined;
  for (const e of entries) {
    const mb = e.missingBranches;
    if (mb === undefined) {
      if (classCode(e.value) === CLASS_HIT) return [];
      continue;
    }
    acc = acc === undefined ? dedupe(mb) : intersect(acc, mb);
    if (acc.length === 0) return [];
  }
  return acc;
}

function dedupe(list: readonly string[]): string[] {
  return list.length < 2 ? list.slice() : [...new Set(list)];
}

/** Elements of `a` also in `b`, in `a`'s order (deterministic, unlike a set's). */
export function intersect(a: readonly string[], b: readonly string[]): string[] {
  if (a.length === 0 || b.length === 0) return [];
  const inB = b.length > 8 ? new Set(b) : undefined;
  const out: string[] = [];
  for (const x of a) if ((inB ? inB.has(x) : b.includes(x)) && !out.includes(x)) out.push(x);
  return out;
}

/**
 * The entries [start, end) of one line, in session order, as `foldBranchLine` reads them: the
 * report's columns and decoded entries share one implementation of the rule.
 */
export interface LineEntries {
  num(k: number): number;
  den(k: number): number;
  missing(k: number): readonly string[] | undefined;
  scheme(k: number): string | undefined;
}

/** Stands for "no scheme recorded" (entries of version-1 reports), distinct from every name. */
const NO_SCHEME = '';
const NO_MISSING: readonly string[] = [];

/**
 * A line's value from entries of which some carry missing-branch lists, written into `out`.
 *
 * Lists of one scheme (all of them, as with any number of uploads of one format and tool) are
 * intersected and folded exactly as Codecov does. When the lists use several schemes (one test
 * run uploaded as Cobertura and LCOV), their ids cannot be compared, and intersecting them would
 * read as "every branch taken". Then, unless a session without a list hit the line, each side
 * (one scheme's sessions, intersected among themselves; or one fraction without a list) proves
 * a taken count and a missing count, and the line is `T/(T+M)` with T the largest taken count
 * and M the smallest missing count any side proves: partial where every side is partial, hit
 * where one side took every branch, miss where none took any. The result depends only on the
 * entries in session order, so any merge order or tree shape gives the same value.
 */
export function foldBranchLine(src: LineEntries, start: number, end: number, out: EncodedValue): void {
  let first: string | undefined;
  let mixed = false;
  let known = false;
  for (let k = start; k < end; k++) {
    if (src.missing(k) === undefined) continue;
    const s = src.scheme(k) ?? NO_SCHEME;
    if (!known) {
      known = true;
      first = s;
    } else if (s !== first) mixed = true;
  }
  let missing: readonly string[] | undefined;
  if (mixed) {
    // A session without a list that hit the line leaves no branch missing, in any scheme.
    for (let k = start; k < end && missing === undefined; k++) {
      if (src.missing(k) === undefined && classifyEncoded(src.num(k), src.den(k)) === CLASS_HIT) missing = NO_MISSING;
    }
  } else if (known) missing = intersectRange(src, start, end, undefined);
  out.num = src.num(start);
  out.den = src.den(start);
  for (let k = start + 1; k < end; k++) mergeEncoded(out.num, out.den, src.num(k), src.den(k), missing, out);
  if (!mixed || missing !== undefined || out.den < 0 || out.num === out.den) return;

  let taken = -1;
  let least = Infinity;
  const seen: string[] = [];
  for (let k = start; k < end; k++) {
    const d = src.den(k);
    const mb = src.missing(k);
    if (mb === undefined) {
      if (d >= 0) {
        const n = src.num(k);
        if (n > taken) taken = n;
        if (d - n < least) least = d - n;
      }
      continue;
    }
    const s = src.scheme(k) ?? NO_SCHEME;
    if (seen.includes(s)) continue;
    seen.push(s);
    // The scheme's first fraction gives its branch count, as the left-hand side does in Codecov.
    let total = -1;
    for (let j = k; j < end && total < 0; j++) {
      if (src.missing(j) !== undefined && (src.scheme(j) ?? NO_SCHEME) === s && src.den(j) >= 0) total = src.den(j);
    }
    if (total < 0) continue;
    const m = Math.min(intersectRange(src, start, end, s).length, total);
    if (total - m > taken) taken = total - m;
    if (m < least) least = m;
  }
  if (taken < 0) return;
  out.num = taken;
  out.den = taken + least;
}

/**
 * The intersection of the lists of entries [start, end) in `scheme` (every list when undefined);
 * [] when an entry without a list hit the line.
 */
function intersectRange(src: LineEntries, start: number, end: number, scheme: string | undefined): string[] {
  let acc: string[] | undefined;
  for (let k = start; k < end; k++) {
    const mb = src.missing(k);
    if (mb === undefined) {
      if (classifyEncoded(src.num(k), src.den(k)) === CLASS_HIT) return [];
      continue;
    }
    if (scheme !== undefined && (src.scheme(k) ?? NO_SCHEME) !== scheme) continue;
    acc = acc === undefined ? dedupe(mb) : intersect(acc, mb);
    if (acc.length === 0) return [];
  }
  return acc ?? [];
}

/**
 * A line's value from all its sessions, folded in the given (session-id) order with the missing
 * branch intersection (Codecov's `get_coverage_from_sessions`), per branch-id scheme.
 */
export function foldSessionValues(
  entries: ReadonlyArray<Pick<SessionEntry, 'value' | 'missingBranches' | 'branchScheme'>>,
): LineValue | undefined {
  if (entries.length === 0) return undefined;
  if (entries.length === 1) return entries[0]!.value;
  const enc = entries.map((e) => encodeOrThrow(e.value));
  const src: LineEntries = {
    num: (k) => enc[k]!.num,
    den: (k) => enc[k]!.den,
    missing: (k) => entries[k]!.missingBranches,
    scheme: (k) => entries[k]!.branchScheme,
  };
  const out: EncodedValue = { num: 0, den: 0 };
  foldBranchLine(src, 0, entries.length, out);
  return decodeValue(out.num, out.den);
}

/**
 * Merges two records of the same line from the same session (Codecov's `merge_line_session`):
 * a duplicated file in one report, several Go blocks on one line. Missing branches intersect
 * (a hit without a list clears them), partial spans concatenate, complexity takes the maximum.
 */
export function mergeSessionEntries(a: SessionEntry, b: SessionEntry): SessionEntry {
  const ma = a.missingBranches;
  const mb = b.missingBranches;
  let missing: string[] | undefined;
  if (ma === undefined && mb === undefined) missing = undefined;
  else if (ma === undefined) missing = classCode(a.value) === CLASS_HIT ? [] : mb!.slice();
  else if (mb === undefined) missing = classCode(b.value) === CLASS_HIT ? [] : ma.slice();
  else missing = intersect(ma, mb);

  const out: SessionEntry = {
    sessionId: a.sessionId,
    value: mergeValues(a.value, b.value, missing)!,
  };
  const type = a.type !== undefined && a.type !== 'line' ? a.type : b.type;
  if (type !== undefined && type !== 'line') out.type = type;
  if (missing !== undefined) {
    out.missingBranches = missing;
    const scheme = a.branchScheme ?? b.branchScheme;
    if (scheme !== undefined) out.branchScheme = scheme;
  }
  const partials = mergePartialLists(a.partials, b.partials);
  if (partials !== undefined) out.partials = partials;
  const complexity = maxComplexity(a.complexity, b.complexity);
  if (complexity !== undefined) out.complexity = complexity;
  return out;
}

function mergePartialLists(
  a: PartialSpan[] | undefined,
  b: PartialSpan[] | undefined,
): PartialSpan[] | undefined {
  const hasA = a !== undefined && a.length > 0;
  const hasB = b !== undefined && b.length > 0;
  if (!hasA && !hasB) return undefined;
  if (!hasA) return b!.map(copySpan);
  if (!hasB) return a!.map(copySpan);
  // Stable sort by start column (null = from the line's start), as Codecov sorts by p[0].
  return [...a!, ...b!].map(copySpan).sort((x, y) => (x[0] ?? -1) - (y[0] ?? -1));
}

function copySpan(s: PartialSpan): PartialSpan {
  return [s[0], s[1], s[2]];
}

export function maxComplexity(
  a: LineExtras['complexity'],
  b: LineExtras['complexity'],
): LineExtras['complexity'] {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (typeof a === 'number' && typeof b === 'number') return Math.max(a, b);
  const pa: [number, number] = typeof a === 'number' ? [a, 0] : a;
  const pb: [number, number] = typeof b === 'number' ? [b, 0] : b;
  return [Math.max(pa[0], pb[0]), Math.max(pa[1], pb[1])];
}
