import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  /** Counts every answered request under its route pattern (never the raw URL: ids would explode the labels). */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
      this.requests.inc(labels);
      this.latency.observe(labels, reply.elapsedTime / 1000);
    });
  }
}
