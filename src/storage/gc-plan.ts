import type { RetentionPolicy } from '../config';
import { COMMIT_SHA, RepoSlugSchema, TERMINAL_UPLOAD_STATES, UploadIdSchema, type UploadState } from '../vocabulary';
import { BLOB_PREFIXES, partFirstUpload, REPORT_TOTALS_SUFFIX, type ListedBlob } from './blob-store';

/**
 * The retention planner: given the blobs that exist (a listed page), what the database says
 * refers to them, the policy and the time, which blobs go. Pure, so every rule is tested on its
 * own; the gc activity lists, asks the database and applies the plan. Commit diffs are not
 * blobs: they live in their commit's row (`commit_diffs`, gzipped, replaced by a later diff) and
 * go with it, so nothing here plans for them.
 */

/** What a key names, read back from the shapes `keys` in blob-store.ts writes. */
export type ParsedBlobKey =
  | { kind: 'raw'; uploadId: string; part: 'body' | 'files' | 'fixes' }
  | { kind: 'intermediate'; uploadId: string }
  /** A commit report version, or (`totals`) the per-file totals written with it (`keys.reportTotals`). */
  | { kind: 'report'; repo: string; sha: string; version: number; batch: number; part: 'report' | 'totals' }
  | { kind: 'scratch'; repo: string; sha: string; batch: number }
  | { kind: 'source'; digest: string }
  /** Anything else under a swept prefix: a crashed write's `.tmp` file, a stray object. */
  | { kind: 'unknown' };

const isUploadId = (s: string | undefined): s is string => s !== undefined && UploadIdSchema.safeParse(s).success;
const slugOf = (segments: string[]): string | null => {
  const slug = segments.join('/');
  return RepoSlugSchema.safeParse(slug).success ? slug : null;
};
const isSha = (s: string | undefined): s is string => s !== undefined && COMMIT_SHA.test(s);

export function parseBlobKey(key: string): ParsedBlobKey {
  const parts = key.split('/');
  const [prefix] = parts;
  if (prefix === BLOB_PREFIXES.raw && parts.length === 2) {
    const name = parts[1]!;
    if (isUploadId(name)) return { kind: 'raw', uploadId: name, part: 'body' };
    const side = /^(.+)\.(files|fixes)$/.exec(name);
    if (side && isUploadId(side[1])) return { kind: 'raw', uploadId: side[1], part: side[2] as 'files' | 'fixes' };
  }
  if (prefix === BLOB_PREFIXES.intermediate && parts.length === 2) {
    const uploadId = intermediateOwner(parts[1]!);
    if (uploadId !== null) return { kind: 'intermediate', uploadId };
  }
  // A slug has two or more segments (a nested owner: more), so the commit's parts are found from the end.
  if (prefix === BLOB_PREFIXES.report && parts.length >= 5) {
    const [sha, file] = parts.slice(-2);
    const repo = slugOf(parts.slice(1, -2));
    const totals = file!.endsWith(REPORT_TOTALS_SUFFIX);
    const m = /^v(\d{1,9})-b(\d{1,9})$/.exec(totals ? file!.slice(0, -REPORT_TOTALS_SUFFIX.length) : file!);
    if (repo !== null && isSha(sha) && m) {
      return { kind: 'report', repo, sha, version: Number(m[1]), batch: Number(m[2]), part: totals ? 'totals' : 'report' };
    }
  }
  if (prefix === BLOB_PREFIXES.source && parts.length === 2 && /^[0-9a-f]{64}$/.test(parts[1]!)) {
    return { kind: 'source', digest: parts[1]! };
  }
  if (prefix === BLOB_PREFIXES.scratch) {
    // `…/batch-N/report` or `…/batch-N/intermediate/<upload id>` (an upload id may be `report`).
    for (const tail of [1, 2]) {
      const rest = parts.slice(-tail);
      const shaped = tail === 1 ? rest[0] === 'report' : rest[0] === 'intermediate' && intermediateOwner(rest[1]!) !== null;
      if (!shaped || parts.length < tail + 5) continue;
      const [sha, batchDir] = parts.slice(-tail - 2, -tail);
      const repo = slugOf(parts.slice(1, -tail - 2));
      const m = /^batch-(\d{1,9})$/.exec(batchDir!);
      // A re-verification's area (`scratch/reverify/<run>/<path>/…`) reads as a slug no repository has, so the orphan rule takes it, as before.
      if (repo !== null && isSha(sha) && m) return { kind: 'scratch', repo, sha, batch: Number(m[1]) };
    }
  }
  return { kind: 'unknown' };
}

/**
 * The upload an intermediate's name belongs to: the upload itself, or a part's first upload (a
 * part's uploads are merged by one finisher, so they finish together).
 */
function intermediateOwner(name: string): string | null {
  return isUploadId(name) ? name : partFirstUpload(name);
}

export const commitRef = (repo: string, sha: string) => `${repo}@${sha}`;
export const batchRef = (repo: string, sha: string, batch: number) => `${repo}@${sha}#${batch}`;

export interface UploadReference {
  state: UploadState;
  rawKey: string;
  repoFilesKey: string | null;
  reportFixesKey: string | null;
  createdAt: Date;
  /** When it became merged (or last moved before failing or being cancelled); null while open. */
  finishedAt: Date | null;
}

