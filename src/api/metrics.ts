import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../storage/store';
import { VERIFICATION_OUTCOMES } from '../vocabulary';

/** A claim stamps processing_started_at inside its transaction: rows are read once this much older. */
const QUEUE_TIME_SETTLE_MS = 2_000;

/** The gateway's Prometheus metrics, in a registry of its own (several servers may share a process). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'tributary_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'tributary_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method, route and status (long-polls included)',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly uploadsAccepted = new Counter({
    name: 'tributary_uploads_accepted_total',
    help: 'Uploads registered (retries answered from an idempotency key are not counted again)',
    registers: [this.registry],
  });
  readonly uploadBytes = new Counter({
    name: 'tributary_upload_bytes_total',
    help: 'Bytes of uploads registered, as sent (compressed bodies count compressed)',
    registers: [this.registry],
  });

  readonly longPolls = new Gauge({
    name: 'tributary_long_polls_active',
    help: 'Requests waiting (?wait=) for an upload or commit to finish',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tributary_gateway_' });
  }

  /**
   * The queue and re-verification, read from the database at each scrape: every worker and
   * gateway writes there, so any gateway's /metrics shows them all. Queue times are observed
   * once each, as their processing start settles, from the gateway's first scrape on; a scrape
   * while the database is down keeps the previous values.
   */
  watchStore(store: Store): void {
    let waiting = 0;
    let processing = 0;
    let oldestAge = 0;
    let snapshotAt = 0;
    // One snapshot serves the three gauges of a scrape.
    const refresh = async () => {
      if (Date.now() - snapshotAt < 500) return;
      try {
        const s = await store.queueSnapshot();
        waiting = s.total.waiting;
        processing = s.total.processing;
        oldestAge = s.total.oldestWaitingAt === null ? 0 : Math.max(0, (s.at.getTime() - s.total.oldestWaitingAt.getTime()) / 1000);
        snapshotAt = Date.now();
      } catch {
        // stale values rather than a failed scrape
      }
    };
    new Gauge({
      name: 'tributary_queue_uploads',
      help: "Uploads in the queue: waiting ('uploaded', not yet claimed) and processing (claimed, not yet merged or failed)",
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        await refresh();
        this.set({ state: 'waiting' }, waiting);
        this.set({ state: 'processing' }, processing);
      },
    });
    new Gauge({
      name: 'tributary_queue_oldest_waiting_seconds',
      help: 'Age of the oldest waiting upload (0 with none waiting)',
      registers: [this.registry],
      async collect() {
        await refresh();
        this.set(oldestAge);
      },
    });
    let watermark: Date | undefined;
    new Histogram({
      name: 'tributary_queue_time_seconds',
      help: 'Queue time of uploads (registered -> processing started), observed as their processing starts',
      buckets: [0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200],
      registers: [this.registry],
      async collect() {
        try {
          if (watermark === undefined) {
            watermark = await store.queueSettledUntil(QUEUE_TIME_SETTLE_MS);
            return;
          }
          const { at, times } = await store.queueTimesSince(watermark, QUEUE_TIME_SETTLE_MS);
          for (const t of times) this.observe(t.seconds);
          watermark = at;
        } catch {
          // observed at the next scrape
        }
      },
    });
    new Counter({
      name: 'tributary_verifications_total',
      help: 'Commits re-verified by the schedule, by outcome (match, mismatch, skipped); any mismatch is a bug to chase',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
      async collect() {
        try {
          const counts = await store.verificationCounts();
          this.reset();
          for (const outcome of VERIFICATION_OUTCOMES) this.inc({ outcome }, counts[outcome]);
        } catch {
          // stale values rather than a failed scrape
        }
      },
    });
  }

  /** Counts every answered request under its route pattern (never the raw URL: ids would explode the labels). */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
      this.requests.inc(labels);
      this.latency.observe(labels, reply.elapsedTime / 1000);
    });
  }
}
