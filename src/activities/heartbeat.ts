import { Context } from '@temporalio/activity';

/** Well inside the heavy activities' 30 s heartbeat timeout. */
const HEARTBEAT_INTERVAL_MS = 1000;

/**
 * Heartbeats for one activity execution, sent at most once an interval (the first at once);
 * local activities have none. Each heartbeat costs the worker's main thread about 0.1 ms (its
 * details are encoded and handed to the native worker), while Temporal sends the server at most
 * one per heartbeat timeout window anyway: a chunk of small uploads that beat at every stage
 * spent about 5% of the worker's CPU on them.
 */
export function throttledHeartbeat(intervalMs = HEARTBEAT_INTERVAL_MS): (details: unknown) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (details) => {
    const ctx = Context.current();
    if (ctx.info.isLocal) return;
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    ctx.heartbeat(details);
  };
}
