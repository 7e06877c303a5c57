/**
 * SEAM: a simple stand-in for the compare engine (issue 15, items 1 and 2), which replaces this
 * file at merge with the same signature. It compares the two saved reports' totals and per-file
 * totals; it knows no diff (`patch` is null) and no flags. Feedback (statuses, comment, webhooks)
 * is written against `CommitComparison` only, so it holds with a real patch too.
 */
import type { BlobStore } from '../storage/blob-store';
import type { Store } from '../storage/store';
import type { CommitComparison, FileComparison } from '../coverage/commit-comparison';
import { readReport } from '../coverage/report-format';
import { fileTotals, reportTotals, type CoverageTotals } from '../coverage/totals';
import type { CoverageReport } from '../coverage/report';

export interface ComparisonDeps {
  store: Store;
  blobs: BlobStore;
}

/**
 * The comparison of `headSha` with its base: `baseSha` when given, else the commit's recorded
 * parent. Null when either side has no saved report (or no base is known).
 */
export async function loadComparison(
  deps: ComparisonDeps,
  repoSlug: string,
  headSha: string,
  options: { baseSha?: string; flag?: string } = {},
): Promise<CommitComparison | null> {
  if (options.flag !== undefined) throw new Error('per-flag comparisons come with the compare engine');
  const baseSha = options.baseSha ?? (await deps.store.getCommit(repoSlug, headSha))?.metadata.parentSha;
  if (baseSha === undefined) return null;
  const [head, base] = await Promise.all([savedReport(deps, repoSlug, headSha), savedReport(deps, repoSlug, baseSha)]);
  if (head === null || base === null) return null;
  const headTotals = reportTotals(head);
  const baseTotals = reportTotals(base);
  return {
    base: { sha: baseSha, totals: baseTotals },
    head: { sha: headSha, totals: headTotals },
    coverageDelta: coverageDelta(headTotals.coverage, baseTotals.coverage),
    patch: null,
    files: fileComparisons(base, head),
  };
}

async function savedReport(deps: ComparisonDeps, repo: string, sha: string): Promise<CoverageReport | null> {
  const saved = await deps.store.getCommitReport(repo, sha);
  if (saved === null) return null;
  const bytes = await deps.blobs.get(saved.reportKey);
  if (bytes === null) throw new Error(`commit report blob ${saved.reportKey} is missing`);
  return readReport(bytes);
}

function fileComparisons(base: CoverageReport, head: CoverageReport): FileComparison[] {
  const before = new Map<string, CoverageTotals>();
  for (const f of base) before.set(f.path, fileTotals(f));
  const out: FileComparison[] = [];
  for (const f of head) {
    const h = fileTotals(f);
    const b = before.get(f.path) ?? null;
    before.delete(f.path);
    if (b !== null && sameTotals(b, h)) continue;
    out.push({ path: f.path, change: b === null ? 'added' : 'changed', base: b, head: h, coverageDelta: b === null ? null : coverageDelta(h.coverage, b.coverage), patch: null });
  }
  for (const [path, b] of before) out.push({ path, change: 'removed', base: b, head: null, coverageDelta: null, patch: null });
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

function sameTotals(a: CoverageTotals, b: CoverageTotals): boolean {
  return a.lines === b.lines && a.hits === b.hits && a.misses === b.misses && a.partials === b.partials && a.branches === b.branches && a.methods === b.methods;
}

/** head - base in percentage points, five decimals (exact on the five-decimal strings). */
export function coverageDelta(head: string, base: string): string {
  const units = toUnits(head) - toUnits(base);
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(units);
  return `${sign}${Math.floor(abs / 100_000)}.${String(abs % 100_000).padStart(5, '0')}`;
}

function toUnits(pct: string): number {
  const [int = '0', frac = ''] = pct.split('.');
  return Number(int) * 100_000 + Number(frac.padEnd(5, '0').slice(0, 5));
}
