/**
 * Compares two commits of a repository from what is stored: their saved reports, head's diff and
 * the repository's path fixes. The base is the one given, else the base recorded with head's
 * diff (what `--diff-base` diffed against: the pull request's base), else head's recorded parent;
 * the answer says which (`baseSource`).
 */
import { gunzipSync } from 'node:zlib';
import { compareCommits } from '../coverage/commit-compare';
import type { BaseSource, CommitComparison } from '../coverage/commit-comparison';
import { createPathResolver } from '../coverage/paths';
import { readReport } from '../coverage/report-format';
import { parseUnifiedDiff, patchLines, type DiffFile, type PatchLines } from '../coverage/unified-diff';
import type { BlobStore } from '../storage/blob-store';
import type { CommitDiffRow, Store } from '../storage/store';
import { isTerminalUploadState } from '../vocabulary';

export interface ComparisonDeps {
  store: Store;
  blobs: BlobStore;
}

export interface ComparisonOptions {
  baseSha?: string;
  flag?: string;
}

/** Why there is no comparison: the API answers these with 404 or 409. */
export type ComparisonGap =
  | { kind: 'no_base' }
  | { kind: 'no_report'; side: 'base' | 'head'; sha: string }
  | { kind: 'not_complete'; side: 'base' | 'head'; sha: string };

export type ComparisonResult = { ok: true; comparison: CommitComparison } | { ok: false; gap: ComparisonGap };

/** A stored diff's text. */
export function diffText(row: CommitDiffRow): string {
  // Stored by the gateway within its cap, so the stored size bounds the output.
  return gunzipSync(row.gzip, { maxOutputLength: Math.max(1, row.bytes) }).toString('utf8');
}

/**
 * The comparison, or why there is none. With `requireComplete`, a commit with uploads still in
 * flight is a gap (its report is about to change); without, the saved reports are compared as
 * they are.
 */
export async function resolveComparison(
  deps: ComparisonDeps,
  repoSlug: string,
  headSha: string,
  options: ComparisonOptions & { requireComplete?: boolean } = {},
): Promise<ComparisonResult> {
  const { store, blobs } = deps;
  const [head, diffRow, repository] = await Promise.all([store.getCommit(repoSlug, headSha), store.getCommitDiff(repoSlug, headSha), store.getRepository(repoSlug)]);
  let baseSha: string | undefined;
  let baseSource: BaseSource | undefined;
  if (options.baseSha !== undefined) [baseSha, baseSource] = [options.baseSha, 'given'];
  else if (diffRow?.baseSha != null) [baseSha, baseSource] = [diffRow.baseSha, 'pullRequest'];
  else if (head?.metadata.parentSha !== undefined) [baseSha, baseSource] = [head.metadata.parentSha, 'parent'];
  if (baseSha === undefined || baseSource === undefined) return { ok: false, gap: { kind: 'no_base' } };

  const sides = [
    { side: 'base' as const, sha: baseSha },
    { side: 'head' as const, sha: headSha },
  ];
  const reports = [];
  for (const { side, sha } of sides) {
    // Uploads before the report (as the commit route reads them): the report is then at least as new.
    const uploads = await store.listUploads(repoSlug, sha);
    const saved = await store.getCommitReport(repoSlug, sha);
    if (options.requireComplete === true && uploads.some((u) => !isTerminalUploadState(u.state))) return { ok: false, gap: { kind: 'not_complete', side, sha } };
    if (saved === null) return { ok: false, gap: { kind: 'no_report', side, sha } };
    const bytes = await blobs.get(saved.reportKey);
    if (bytes === null) throw new Error(`commit report blob ${saved.reportKey} is missing`);
    reports.push({ sha, report: readReport(bytes) });
  }

  let diff: DiffFile[] | undefined;
  if (diffRow !== null) diff = parseUnifiedDiff(diffText(diffRow));
  const comparison = compareCommits(reports[0]!, reports[1]!, diff, {
    resolvePath: diffPathResolver(repository?.settings ?? {}),
    ...(options.flag !== undefined ? { flag: options.flag } : {}),
  });
  comparison.baseSource = baseSource;
  return { ok: true, comparison };
}

/** Diff paths to report paths, through the repository's path fixes as report paths go. */
function diffPathResolver(settings: { fixes?: string[]; ignore?: string[] }): (path: string) => string | null {
  const resolver = createPathResolver({ fixes: settings.fixes, ignore: settings.ignore });
  return (p) => resolver.resolve(p);
}

/**
 * Head's patch lines per report path, from its stored diff (what the comparison's patch counts);
 * null when the commit has no diff stored.
 */
export async function loadPatchLines(deps: Pick<ComparisonDeps, 'store'>, repoSlug: string, sha: string): Promise<PatchLines | null> {
  const [diffRow, repository] = await Promise.all([deps.store.getCommitDiff(repoSlug, sha), deps.store.getRepository(repoSlug)]);
  if (diffRow === null) return null;
  return patchLines(parseUnifiedDiff(diffText(diffRow)), diffPathResolver(repository?.settings ?? {}));
}

/** The comparison of head with its base (given, the diff's, or the parent); null when either report is missing or no base is known. */
export async function loadComparison(deps: ComparisonDeps, repoSlug: string, headSha: string, options: ComparisonOptions = {}): Promise<CommitComparison | null> {
  const result = await resolveComparison(deps, repoSlug, headSha, options);
  return result.ok ? result.comparison : null;
}