export interface SavedReportReference {
  version: number;
  reportKey: string;
  savedAt: Date;
}

/** What the database holds about the blobs of one page. */
export interface BlobReferences {
  uploads: ReadonlyMap<string, UploadReference>;
  /** Per `commitRef`: the commit's saved (current) report. */
  reports: ReadonlyMap<string, SavedReportReference>;
  /** Per `batchRef`: when the experiment batch's verification was recorded. */
  verifications: ReadonlyMap<string, Date>;
  /** Per source digest: the last time an upload sent that text (commit_sources.updated_at, any commit). */
  sources: ReadonlyMap<string, Date>;
}

export const GC_REASONS = ['raw_expired', 'intermediate_done', 'scratch_verified', 'report_superseded', 'source_expired', 'orphan'] as const;
export type GcReason = (typeof GC_REASONS)[number];

export interface PlannedDeletion {
  key: string;
  size: number;
  reason: GcReason;
  /** A raw upload's body: its row is marked (uploads.raw_deleted_at) once it is gone. */
  rawOf?: string;
}

export interface GcPlan {
  delete: PlannedDeletion[];
  kept: number;
  keptBytes: number;
}

const isTerminal = (state: UploadState) => (TERMINAL_UPLOAD_STATES as readonly string[]).includes(state);

/**
 * Each blob is kept unless a rule says it goes:
 * - a raw upload (or its file list or line fixes) of a finished upload, once `rawMs` passed since registration;
 *   an open upload's raw blob is never deleted (it is still to be processed);
 * - an intermediate report of a finished upload (a part's: of its first upload), `intermediateGraceMs` after it finished;
 * - experiment scratch of a batch whose verification is recorded, `scratchGraceMs` after that;
 * - a report version older than the commit's current one (or of its version but another batch:
 *   a fenced-out finisher's), `reportGraceMs` after the current one was saved; the current
 *   version is always kept, and a higher one (a finisher between its write and its save) is
 *   left to the orphan rule; a report's per-file totals go and stay with their report;
 * - source text (content-addressed, shared by commits) `sourceMs` after the last upload that sent
 *   it, whichever commit; a commit's row then names a blob that is gone, and its file page shows
 *   no text;
 * - a blob no row refers to, `orphanGraceMs` after its last write (a registration or finisher
 *   may be between its write and its row).
 */
export function planGc(blobs: readonly ListedBlob[], refs: BlobReferences, policy: RetentionPolicy, now: Date): GcPlan {
  const t = now.getTime();
  const past = (since: Date, ms: number) => since.getTime() + ms <= t;
  const plan: GcPlan = { delete: [], kept: 0, keptBytes: 0 };
  for (const blob of blobs) {
    const decision = decide(blob);
    if (decision === null) {
      plan.kept++;
      plan.keptBytes += blob.size;
    } else {
      plan.delete.push({ key: blob.key, size: blob.size, ...decision });
    }
  }
  return plan;

  function decide(blob: ListedBlob): Pick<PlannedDeletion, 'reason' | 'rawOf'> | null {
    const orphan = () => (past(blob.modifiedAt, policy.orphanGraceMs) ? { reason: 'orphan' as const } : null);
    const parsed = parseBlobKey(blob.key);
    switch (parsed.kind) {
      case 'raw': {
        const upload = refs.uploads.get(parsed.uploadId);
        const own = parsed.part === 'body' ? upload?.rawKey : parsed.part === 'files' ? upload?.repoFilesKey : upload?.reportFixesKey;
        // A registration attempt that lost to a twin drew its own id: no row names its blob.
        if (upload === undefined || own !== blob.key) return orphan();
        if (!isTerminal(upload.state) || !past(upload.createdAt, policy.rawMs)) return null;
        return parsed.part === 'body' ? { reason: 'raw_expired', rawOf: parsed.uploadId } : { reason: 'raw_expired' };
      }
      case 'intermediate': {
        const upload = refs.uploads.get(parsed.uploadId);
        if (upload === undefined) return orphan();
        if (!isTerminal(upload.state) || upload.finishedAt === null) return null;
        return past(upload.finishedAt, policy.intermediateGraceMs) ? { reason: 'intermediate_done' } : null;
      }
      case 'scratch': {
        const verifiedAt = refs.verifications.get(batchRef(parsed.repo, parsed.sha, parsed.batch));
        if (verifiedAt === undefined) return orphan();
        return past(verifiedAt, policy.scratchGraceMs) ? { reason: 'scratch_verified' } : null;
      }
      case 'report': {
        const saved = refs.reports.get(commitRef(parsed.repo, parsed.sha));
        if (saved === undefined || parsed.version > saved.version) return orphan();
        // Per-file totals are kept exactly as long as the report they were written with.
        const reportKey = parsed.part === 'report' ? blob.key : blob.key.slice(0, -REPORT_TOTALS_SUFFIX.length);
        if (saved.reportKey === reportKey) return null;
        return past(saved.savedAt, policy.reportGraceMs) ? { reason: 'report_superseded' } : null;
      }
      case 'source': {
        const lastSent = refs.sources.get(parsed.digest);
        if (lastSent === undefined) return orphan();
        if (policy.sourceMs === undefined) return null;
        return past(lastSent, policy.sourceMs) ? { reason: 'source_expired' } : null;
      }
      case 'unknown':
        return orphan();
    }
  }
}
