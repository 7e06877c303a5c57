import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CommitShaSchema, RepoSlugSchema } from '../vocabulary';
import { keys, type BlobStore } from './blob-store';
import type { Database } from './database';
import type { Store } from './store';

/**
 * Source text sent with uploads (`tributary upload --sources`): per commit and report path, a
 * content-addressed blob (`sources/<sha256>`), so the same file in a thousand commits is stored
 * once. Retention (gc-plan.ts) deletes a text once no upload sent it for TRIBUTARY_SOURCE_RETENTION.
 */

/** Largest single source file kept; a larger one is refused by the CLI before sending and by the gateway. */
export const MAX_SOURCE_FILE_BYTES = 4 * 1024 * 1024;
/** Files one upload's sources may name (a report naming more is capped by the CLI, with a warning). */
export const MAX_SOURCE_FILES = 20_000;

export const SourcePathSchema = z.string().min(1).max(4096);
const Digest = z.string().regex(/^[0-9a-f]{64}$/);

export interface SourceEntry {
  path: string;
  digest: string;
  bytes: number;
}

/** The commit_sources rows. */
export class SourceStore {
  constructor(private readonly db: Database) {}

  /** Records (or refreshes, so retention counts from now) each path's text for the commit. */
  async record(commitId: number, entries: readonly SourceEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const parsed = z.array(z.object({ path: SourcePathSchema, digest: Digest, bytes: z.number().int().nonnegative() })).max(MAX_SOURCE_FILES).parse(entries);
    await this.db.query(
      `INSERT INTO commit_sources (commit_id, path, digest, bytes)
       SELECT $1, p, d, b FROM unnest($2::text[], $3::text[], $4::int[]) AS e(p, d, b)
       ON CONFLICT (commit_id, path) DO UPDATE SET digest = EXCLUDED.digest, bytes = EXCLUDED.bytes, updated_at = now()`,
      [commitId, parsed.map((e) => e.path), parsed.map((e) => e.digest), parsed.map((e) => e.bytes)],
    );
  }

  /** The digest of the text of `path` in the commit, or null. */
  async find(repo: string, sha: string, path: string): Promise<string | null> {
    const [row] = await this.db.query<{ digest: string }>(
      `SELECT s.digest FROM commit_sources s JOIN commits c ON c.id = s.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE r.slug = $1 AND c.sha = $2 AND s.path = $3`,
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha), SourcePathSchema.parse(path)],
    );
    return row?.digest ?? null;
  }

  /** The paths of the commit that have source text, sorted. */
  async paths(repo: string, sha: string): Promise<string[]> {
    const rows = await this.db.query<{ path: string }>(
      `SELECT s.path FROM commit_sources s JOIN commits c ON c.id = s.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE r.slug = $1 AND c.sha = $2 ORDER BY s.path`,
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha)],
    );
    return rows.map((r) => r.path);
  }
}

export interface SourceDeps {
  store: Store;
  blobs: BlobStore;
}

export const sourceDigest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Stores the texts (blobs first, each only when missing: the same text is one blob) and then the
 * commit's rows, so a row never names a blob not yet written.
 */
export async function saveCommitSources(deps: SourceDeps, commitId: number, files: ReadonlyMap<string, string>): Promise<SourceEntry[]> {
  const entries: SourceEntry[] = [];
  for (const [path, text] of files) {
    const bytes = Buffer.from(text, 'utf8');
    const digest = sourceDigest(bytes);
    const key = keys.source(digest);
    if (!(await deps.blobs.exists(key))) await deps.blobs.put(key, bytes);
    entries.push({ path, digest, bytes: bytes.byteLength });
  }
  await deps.store.recordCommitSources(commitId, entries);
  return entries;
}

/**
 * The source text of `path` (a path of the commit's report) as its upload sent it; null when no
 * upload of the commit sent that file, or retention has deleted the text since.
 */
export async function readCommitSource(deps: SourceDeps, repoSlug: string, sha: string, path: string): Promise<string | null> {
  const digest = await deps.store.findCommitSource(repoSlug, sha, path);
  if (digest === null) return null;
  const bytes = await deps.blobs.get(keys.source(digest));
  return bytes === null ? null : Buffer.from(bytes).toString('utf8');
}
