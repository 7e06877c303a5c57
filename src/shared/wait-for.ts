import { setTimeout as sleep } from 'node:timers/promises';
import { unavailableDependency } from './dependency-errors';

export interface WaitOptions {
  /** What is waited for, as the log names it: "Temporal at host:port". */
  what: string;
  /** Give up after this long; 0 waits for ever. */
  timeoutMs: number;
  /** Errors worth waiting out; any other ends the wait at once. Default: every error. */
  retryable?: (err: unknown) => boolean;
  log?: (line: string) => void;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/** The wait for a dependency gave up: its message says what, for how long, and the last reason. */
export class DependencyWaitError extends Error {
  override readonly name = 'DependencyWaitError';
}

function reasonOf(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.split('\n')[0]!.slice(0, 300);
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1).replace(/\.0$/, '')}s` : `${Math.round(ms / 1000)}s`;
}

/**
 * Runs `attempt` until it succeeds, with a doubling delay and one log line per failed attempt
 * ("waiting for Temporal at host:port: <reason>; retrying in 2s"), so a process started before its
 * dependencies comes up with them instead of exiting. Past `timeoutMs` it throws.
 */
export async function waitFor<T>(attempt: () => Promise<T>, opts: WaitOptions): Promise<T> {
  const log = opts.log ?? ((line: string) => console.warn(line));
  const started = Date.now();
  let delay = opts.firstDelayMs ?? 500;
  const maxDelay = opts.maxDelayMs ?? 10_000;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (opts.retryable && !opts.retryable(err)) throw err;
      const reason = reasonOf(err);
      const left = opts.timeoutMs === 0 ? Infinity : started + opts.timeoutMs - Date.now();
      if (left <= 0) {
        throw new DependencyWaitError(`gave up waiting for ${opts.what} after ${seconds(Date.now() - started)}: ${reason}`, { cause: err });
      }
      const wait = Math.min(delay, left);
      log(`waiting for ${opts.what}: ${reason}; retrying in ${seconds(wait)}`);
      await sleep(wait);
      delay = Math.min(maxDelay, delay * 2);
    }
  }
}

/** What the start-up wait calls the configured database, without its credentials. */
export function databaseLabel(url: string | undefined): string {
  if (url === undefined) return 'the database';
  try {
    return `the database at ${new URL(url).host}`;
  } catch {
    return 'the database';
  }
}

/** Only a database that is not there (yet) is waited for: a wrong password or schema is final. */
export const databaseDown = (err: unknown): boolean => unavailableDependency(err) === 'database';
