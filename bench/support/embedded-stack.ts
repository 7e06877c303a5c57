import { buildServer } from '../../src/api/server';
import { generateToken } from '../../src/api/tokens';
import { databasesUnderTest } from '../../test/support/database';
import { Pipeline } from '../../test/support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../../test/support/temporal';

export interface EmbeddedStack {
  p: Pipeline;
  /** The gateway's base URL (127.0.0.1, a free port). */
  base: string;
  adminToken: string;
  /** Which database the pipeline runs on (pglite or postgres). */
  databaseKind: string;
  close(): Promise<void>;
}

/**
 * What the HTTP benchmarks measure against: a dev server, the last database under test
 * (PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set), one worker with the real
 * activities and the real gateway, its rate limit raised out of the way.
 */
export async function openEmbeddedStack(opts: { env: Record<string, string>; rateLimitPerMinute: number }): Promise<EmbeddedStack> {
  const url = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (url) process.env.TEST_DATABASE_URL = url;
  const targets = databasesUnderTest();
  const target = targets[targets.length - 1]!;
  const [env, bundle] = await Promise.all([createDevServerEnv(), bundleWorkflows()]);
  const p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await target.create(), env: opts.env });
  const worker = await p.worker();
  const running = worker.run();
  const adminToken = generateToken();
  const config = { ...p.config, api: { ...p.config.api, rateLimitPerMinute: opts.rateLimitPerMinute } };
  const app = await buildServer({ config, store: p.store, blobs: p.blobs, db: p.db, client: env.client, adminToken });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the gateway has no port');
  return {
    p,
    base: `http://127.0.0.1:${address.port}`,
    adminToken,
    databaseKind: target.kind,
    async close() {
      await app.close();
      worker.shutdown();
      await running;
      await p.close();
      await env.teardown();
    },
  };
}
