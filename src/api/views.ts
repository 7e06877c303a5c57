import type { UploadRow, UploadState } from '../storage/store';
import type { PUBLIC_UPLOAD_STATES } from './schemas';

export type PublicUploadState = (typeof PUBLIC_UPLOAD_STATES)[number];

/** `processed` is an internal step: to callers the upload is still processing until merged. */
export function publicState(state: UploadState): PublicUploadState {
  return state === 'processed' ? 'processing' : state;
}

export const TERMINAL_UPLOAD_STATES: ReadonlySet<UploadState> = new Set(['merged', 'error', 'cancelled']);

export function isTerminal(state: UploadState): boolean {
  return TERMINAL_UPLOAD_STATES.has(state);
}

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

export function commitPath(repo: string, sha: string): string {
  return `${API_PREFIX}/repos/${repo}/commits/${sha}`;
}

export function uploadPath(uploadId: string): string {
  return `${API_PREFIX}/uploads/${uploadId}`;
}
