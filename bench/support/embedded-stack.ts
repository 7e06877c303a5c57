import type { Client } from '@temporalio/client';
import { buildServer } from '../../src/api/server';
import { generateToken } from '../../src/api/tokens';
import { databasesUnderTest } from '../../test/support/database';
import { Pipeline } from '../../test/support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../../test/support/temporal';
import { spawnWorker } from '../../test/support/worker-process';
import path from 'node:path';
import { temporal } from '@temporalio/proto';

export interface EmbeddedStack {
  p: Pipeline;
  /** The gateway's base URL (127.0.0.1, a free port). */
  base: string;
  adminToken: string;
  /** Which database the pipeline runs on (pglite or postgres). */
  databaseKind: string;
  /** The dev server's client, for what the benches read of workflow histories. */
  client: Client;
  close(): Promise<void>;
}

/**
 * What the HTTP benchmarks measure against: a dev server, the last database under test
 * (PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set), one worker with the real
 * activities and the real gateway, its rate limit raised out of the way. With `workerProcess`
 * the worker is `src/worker.ts` in a process of its own (as production runs it: PostgreSQL only),
 * so the gateway and the worker each get a core; else it runs in this process.
 */
export async function openEmbeddedStack(opts: { env: Record<string, string>; rateLimitPerMinute: number; workerProcess?: boolean }): Promise<EmbeddedStack> {
  const url = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (url) process.env.TEST_DATABASE_URL = url;
  const targets = databasesUnderTest();
  const target = targets[targets.length - 1]!;
  const [env, bundle] = await Promise.all([createDevServerEnv(), bundleWorkflows()]);
  const database = await target.create();
  const p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database, env: opts.env });
  let stopWorker: () => Promise<void>;
  if (opts.workerProcess) {
    if (database.url === undefined) throw new Error('a worker process needs PostgreSQL (TEST_DATABASE_URL or BENCH_DATABASE_URL)');
    const child = spawnWorker(
      {
        ...opts.env,
        TEMPORAL_ADDRESS: env.connection.options.address,
        TEMPORAL_TASK_QUEUE: p.config.temporal.taskQueue,
        TRIBUTARY_DATA_DIR: p.config.dataDir,
        DATABASE_URL: database.url,
      },
      path.join(p.config.dataDir, 'worker.log'),
    );
    stopWorker = () => child.kill('SIGTERM');
    await untilPolled(env, p.config.temporal.taskQueue);
  } else {
    const worker = await p.worker();
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
    };
  }
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
    client: env.client,
    async close() {
      await app.close();
      await stopWorker();
      await p.close();
      await env.teardown();
    },
  };
}

/** Waits (bounded) until a worker polls the task queue: a worker process takes a few seconds to start. */
async function untilPolled(env: Awaited<ReturnType<typeof createDevServerEnv>>, taskQueue: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { pollers } = await env.client.workflowService.describeTaskQueue({
      namespace: env.namespace ?? 'default',
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    if ((pollers?.length ?? 0) > 0) return;
    if (Date.now() > deadline) throw new Error(`no worker polled ${taskQueue} within 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
