import { setTimeout as sleep } from 'node:timers/promises';
import {
  CommitStatusSchema,
  UploadStatusSchema,
  type CommitStatus,
  type UploadStatus,
} from './api-schemas';
import { isTerminalCommitState, isTerminalUploadState } from '../vocabulary';
import { Backoff, type HttpClient } from './http-client';
import { commitPath } from '../api/views';

// The gateway's own path builders, so a nested owner is encoded exactly as the routes read it.
export { commitPath, repoPath } from '../api/views';

/** The longest wait the server honours for one long-poll. */
export const MAX_LONG_POLL_MS = 30_000;

export interface FollowOptions {
  /** Epoch ms after which following stops and the last known state is answered. */
  deadline: number;
  now?: () => number;
  /** Delays between polls when the server answers without holding the request. */
  backoff?: () => Backoff;
}

function waitParam(deadline: number, now: number): string {
  const ms = Math.max(1000, Math.min(MAX_LONG_POLL_MS, deadline - now));
  return `${Math.floor(ms / 1000)}s`;
}

/**
 * Polls `fetch` until `done` or the deadline: every request long-polls (`?wait=`); when an answer
 * comes back early without news (a server or proxy that does not hold requests), the next poll
 * waits with exponential backoff, and any change resets it. No fixed sleeps.
 */
async function follow<T>(
  fetchOnce: (wait: string) => Promise<T>,
  same: (a: T, b: T) => boolean,
  done: (v: T) => boolean,
  onChange: (v: T) => void,
  options: FollowOptions,
): Promise<T> {
  const now = options.now ?? Date.now;
  const backoff = options.backoff?.() ?? new Backoff(250, 5_000);
  let last: T | undefined;
  for (;;) {
    const started = now();
    const wait = waitParam(options.deadline, started);
    const current = await fetchOnce(wait);
    const changed = last === undefined || !same(last, current);
    last = current;
    if (changed) {
      onChange(current);
      backoff.reset();
    }
    if (done(current) || now() >= options.deadline) return current;
    const heldMs = now() - started;
    if (!changed && heldMs < Number.parseInt(wait, 10) * 500) {
      await sleep(Math.min(backoff.next(), Math.max(0, options.deadline - now())));
    }
  }
}

/** Runs `fn` over `items` with at most `limit` at a time, answering results in input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export function followUpload(
  client: HttpClient,
  token: string,
  id: string,
  onChange: (s: UploadStatus) => void,
  options: FollowOptions,
): Promise<UploadStatus> {
  return follow(
    async (wait) => (await client.json(UploadStatusSchema, `/api/v1/uploads/${encodeURIComponent(id)}`, { token, query: { wait } })).value,
    (a, b) => a.state === b.state && a.session === b.session,
    (s) => isTerminalUploadState(s.state),
    onChange,
    options,
  );
}

export async function getCommit(client: HttpClient, token: string, slug: string, sha: string): Promise<CommitStatus> {
  return (await client.json(CommitStatusSchema, commitPath(slug, sha), { token })).value;
}

export function followCommit(
  client: HttpClient,
  token: string,
  slug: string,
  sha: string,
  onChange: (c: CommitStatus) => void,
  options: FollowOptions,
): Promise<CommitStatus> {
  return follow(
    async (wait) => (await client.json(CommitStatusSchema, commitPath(slug, sha), { token, query: { wait } })).value,
    (a, b) => a.state === b.state,
    (c) => isTerminalCommitState(c.state),
    onChange,
    options,
  );
}
