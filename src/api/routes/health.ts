import { z } from 'zod';
import { keys } from '../../storage/blob-store';
import { RETRY_AFTER_SECONDS } from '../errors';
import type { RoutePlugin } from '../server';

const CHECK_TIMEOUT_MS = 3_000;

/** Resolves to 'ok' or a short reason; never hangs longer than CHECK_TIMEOUT_MS. */
async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([probe().then(() => 'ok'), timeout]);
  } catch (err) {
    return `error: ${err instanceof Error ? err.message.slice(0, 200) : 'unreachable'}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness, readiness and metrics, at the root and without authentication. */
export const healthRoutes: RoutePlugin = async (app, { ctx }) => {
  const { client, db, blobs } = ctx.deps;

  app.get(
    '/healthz',
    { schema: { summary: 'The gateway process is up', tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  const Readiness = z.object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.object({ temporal: z.string(), database: z.string(), blobs: z.string() }),
  });
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Temporal, the database and the blob store are reachable',
        tags: ['health'],
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const [temporal, database, blobStore] = await Promise.all([
        check(() => client.workflowService.getSystemInfo({})),
        check(() => db.query('SELECT 1')),
        // Any key will do: reachable means the store answered, whether or not it exists.
        check(() => blobs.exists(keys.raw('readiness-probe'))),
      ]);
      const ok = temporal === 'ok' && database === 'ok' && blobStore === 'ok';
      // As every other answer while a dependency is down: 503 with the same Retry-After.
      if (!ok) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: { temporal, database, blobs: blobStore } });
    },
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['health'], hide: true } }, async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
};
