/**
 * The HTTP gateway as a process of its own (`node dist/api/gateway.js`), next to workers on an
 * existing Temporal server (TEMPORAL_ADDRESS); the main command runs the same gateway in-process.
 */
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { openAppContextWhenReady, type AppContext } from '../app-context';
import { loadConfig, type Config } from '../config';
import { runProcess, type StopStack } from '../lifecycle';
import { connectClient, connectWhenReady } from '../temporal/connection';
import { describeAdminToken, ensureAdminToken } from './admin-token';
import { buildServer } from './server';
import { ensurePrivateDirSync } from '../private-files';

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

const LOG_LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** Builds the gateway over an opened context and a Temporal client, and listens. */
export async function startGateway(opts: { config: Config; app: AppContext; client: Client; adminToken: string }): Promise<RunningGateway> {
  const { config } = opts;
  const app = await buildServer({
    config,
    store: opts.app.store,
    blobs: opts.app.blobs,
    db: opts.app.db,
    client: opts.client,
    adminToken: opts.adminToken,
    logLevel: LOG_LEVELS[config.logLevel],
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.api.port;
  const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
  return { app, url: config.api.publicUrl ?? `http://${host}:${port}`, stop: () => app.close() };
}

/**
 * What to set when the standalone gateway cannot start: it is the gateway alone, so the Temporal
 * server (and, for workers to see its uploads, the database) must be given to it.
 */
export function standaloneHint(config: Config): string {
  const lines = [
    config.temporal.address === undefined
      ? `The gateway alone starts no Temporal server: set TEMPORAL_ADDRESS=host:port to a running one (now: unset, so the dev server port ${config.temporal.devPort} on 127.0.0.1 was tried), or run \`npm start\`, which starts everything.`
      : `Check that the Temporal server at TEMPORAL_ADDRESS=${config.temporal.address} is running (or TEMPORAL_CONFIG_FILE/TEMPORAL_PROFILE for a secured one).`,
  ];
  if (config.database.url === undefined) {
    lines.push('Set DATABASE_URL=postgres://… as well: workers in other processes cannot share the gateway\'s embedded PGlite database.');
  }
  return lines.join('\n');
}

async function main(stack: StopStack): Promise<void> {
  const config = loadConfig();
  ensurePrivateDirSync(config.dataDir);
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
  const context = await openAppContextWhenReady(config);
  stack.push('database', () => context.close());
  const connection = await connectWhenReady(config, address, connectClient).catch((err: Error) => {
    // Same error (its class decides how the start failure prints), with what to set.
    err.message = `${err.message}\n${standaloneHint(config)}`;
    throw err;
  });
  stack.push('client connection', () => connection.close());
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const admin = await ensureAdminToken(config);
  const gateway = await startGateway({ config, app: context, client, adminToken: admin.token });
  stack.push('gateway', gateway.stop);
  console.log(`Tributary gateway on ${gateway.url} (API docs ${gateway.url}/docs), admin token ${describeAdminToken(admin)}`);
}

if (require.main === module) runProcess(main);
