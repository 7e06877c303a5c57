import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { UPLOAD_ID_CHARS } from '../vocabulary';

/** What a blob is written from: bytes in memory, or a stream (an upload body as it arrives). */
export type BlobBody = Uint8Array | Readable;

/**
 * Where raw uploads, intermediate reports and commit reports live. Keys are derived from ids
 * (upload ids, validated repository slugs and commit shas), never from names found in reports.
 */
export interface BlobStore {
  /**
   * Writes the blob whole or not at all: a stream that fails (or is destroyed by its producer)
   * leaves nothing under `key`. A stream is consumed as it arrives, never buffered whole.
   */
  put(key: string, body: BlobBody): Promise<void>;
  /** Returns null when the key does not exist. */
  get(key: string): Promise<Uint8Array | null>;
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /**
   * One page of the keys under `prefix`, in key order, after `after` (exclusive); `next` is the
   * cursor of the following page, null when this one is the last. Only the retention sweep lists.
   */
  list(prefix: string, page?: ListPage): Promise<BlobPage>;
}

export interface ListPage {
  after?: string;
  /** At most this many keys (the store may answer fewer); 1000 by default, S3's page size. */
  limit?: number;
}

export interface ListedBlob {
  key: string;
  size: number;
  /** The last write. */
  modifiedAt: Date;
}

export interface BlobPage {
  blobs: ListedBlob[];
  next: string | null;
}

export const DEFAULT_LIST_LIMIT = 1000;

export const BLOB_PREFIXES = {
  raw: 'raw',
  intermediate: 'intermediate',
  report: 'reports',
  scratch: 'scratch',
  source: 'sources',
} as const;

/** The prefixes retention sweeps (src/storage/gc-plan.ts), in the order a sweep takes them. */
export const GC_PREFIXES = [BLOB_PREFIXES.raw, BLOB_PREFIXES.intermediate, BLOB_PREFIXES.scratch, BLOB_PREFIXES.report, BLOB_PREFIXES.source] as const;
export type GcPrefix = (typeof GC_PREFIXES)[number];

/** What `keys.reportTotals` appends to a commit report's key. */
export const REPORT_TOTALS_SUFFIX = '.totals';

/**
 * The name of a part: one intermediate report holding several uploads' sessions, written by one
 * processor chunk. Its first upload's id and a digest of all of its upload ids, so a chunk that
 * groups its uploads otherwise on a retry never overwrites a part another grouping wrote (a late
 * attempt could otherwise put a session in two parts).
 */
export function intermediatePartName(uploadIds: readonly string[]): string {
  if (uploadIds.length < 2) throw new Error('a part holds two or more uploads');
  return `${uploadIds[0]}.${createHash('sha256').update(uploadIds.join('\n')).digest('hex').slice(0, PART_DIGEST_CHARS)}`;
}

const PART_DIGEST_CHARS = 16;
/** A part's name read back: its first upload's id, or null when `name` is no part's. */
export function partFirstUpload(name: string): string | null {
  const m = PART_NAME.exec(name);
  return m ? m[1]! : null;
}
const PART_NAME = new RegExp(`^(${UPLOAD_ID_CHARS})\\.[0-9a-f]{${PART_DIGEST_CHARS}}$`);

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Joins key segments, refusing anything that could climb out of a prefix. */
export function blobKey(...segments: string[]): string {
  for (const s of segments) {
    if (!SAFE_SEGMENT.test(s) || s.includes('..')) throw new Error(`unsafe blob key segment: ${JSON.stringify(s)}`);
  }
  return segments.join('/');
}

export const keys = {
  /**
   * Registration draws a fresh upload id per attempt, so these keys belong to one attempt: a
   * retry never writes over the blob an existing upload points at (the row records the key).
   */
  raw: (uploadId: string) => blobKey(BLOB_PREFIXES.raw, uploadId),
  /** The repository's file list sent with an upload, one path per line. */
  repoFiles: (uploadId: string) => blobKey(BLOB_PREFIXES.raw, `${uploadId}.files`),
  /** Codecov's line fixes sent with an upload (StoredFixes JSON, src/codecov/fixes.ts). */
  reportFixes: (uploadId: string) => blobKey(BLOB_PREFIXES.raw, `${uploadId}.fixes`),
  /**
   * An upload's intermediate report, or a part's: `name` is the upload id, or the name of a part
   * (`intermediatePartName`) holding several uploads of one processor chunk.
   */
  intermediate: (name: string) => blobKey(BLOB_PREFIXES.intermediate, name),
  /**
   * Versioned (an experiment's shadow merges into the version its batch started from) and named
   * by the batch that wrote it, so a late finisher of a dead run never overwrites a live report.
   */
  commitReport: (repo: string, sha: string, version: number, batch: number) =>
    blobKey(BLOB_PREFIXES.report, ...repo.split('/'), sha, `v${version}-b${batch}`),
  /**
   * A commit report's per-file totals (src/coverage/report-format/file-totals.ts), written with
   * the report: named after it, so whoever holds the report's key finds them and retention keeps
   * or drops both together.
   */
  reportTotals: (reportKey: string) => blobKey(...`${reportKey}${REPORT_TOTALS_SUFFIX}`.split('/')),
  scratchIntermediate: (repo: string, sha: string, batch: number, name: string, area?: ScratchArea) =>
    blobKey(...scratchRoot(repo, sha, batch, area), 'intermediate', name),
  /** Source text sent with uploads, by the sha256 (hex) of its bytes: shared by every commit with the same text. */
  source: (digest: string) => blobKey(BLOB_PREFIXES.source, digest),
  scratchReport: (repo: string, sha: string, batch: number, area?: ScratchArea) => blobKey(...scratchRoot(repo, sha, batch, area), 'report'),
};

/** A scratch area apart from the experiments' (theirs has none): a re-verification's run and path. */
export interface ScratchArea {
  run: string;
  path: string;
}

/** The folder a scratch writer owns; each re-verification run and path has its own under `scratch/reverify/`. */
function scratchRoot(repo: string, sha: string, batch: number, area?: ScratchArea): string[] {
  const where = [...repo.split('/'), sha, `batch-${batch}`];
  return area === undefined ? [BLOB_PREFIXES.scratch, ...where] : [BLOB_PREFIXES.scratch, 'reverify', area.run, area.path, ...where];
}
