/**
 * One line's records across sessions, and within one session: the missing-branch intersection,
 * the fold of a line's sessions per branch-id scheme (Codecov's `get_coverage_from_sessions`, made
 * exact when formats name branches differently), and the merge of two records of one session.
 * The value merge rule itself is `mergeEncoded` in ./values.
 */
import type { LineExtras, LineType, LineValue, PartialSpan } from './types';
import {
  CLASS_HIT,
  classCode,
  classifyEncoded,
  decodeValue,
  encodeOrThrow,
  mergeEncoded,
  mergeValues,
  type EncodedValue,
} from './values';

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

// Local bindings: in CommonJS output each use of an imported binding is a property read (a getter
// call under tsx), which shows in the per-entry loops of the fold.
const HIT = CLASS_HIT;
const classify = classifyEncoded;
const merge = mergeEncoded;

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
      if (src.missing(k) === undefined && classify(src.num(k), src.den(k)) === HIT) missing = NO_MISSING;
    }
  } else if (known) missing = intersectRange(src, start, end, undefined);
  out.num = src.num(start);
  out.den = src.den(start);
  for (let k = start + 1; k < end; k++) merge(out.num, out.den, src.num(k), src.den(k), missing, out);
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
      if (classify(src.num(k), src.den(k)) === HIT) return [];
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
