/**
 * Byte-level pieces the line-based parsers (LCOV, Go, gcov) share: searching and trimming a line
 * in place, the digit loop of their fast paths, and the stable ordering they regroup records with.
 * Everything works on `Uint8Array` ranges, so no line is decoded to a string on the hot path.
 */

const ZERO = 0x30;

/** Index of the first `byte` in b[from, to), or -1. */
export function indexOf(b: Uint8Array, byte: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (b[i] === byte) return i;
  return -1;
}

/** Index of the last `byte` in b[from, to), or -1. */
export function lastIndexOf(b: Uint8Array, byte: number, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (b[i] === byte) return i;
  return -1;
}

/** b[s, e) without leading and trailing blanks (spaces and tabs). */
export function trim(b: Uint8Array, s: number, e: number): [number, number] {
  while (s < e && (b[s] === 0x20 || b[s] === 0x09)) s++;
  while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0x09)) e--;
  return [s, e];
}

/**
 * The digit loop of the parsers' fast paths: `scan` reads the ASCII digits from `i` and returns
 * where they stop, leaving their value in `value` (one reused instance per parser, so the two
 * results cost no allocation). Callers bound the run's length (15 digits stay exact) and fall back
 * to the strict `parseUint` path for anything unusual.
 */
export class DigitRun {
  value = 0;

  scan(b: Uint8Array, i: number, e: number): number {
    let v = 0;
    for (; i < e; i++) {
      const c = b[i]! - ZERO;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
    }
    this.value = v;
    return i;
  }
}

/**
 * Writes into `order` the indexes 0..n-1 ordered by `key[i]` (non-negative integers), stable.
 * The fast way is a native sort of the numbers `key * 2^k + index` in `scratch` (at least n
 * long): typed-array sort is numeric and far quicker than a comparator, and the index in the low
 * bits both makes the keys distinct and keeps equal keys in input order. That is exact while the
 * composed numbers stay below 2^53; past that, a comparator sort (the array it returns).
 */
export function stableOrder(
  key: ArrayLike<number>,
  n: number,
  scratch: Float64Array,
  order: Uint32Array,
): Uint32Array | number[] {
  let maxKey = 0;
  for (let i = 0; i < n; i++) if (key[i]! > maxKey) maxKey = key[i]!;
  let span = 1;
  while (span < n) span *= 2;
  if (maxKey < Number.MAX_SAFE_INTEGER / span - 1) {
    const keys = scratch.subarray(0, n);
    for (let i = 0; i < n; i++) keys[i] = key[i]! * span + i;
    keys.sort();
    for (let i = 0; i < n; i++) order[i] = keys[i]! % span;
    return order;
  }
  const fallback = Array.from({ length: n }, (_, i) => i);
  fallback.sort((a, b) => key[a]! - key[b]! || a - b);
  return fallback;
}
