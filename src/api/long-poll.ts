import { z } from 'zod';
import { parseDuration } from '../duration';

/** The longest a request may wait for a state change. */
export const MAX_WAIT_MS = 60_000;

/**
 * `?wait=` as milliseconds: "30s", "500ms", "1m", or a bare number of seconds; longer than
 * MAX_WAIT_MS waits MAX_WAIT_MS (a client asking for more still gets an answer, just earlier).
 */
export const WaitSchema = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text === '') return 0;
    const trimmed = text.trim();
    const ms = /^\d+(\.\d+)?$/.test(trimmed) ? Math.round(Number(trimmed) * 1000) : parseDuration(trimmed);
    if (ms === undefined || !Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (examples: 30s, 500ms, 1m)` });
      return z.NEVER;
    }
    return Math.min(ms, MAX_WAIT_MS);
  })
  .describe('long-poll up to this long (e.g. 30s; at most 60s) for a terminal state');

/** The query of a route that long-polls. */
export const WaitQuery = z.object({ wait: WaitSchema });

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 1_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Loads a value until `done` says so, `timeoutMs` has passed, or `signal` aborts (the client went
 * away), re-checking with a growing delay: quick answers stay quick, slow ones cost few queries.
 * Returns the last value loaded either way.
 */
export async function pollUntil<T>(
  load: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await load();
  let delay = FIRST_DELAY_MS;
  while (!done(value) && !signal.aborted) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(delay, left), signal);
    if (signal.aborted) break;
    value = await load();
    delay = Math.min(MAX_DELAY_MS, Math.round(delay * 1.6));
  }
  return value;
}
