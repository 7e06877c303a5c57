import { z } from 'zod';
import { UploadIdSchema } from '../vocabulary';
import type { Database } from './database';
import { toDate, toNumber } from './rows';

/** The windows queue times and throughput are read over, in minutes. */
export const QUEUE_WINDOWS_MINUTES = [5, 60] as const;
export type QueueWindow = (typeof QUEUE_WINDOWS_MINUTES)[number];

export interface QueueCounts {
  /** Uploads registered and not yet claimed ('uploaded'). */
  waiting: number;
  /** Uploads claimed by a batch and not yet merged or failed ('processing', 'processed'). */
  processing: number;
  /** When the oldest waiting upload was registered; null with nothing waiting. */
  oldestWaitingAt: Date | null;
}

export interface WindowFigures {
  minutes: QueueWindow;
  /** Uploads whose processing started in the window, and their queue times (seconds). */
  started: number;
  queueP50: number | null;
  queueP95: number | null;
  /** Uploads merged in the window, per minute. */
  mergedPerMinute: number;
}

export interface QueueSnapshot {
  /** The database's clock, which every figure is measured on. */
  at: Date;
  total: QueueCounts;
  repositories: (QueueCounts & { repo: string })[];
  windows: WindowFigures[];
}

export interface QueueTime {
  uploadId: string;
  startedAt: Date;
  seconds: number;
}

/**
 * The queue as the database holds it: the uploads table is the queue (registration inserts
 * 'uploaded', a claim stamps processing_started_at, a save stamps merged_at), so every figure is
 * read from there, on the database's clock.
 */
export class QueueStore {
  constructor(private readonly db: Database) {}

  async snapshot(): Promise<QueueSnapshot> {
    type CountRecord = { slug: string; waiting: number | string; processing: number | string; oldest: Date | string | null };
    const counts = await this.db.query<CountRecord>(
      `SELECT r.slug,
              count(*) FILTER (WHERE u.state = 'uploaded') AS waiting,
              count(*) FILTER (WHERE u.state IN ('processing', 'processed')) AS processing,
              min(u.created_at) FILTER (WHERE u.state = 'uploaded') AS oldest
       FROM uploads u JOIN commits c ON c.id = u.commit_id JOIN repositories r ON r.id = c.repository_id
       WHERE u.state IN ('uploaded', 'processing', 'processed')
       GROUP BY r.slug ORDER BY r.slug`,
    );
    const { at, windows } = await this.windows();
    const repositories = counts.map((c) => ({
      repo: c.slug,
      waiting: toNumber(c.waiting),
      processing: toNumber(c.processing),
      oldestWaitingAt: c.oldest === null ? null : toDate(c.oldest),
    }));
    const oldest = repositories.map((r) => r.oldestWaitingAt).filter((d): d is Date => d !== null);
    return {
      at,
      total: {
        waiting: repositories.reduce((n, r) => n + r.waiting, 0),
        processing: repositories.reduce((n, r) => n + r.processing, 0),
        oldestWaitingAt: oldest.length === 0 ? null : new Date(Math.min(...oldest.map((d) => d.getTime()))),
      },
      repositories,
      windows,
    };
  }

  /** Queue times and merges over the recent windows, and the database's clock they were read on. */
  async windows(): Promise<{ at: Date; windows: WindowFigures[] }> {
    const windows: WindowFigures[] = [];
    let at: Date | undefined;
    for (const minutes of QUEUE_WINDOWS_MINUTES) {
      type WindowRecord = { started: number | string; p50: number | string | null; p95: number | string | null; merged: number | string; at: Date | string };
      const [w] = await this.db.query<WindowRecord>(
        `SELECT s.started, s.p50, s.p95, m.merged, now() AS at FROM
           (SELECT count(*) AS started,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processing_started_at - created_at)) AS p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM processing_started_at - created_at)) AS p95
            FROM uploads WHERE processing_started_at >= now() - make_interval(mins => $1)) s,
           (SELECT count(*) AS merged FROM uploads WHERE merged_at >= now() - make_interval(mins => $1)) m`,
        [minutes],
      );
      at ??= toDate(w!.at);
      windows.push({
        minutes,
        started: toNumber(w!.started),
        queueP50: w!.p50 === null ? null : Number(w!.p50),
        queueP95: w!.p95 === null ? null : Number(w!.p95),
        mergedPerMinute: toNumber(w!.merged) / minutes,
      });
    }
    return { at: at!, windows };
  }

  /** Waiting uploads registered before this one (it is behind them), across every repository. */
  async waitingAhead(uploadId: string): Promise<number> {
    const [row] = await this.db.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM uploads w, uploads u
       WHERE u.id = $1 AND w.state = 'uploaded' AND (w.created_at, w.id) < (u.created_at, u.id)`,
      [UploadIdSchema.parse(uploadId)],
    );
    return toNumber(row?.n ?? 0);
  }

  /**
   * Queue times of uploads whose processing started after `after` and at least `settleMs` ago (a
   * claim's transaction stamps its start time before it commits), oldest first, at most `limit`.
   */
  async queueTimesSince(after: Date, settleMs: number, limit = 10_000): Promise<{ at: Date; times: QueueTime[] }> {
    const input = z.object({ after: z.date(), settleMs: z.number().int().nonnegative(), limit: z.number().int().min(1).max(100_000) }).parse({ after, settleMs, limit });
    const rows = await this.db.query<{ id: string; started: Date | string; seconds: number | string; until: Date | string }>(
      `SELECT id, processing_started_at AS started, extract(epoch FROM processing_started_at - created_at) AS seconds,
              now() - make_interval(secs => $2::double precision / 1000) AS until
       FROM uploads
       WHERE processing_started_at > $1::timestamptz AND processing_started_at <= now() - make_interval(secs => $2::double precision / 1000)
       ORDER BY processing_started_at LIMIT $3`,
      [input.after.toISOString(), input.settleMs, input.limit],
    );
    const times = rows.map((r) => ({ uploadId: r.id, startedAt: toDate(r.started), seconds: Number(r.seconds) }));
    // A full page stops at its last row; otherwise everything up to the settle line was read.
    const at = rows.length === input.limit ? times[times.length - 1]!.startedAt : rows[0] ? toDate(rows[0].until) : await this.settledUntil(input.settleMs);
    return { at, times };
  }

  /** The database's clock `settleMs` ago: where a reader of queueTimesSince starts. */
  async settledUntil(settleMs: number): Promise<Date> {
    const [row] = await this.db.query<{ until: Date | string }>(`SELECT now() - make_interval(secs => $1::double precision / 1000) AS until`, [settleMs]);
    return toDate(row!.until);
  }
}

/**
 * Seconds a new upload (or one with `ahead` uploads before it) should wait before its processing
 * starts, at the recent merge rate: the last 5 minutes', else the last hour's. Null when nothing
 * was merged in the last hour and something is ahead (no rate to go by).
 */
export function estimatedWaitSeconds(ahead: number, windows: readonly WindowFigures[]): number | null {
  if (ahead === 0) return 0;
  const rate = windows.find((w) => w.mergedPerMinute > 0)?.mergedPerMinute;
  return rate === undefined ? null : Math.round((ahead / rate) * 60);
}
