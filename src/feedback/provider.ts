/**
 * Where feedback goes. An adapter sends one delivery per call and either returns the answer's
 * status code or throws a DeliveryError saying whether trying again may help (and when).
 * The delivery activity (src/activities/feedback.ts) owns retries and idempotency.
 */
import type { StatusState } from './statuses';

export interface CommitStatusRequest {
  sha: string;
  context: string;
  state: StatusState;
  description: string;
  targetUrl: string;
}

export interface PullRequestCommentRequest {
  pullRequest: number;
  body: string;
  /** A hidden text the comment contains, by which an earlier one is found and updated. */
  marker: string;
}

export interface EventRequest {
  /** The delivery's id (the same on every try), for receivers to drop duplicates. */
  deliveryId: string;
  /** The JSON body, sent byte for byte on every try. */
  body: string;
}

export interface SendResult {
  statusCode: number;
}

/** What a provider can take; an adapter implements the kinds its service has. */
export interface FeedbackProvider {
  setCommitStatus?(req: CommitStatusRequest): Promise<SendResult>;
  upsertPullRequestComment?(req: PullRequestCommentRequest): Promise<SendResult>;
  sendEvent?(req: EventRequest): Promise<SendResult>;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    /** The answer's status, null when none came (network error, timeout). */
    readonly statusCode: number | null,
    readonly retryable: boolean,
    /** When the service said when to come back (Retry-After, rate-limit reset). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** Longest wait a service's Retry-After may ask of us; beyond it the usual backoff applies. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value.trim());
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, Math.round(ms)), MAX_RETRY_AFTER_MS);
}

/** fetch with a deadline; a network failure or timeout is a retryable DeliveryError. */
export async function send(fetchFn: typeof fetch, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (err) {
    throw new DeliveryError(`${init.method ?? 'GET'} ${url}: ${err instanceof Error ? err.message : String(err)}`, null, true);
  }
}

/** The first bytes of an answer's body, for the delivery log. */
export async function bodyExcerpt(res: Response, max = 300): Promise<string> {
  try {
    const text = await res.text();
    return text.length > max ? `${text.slice(0, max)}…` : text;
  } catch {
    return '';
  }
}

export const USER_AGENT = 'tributary-feedback';
