/**
 * Generic webhooks: the notification as a JSON body, POSTed with
 * `X-Tributary-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`,
 * `X-Tributary-Timestamp` (Unix seconds, signed with the body so a captured request cannot be
 * replayed later) and `X-Tributary-Delivery` (the same on every try of one delivery). Any 2xx
 * accepts it; anything else is tried again with backoff, a Retry-After respected.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { bodyExcerpt, DeliveryError, retryAfterMs, send, USER_AGENT, type EventRequest, type FeedbackProvider, type SendResult } from './provider';

export const SIGNATURE_HEADER = 'X-Tributary-Signature';
export const TIMESTAMP_HEADER = 'X-Tributary-Timestamp';
export const DELIVERY_HEADER = 'X-Tributary-Delivery';
export const EVENT_HEADER = 'X-Tributary-Event';

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver checks: the signature, in constant time, and that the timestamp is recent. */
export function verifyWebhookSignature(secret: string, timestamp: string, body: string, signature: string, toleranceS = 300, nowS = Date.now() / 1000): boolean {
  const t = Number(timestamp);
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface WebhookOptions {
  url: string;
  secret: string;
  /** The event's name, sent as X-Tributary-Event. */
  event: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  now?: () => number;
}

export class WebhookProvider implements FeedbackProvider {
  constructor(private readonly opts: WebhookOptions) {}

  async sendEvent(req: EventRequest): Promise<SendResult> {
    const timestamp = String(Math.floor((this.opts.now ?? Date.now)() / 1000));
    const res = await send(
      this.opts.fetch ?? fetch,
      this.opts.url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': USER_AGENT,
          [EVENT_HEADER]: this.opts.event,
          [DELIVERY_HEADER]: req.deliveryId,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(this.opts.secret, timestamp, req.body),
        },
        body: req.body,
      },
      this.opts.timeoutMs ?? 15_000,
    );
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel();
      return { statusCode: res.status };
    }
    const text = await bodyExcerpt(res);
    // 410 Gone: the receiver says this endpoint is no more; nothing else is final.
    throw new DeliveryError(`POST ${this.opts.url}: ${res.status} ${text}`.trim(), res.status, res.status !== 410, retryAfterMs(res.headers.get('retry-after')));
  }
}
