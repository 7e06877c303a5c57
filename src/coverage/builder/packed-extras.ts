import type { LineExtras } from '../types';

/**
 * The extras of one file: sorted keys in a typed array and the values beside them, both shared
 * by the files of a chunk, so an entry costs 12 bytes where a Map takes about 50 (LCOV reports
 * have one on every partly covered branch line). Read-only, like every file column; consumers
 * use `get` and `size`, the iterators go through a Map built on demand.
 */
export class PackedExtras implements ReadonlyMap<number, LineExtras> {
  constructor(
    private readonly keyCol: Uint32Array,
    private readonly valCol: readonly LineExtras[],
    private readonly from: number,
    private readonly to: number,
  ) {}

  get size(): number {
    return this.to - this.from;
  }

  private find(k: number): number {
    const keys = this.keyCol;
    let lo = this.from;
    let hi = this.to - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = keys[mid]!;
      if (v < k) lo = mid + 1;
      else if (v > k) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  get(k: number): LineExtras | undefined {
    const i = this.find(k);
    return i < 0 ? undefined : this.valCol[i];
  }

  has(k: number): boolean {
    return this.find(k) >= 0;
  }

  forEach(fn: (value: LineExtras, key: number, map: ReadonlyMap<number, LineExtras>) => void, thisArg?: unknown): void {
    for (let i = this.from; i < this.to; i++) fn.call(thisArg, this.valCol[i]!, this.keyCol[i]!, this);
  }

  private toMap(): Map<number, LineExtras> {
    const m = new Map<number, LineExtras>();
    for (let i = this.from; i < this.to; i++) m.set(this.keyCol[i]!, this.valCol[i]!);
    return m;
  }

  entries(): ReturnType<ReadonlyMap<number, LineExtras>['entries']> {
    return this.toMap().entries();
  }

  keys(): ReturnType<ReadonlyMap<number, LineExtras>['keys']> {
    return this.toMap().keys();
  }

  values(): ReturnType<ReadonlyMap<number, LineExtras>['values']> {
    return this.toMap().values();
  }

  [Symbol.iterator](): ReturnType<ReadonlyMap<number, LineExtras>['entries']> {
    return this.toMap().entries();
  }
}

/**
 * Packs the extras maps of several files (keys ascending in each) into one pair of columns; the
 * result has one PackedExtras per map, null for empty ones.
 */
export function packExtras(maps: ReadonlyArray<Map<number, LineExtras> | null>): Array<PackedExtras | null> {
  let total = 0;
  for (const m of maps) if (m !== null) total += m.size;
  const keyCol = new Uint32Array(total);
  const valCol = new Array<LineExtras>(total);
  const out: Array<PackedExtras | null> = [];
  let at = 0;
  for (const m of maps) {
    if (m === null || m.size === 0) {
      out.push(null);
      continue;
    }
    const from = at;
    let sorted = true;
    for (const [k, x] of m) {
      if (at > from && k <= keyCol[at - 1]!) sorted = false;
      keyCol[at] = k;
      valCol[at] = x;
      at++;
    }
    if (!sorted) {
      // Insertion order is ascending wherever the builder fills these maps; kept correct anyway.
      const pairs = [...m].sort((a, b) => a[0] - b[0]);
      for (let j = 0; j < pairs.length; j++) {
        keyCol[from + j] = pairs[j]![0];
        valCol[from + j] = pairs[j]![1];
      }
    }
    out.push(new PackedExtras(keyCol, valCol, from, at));
  }
  return out;
}
