/**
 * A real gateway on 127.0.0.1 (port 0) over the real pipeline: a Temporal dev server, a worker
 * with the real activities, a database (PostgreSQL when TEST_DATABASE_URL is set, else PGlite)
 * and a blob folder. Extra gateways with other settings share the same pipeline and worker.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Writable } from 'node:stream';
import type { Config } from '../../src/config';
import { buildServer } from '../../src/api/server';
import { generateToken } from '../../src/api/tokens';
import { databasesUnderTest } from '../support/database';
import { Pipeline } from '../support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';

export interface Gateway {
  app: FastifyInstance;
  base: string;
  close(): Promise<void>;
}

export interface Harness {
  env: TestWorkflowEnvironment;
  p: Pipeline;
  adminToken: string;
  gateway: Gateway;
  /** Another gateway on the same pipeline, with some settings changed. */
  extraGateway(change: (c: Config) => Config, logStream?: Writable): Promise<Gateway>;
  close(): Promise<void>;
}

export async function openHarness(pipelineEnv: Record<string, string> = {}, opts: { notify?: boolean; uiPort?: number } = {}): Promise<Harness> {
  const [env, bundle] = await Promise.all([createDevServerEnv({ uiPort: opts.uiPort }), bundleWorkflows()]);
  const targets = databasesUnderTest();
  const target = targets[targets.length - 1]!;
  const p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await target.create(), env: pipelineEnv, notify: opts.notify });
  const worker: Worker = await p.worker();
  const running = worker.run();
  const adminToken = generateToken();
  const gateways: Gateway[] = [];
  const start = async (config: Config, logStream?: Writable): Promise<Gateway> => {
    const app = await buildServer({ config, store: p.store, blobs: p.blobs, db: p.db, client: env.client, adminToken, logStream, logLevel: logStream ? 'info' : false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    const g = { app, base: `http://127.0.0.1:${addr.port}`, close: () => app.close() };
    gateways.push(g);
    return g;
  };
  const gateway = await start(p.config);
  return {
    env,
    p,
    adminToken,
    gateway,
    extraGateway: (change, logStream) => start(change(p.config), logStream),
    async close() {
      for (const g of gateways) await g.close();
      worker.shutdown();
      await running;
      await p.close();
      await env.teardown();
    },
  };
}

// `any`: response bodies are checked field by field in the tests; typing each would add nothing.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  token?: string;
  json?: unknown;
  body?: NonNullable<Parameters<typeof fetch>[1]>['body'];
  headers?: Record<string, string>;
}

/** One HTTP call; the body is parsed as JSON when it is JSON. */
export async function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
  return { status: res.status, body: parsed, headers: res.headers };
}
