import type { UploadRow } from '../storage/store';
import { splitRepoSlug } from '../vocabulary';

export function uploadError(u: UploadRow): { code: string; message: string } | null {
  if (u.errorCode === null && u.errorMessage === null) return null;
  return { code: u.errorCode ?? 'error', message: u.errorMessage ?? '' };
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function uploadTimings(u: UploadRow) {
  return {
    createdAt: iso(u.createdAt),
    processingStartedAt: iso(u.processingStartedAt),
    processedAt: iso(u.processedAt),
    mergedAt: iso(u.mergedAt),
  };
}

/** Where every route but the health routes and the docs is served. */
export const API_PREFIX = '/api/v1';

/**
 * A repository's API path, `/api/v1/repos/{owner}/{name}`, for the gateway's answers and the CLI
 * alike: a nested owner (`group/sub`) is one segment with its slashes sent as %2F.
 */
export function repoPath(slug: string): string {
  const { owner, name } = splitRepoSlug(slug);
  return `${API_PREFIX}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}

export function commitPath(repo: string, sha: string): string {
  return `${repoPath(repo)}/commits/${encodeURIComponent(sha)}`;
}

export function uploadPath(uploadId: string): string {
  return `${API_PREFIX}/uploads/${uploadId}`;
}
