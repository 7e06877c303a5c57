/** Merging two records of one line of the session, and checking extras before they are stored. */
import { hasExtras, FLAG_EXTRAS, FLAG_TYPE_MASK } from '../columns';
import type { LineExtras } from '../types';
import { decodeValue, encodeValue, mergeEncoded, typeCode, typeName, type EncodedValue } from '../values';
import { mergeSessionEntries, type SessionEntry } from '../session-entries';

// The repeat-merge path runs per repeated line: imported bindings are property reads in CommonJS.
const mergeEnc = mergeEncoded;
const F_EXTRAS = FLAG_EXTRAS;
const F_TYPE = FLAG_TYPE_MASK;

/** Extras by record index: the log's column, or a Map for a file's output columns. */
export interface ExtrasByIndex {
  get(k: number): LineExtras | undefined;
  set(k: number, x: LineExtras): void;
  delete(k: number): void;
}

/** Record columns a merge can write to: the log, or a file's output columns. */
export interface RecordColumns {
  nums: Float64Array;
  dens: Int32Array;
  flags: Uint8Array;
  extras: ExtrasByIndex;
}

/** Merges a repeated record of one line (same session) into record k, with the in-session rule. */
export function mergeRecord(
  sessionId: number,
  cols: RecordColumns,
  k: number,
  num: number,
  den: number,
  t: number,
  x: LineExtras | undefined,
  scratch: EncodedValue,
): void {
  const oldFlags = cols.flags[k]!;
  if (x === undefined && !(oldFlags & F_EXTRAS)) {
    mergeEnc(cols.nums[k]!, cols.dens[k]!, num, den, undefined, scratch);
    cols.nums[k] = scratch.num;
    cols.dens[k] = scratch.den;
    if ((oldFlags & F_TYPE) === 0) cols.flags[k] = t;
    return;
  }
  const before = toEntry(sessionId, cols.nums[k]!, cols.dens[k]!, oldFlags & F_TYPE, oldFlags & F_EXTRAS ? cols.extras.get(k) : undefined);
  const merged = mergeSessionEntries(before, toEntry(sessionId, num, den, t, x));
  const err = encodeValue(merged.value, scratch);
  if (err !== null) throw new RangeError(err);
  cols.nums[k] = scratch.num;
  cols.dens[k] = scratch.den;
  const mx = extrasOf(merged);
  const mt = typeCode(merged.type);
  if (mx === undefined) {
    cols.flags[k] = mt;
    cols.extras.delete(k);
  } else {
    cols.flags[k] = mt | F_EXTRAS;
    cols.extras.set(k, mx);
  }
}

function toEntry(sessionId: number, num: number, den: number, t: number, x: LineExtras | undefined): SessionEntry {
  const e: SessionEntry = { sessionId, value: decodeValue(num, den) };
  if (t !== 0) e.type = typeName(t);
  if (x?.missingBranches !== undefined) e.missingBranches = x.missingBranches;
  if (x?.branchScheme !== undefined) e.branchScheme = x.branchScheme;
  if (x?.partials !== undefined) e.partials = x.partials;
  if (x?.complexity !== undefined) e.complexity = x.complexity;
  return e;
}

function extrasOf(e: SessionEntry): LineExtras | undefined {
  const x: LineExtras = {};
  if (e.missingBranches !== undefined) x.missingBranches = e.missingBranches;
  if (e.branchScheme !== undefined) x.branchScheme = e.branchScheme;
  if (e.partials !== undefined) x.partials = e.partials;
  if (e.complexity !== undefined) x.complexity = e.complexity;
  return hasExtras(x) ? x : undefined;
}

function isCount(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Why extras cannot be stored (columns and hits must be non-negative integers), or null. */
export function invalidExtras(x: LineExtras): string | null {
  if (x.missingBranches !== undefined) {
    const mb: unknown = x.missingBranches;
    if (!Array.isArray(mb)) return 'missing branches must be strings';
    // A loop, not `every`: this runs for every branch line with missing branches.
    for (let i = 0; i < mb.length; i++) if (typeof mb[i] !== 'string') return 'missing branches must be strings';
  }
  if (x.partials !== undefined) {
    if (!Array.isArray(x.partials)) return 'partials must be a list';
    for (const p of x.partials) {
      if (!Array.isArray(p) || p.length !== 3) return 'a partial span must be [start, end, hits]';
      if ((p[0] !== null && !isCount(p[0])) || (p[1] !== null && !isCount(p[1])) || !isCount(p[2])) {
        return `partial span ${JSON.stringify(p)} is not non-negative integers`;
      }
    }
  }
  const c = x.complexity;
  if (c !== undefined && !isCount(c) && !(Array.isArray(c) && c.length === 2 && isCount(c[0]) && isCount(c[1]))) {
    return `complexity ${JSON.stringify(c)} is not a count or [covered, total]`;
  }
  return null;
}
