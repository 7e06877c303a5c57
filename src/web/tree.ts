import { fileTotals, type CoverageTotals, type PathTotals } from '../coverage/totals';
import { ratio } from '../coverage/ratio';
import type { CoverageReport } from '../coverage/report';

/**
 * The commit page's file tree: per file its totals (the report's own `fileTotals`, so the numbers
 * are the API's), folders summing their files, shown one level at a time and a page at a time, so
 * a 20,000-file report costs one pass per request, not 20,000 rows of HTML. The entries come
 * from the per-file totals stored with the report (the finisher's), or from `fileEntries`.
 */

export type FileEntry = PathTotals;

/** A report's files in path order with their totals (reports saved without per-file totals). */
export function fileEntries(report: CoverageReport): FileEntry[] {
  const out: FileEntry[] = [];
  for (const f of report) out.push({ path: f.path, totals: fileTotals(f) });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface TreeNode {
  name: string;
  /** The folder's or file's full path (a folder's without a trailing slash). */
  path: string;
  kind: 'folder' | 'file';
  /** Files below a folder (1 for a file). */
  files: number;
  lines: number;
  hits: number;
  misses: number;
  partials: number;
  coverage: string;
}

export const TREE_SORTS = ['name', 'coverage', 'misses', 'lines'] as const;
export type TreeSort = (typeof TREE_SORTS)[number];
export const SORT_ORDERS = ['asc', 'desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

/**
 * The children of `folder` ('' for the root): files directly in it and its sub-folders, each
 * summing what is below. A folder with a single sub-folder and no files of its own is looked
 * through, so `src/main/java/…` does not take five clicks.
 */
export function folderChildren(files: readonly FileEntry[], folder: string): { folder: string; nodes: TreeNode[] } {
  let prefix = folder === '' ? '' : `${folder}/`;
  for (;;) {
    const nodes = childrenOf(files, prefix);
    const only = nodes.length === 1 ? nodes[0]! : undefined;
    if (only === undefined || only.kind !== 'folder') return { folder: prefix.replace(/\/$/, ''), nodes };
    prefix = `${only.path}/`;
  }
}

function childrenOf(files: readonly FileEntry[], prefix: string): TreeNode[] {
  const nodes: TreeNode[] = [];
  // Files are in path order, so a prefix's files are one run, and so is each sub-folder's: both
  // are found by binary search, and a folder's files are only summed (at the root of a
  // 20,000-file report that is most of the time a page takes).
  const start = lowerBound(files, prefix);
  const end = prefixEnd(files, prefix, start);
  for (let i = start; i < end; ) {
    const f = files[i]!;
    const slash = f.path.indexOf('/', prefix.length);
    if (slash < 0) {
      nodes.push({ name: f.path.slice(prefix.length), path: f.path, kind: 'file', files: 1, ...counts(f.totals) });
      i++;
      continue;
    }
    const path = f.path.slice(0, slash);
    const stop = prefixEnd(files, `${path}/`, i, end);
    let lines = 0;
    let hits = 0;
    let misses = 0;
    let partials = 0;
    for (let j = i; j < stop; j++) {
      const t = files[j]!.totals;
      lines += t.lines;
      hits += t.hits;
      misses += t.misses;
      partials += t.partials;
    }
    nodes.push({ name: path.slice(prefix.length), path, kind: 'folder', files: stop - i, lines, hits, misses, partials, coverage: ratio(hits, lines) });
    i = stop;
  }
  return nodes;
}

const counts = (t: CoverageTotals) => ({ lines: t.lines, hits: t.hits, misses: t.misses, partials: t.partials, coverage: t.coverage });

function lowerBound(files: readonly FileEntry[], prefix: string): number {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (files[mid]!.path < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The end of the run of paths starting with `prefix` that begins at `from` (before `to`). */
function prefixEnd(files: readonly FileEntry[], prefix: string, from: number, to = files.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (files[mid]!.path.startsWith(prefix)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sorted copy; folders and files mixed, ties by name so every order is total. */
export function sortNodes(nodes: readonly TreeNode[], by: TreeSort, order: SortOrder): TreeNode[] {
  const sign = order === 'asc' ? 1 : -1;
  const key = (n: TreeNode): number => (by === 'coverage' ? Number(n.coverage) : by === 'misses' ? n.misses : by === 'lines' ? n.lines : 0);
  return [...nodes].sort((a, b) => {
    const d = by === 'name' ? 0 : key(a) - key(b);
    if (d !== 0) return sign * d;
    const byName = a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    return by === 'name' ? sign * byName : byName;
  });
}

/** A bounded cache of report summaries by report key (a key's bytes never change). */
export class SummaryCache<T> {
  private readonly entries = new Map<string, Promise<T>>();
  constructor(private readonly capacity: number) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Re-inserted: a Map iterates in insertion order, so the first key is the least recent.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const loading = load();
    this.entries.set(key, loading);
    loading.catch(() => this.entries.delete(key));
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return loading;
  }
}
