import { z } from 'zod';
import { CommitShaSchema, RepoSlugSchema } from '../vocabulary';
import { Int32, JsonValue } from './columns';
import { ensureCommit, repositoryIdOf } from './commits';
import type { Database } from './database';
import { toDate, type Timestamp } from './rows';

export const DELIVERY_KINDS = ['github_status', 'github_comment', 'webhook'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];
export const DELIVERY_STATES = ['pending', 'sent', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export const PlannedDelivery = z.object({
  id: z.string().min(1).max(100),
  idempotencyKey: z.string().min(1).max(2000),
  kind: z.enum(DELIVERY_KINDS),
  target: z.string().min(1).max(2000),
  payload: JsonValue,
});
export type PlannedDelivery = z.infer<typeof PlannedDelivery>;

export const PlanDeliveriesInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  reportVersion: Int32,
  deliveries: z.array(PlannedDelivery).max(100),
});
export type PlanDeliveriesInput = z.infer<typeof PlanDeliveriesInput>;

export interface DeliveryAttempt {
  attempt: number;
  statusCode: number | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface DeliveryRow {
  id: string;
  repo: string;
  sha: string;
  idempotencyKey: string;
  kind: DeliveryKind;
  target: string;
  reportVersion: number;
  payload: unknown;
  state: DeliveryState;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

interface DeliveryRecord {
  id: string;
  slug: string;
  sha: string;
  idempotency_key: string;
  kind: string;
  target: string;
  report_version: number;
  payload: unknown;
  state: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
}

const SELECT = `SELECT d.*, r.slug, c.sha FROM deliveries d JOIN commits c ON c.id = d.commit_id JOIN repositories r ON r.id = c.repository_id`;

function toDelivery(r: DeliveryRecord): DeliveryRow {
  return {
    id: r.id,
    repo: r.slug,
    sha: r.sha,
    idempotencyKey: r.idempotency_key,
    kind: z.enum(DELIVERY_KINDS).parse(r.kind),
    target: r.target,
    reportVersion: r.report_version,
    payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload,
    state: z.enum(DELIVERY_STATES).parse(r.state),
    attempts: r.attempts,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: toDate(r.created_at),
    sentAt: r.sent_at === null ? null : toDate(r.sent_at),
  };
}

/** How one try of a delivery ended. */
export const AttemptOutcome = z.object({
  /** sent: done; retry: another try follows; failed: given up. */
  outcome: z.enum(['sent', 'retry', 'failed']),
  statusCode: z.number().int().min(100).max(599).nullable(),
  error: z.string().max(2000).nullable(),
});
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

/**
 * Deliveries of feedback (commit statuses, PR comments, webhooks) and the log of their tries.
 * A delivery's idempotency key is unique: planning the same notification again answers the rows
 * it already has, in whatever state they are, so what was sent is never sent again.
 */
export class DeliveryStore {
  constructor(private readonly db: Database) {}

  /** Inserts the deliveries not planned yet and answers all of them (the existing ones as they are). */
  async plan(raw: PlanDeliveriesInput): Promise<DeliveryRow[]> {
    const input = PlanDeliveriesInput.parse(raw);
    if (input.deliveries.length === 0) return [];
    const commitId = await ensureCommit(this.db, input.repo, input.sha);
    for (const d of input.deliveries) {
      await this.db.query(
        `INSERT INTO deliveries (id, commit_id, idempotency_key, kind, target, report_version, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (idempotency_key) DO NOTHING`,
        [d.id, commitId, d.idempotencyKey, d.kind, d.target, input.reportVersion, JSON.stringify(d.payload)],
      );
    }
    const rows = await this.db.query<DeliveryRecord>(`${SELECT} WHERE d.idempotency_key = ANY($1::text[]) ORDER BY d.created_at, d.id`, [
      input.deliveries.map((d) => d.idempotencyKey),
    ]);
    const order = new Map(input.deliveries.map((d, i) => [d.idempotencyKey, i]));
    return rows.map(toDelivery).sort((a, b) => order.get(a.idempotencyKey)! - order.get(b.idempotencyKey)!);
  }

  /** Whether any feedback was planned for the commit (it was settled before). */
  async anyForCommit(repo: string, sha: string): Promise<boolean> {
    const [row] = await this.db.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM deliveries d JOIN commits c ON c.id = d.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE r.slug = $1 AND c.sha = $2) AS any`,
      [RepoSlugSchema.parse(repo), CommitShaSchema.parse(sha)],
    );
    return row?.any === true;
  }

  async get(id: string): Promise<DeliveryRow | null> {
    const [row] = await this.db.query<DeliveryRecord>(`${SELECT} WHERE d.id = $1`, [z.string().min(1).max(100).parse(id)]);
    return row === undefined ? null : toDelivery(row);
  }

  /** Starts a try of a delivery still pending: its number, or null when it is sent or given up. */
  async startAttempt(id: string): Promise<number | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ attempts: number }>(
        `UPDATE deliveries SET attempts = attempts + 1, updated_at = now() WHERE id = $1 AND state = 'pending' RETURNING attempts`,
        [id],
      );
      if (row === undefined) return null;
      await tx.query(`INSERT INTO delivery_attempts (delivery_id, attempt) VALUES ($1, $2)`, [id, row.attempts]);
      return row.attempts;
    });
  }

  /** Records how a try ended; the delivery moves to sent or failed only from pending. */
  async finishAttempt(id: string, attempt: number, raw: AttemptOutcome): Promise<void> {
    const o = AttemptOutcome.parse(raw);
    const state = o.outcome === 'retry' ? 'pending' : o.outcome;
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE delivery_attempts SET status_code = $3, error = $4, finished_at = now() WHERE delivery_id = $1 AND attempt = $2`, [
        id,
        Int32.parse(attempt),
        o.statusCode,
        o.error,
      ]);
      await tx.query(
        `UPDATE deliveries SET state = $2, last_status = $3, last_error = $4, updated_at = now(),
           sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END
         WHERE id = $1 AND state = 'pending'`,
        [id, state, o.statusCode, o.error],
      );
    });
  }

  /** A repository's deliveries, newest first, with their tries (optionally of one commit). */
  async list(repo: string, opts: { sha?: string; limit?: number } = {}): Promise<(DeliveryRow & { log: DeliveryAttempt[] })[]> {
    const repositoryId = await repositoryIdOf(this.db, RepoSlugSchema.parse(repo));
    const sha = opts.sha === undefined ? null : CommitShaSchema.parse(opts.sha);
    const limit = z.number().int().min(1).max(1000).parse(opts.limit ?? 100);
    const rows = await this.db.query<DeliveryRecord>(
      `${SELECT} WHERE c.repository_id = $1 AND ($2::text IS NULL OR c.sha = $2) ORDER BY d.created_at DESC, d.id LIMIT $3`,
      [repositoryId, sha, limit],
    );
    if (rows.length === 0) return [];
    const attempts = await this.db.query<{ delivery_id: string; attempt: number; status_code: number | null; error: string | null; started_at: Timestamp; finished_at: Timestamp | null }>(
      `SELECT * FROM delivery_attempts WHERE delivery_id = ANY($1::text[]) ORDER BY delivery_id, attempt`,
      [rows.map((r) => r.id)],
    );
    const byDelivery = new Map<string, DeliveryAttempt[]>();
    for (const a of attempts) {
      const list = byDelivery.get(a.delivery_id) ?? [];
      list.push({ attempt: a.attempt, statusCode: a.status_code, error: a.error, startedAt: toDate(a.started_at), finishedAt: a.finished_at === null ? null : toDate(a.finished_at) });
      byDelivery.set(a.delivery_id, list);
    }
    return rows.map((r) => ({ ...toDelivery(r), log: byDelivery.get(r.id) ?? [] }));
  }
}
