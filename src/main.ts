/**
 * The main command: Tributary with everything embedded by default. Starts the Temporal dev server
 * (Web UI included, SQLite in the data folder) unless TEMPORAL_ADDRESS names an existing server,
 * then a worker and the HTTP gateway; prints where everything is; stops it all on Ctrl-C or SIGTERM.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig, type Config } from './config';
import { devServerDbFile, startDevServer, type RunningDevServer } from './temporal/dev-server';
import { temporalTools } from './temporal/tools';
import { SEARCH_ATTRIBUTES } from './temporal/search-attributes';
import { applyReverifySchedule } from './temporal/reverify-schedule';
import { startWorkerStack } from './worker';
import { describeAdminToken, ensureAdminToken } from './api/admin-token';
import { startGateway } from './api/gateway';
import { ensurePrivateDirSync, tightenFile } from './private-files';
import { runProcess, type StopStack, type Stoppable } from './lifecycle';

async function startTemporal(config: Config): Promise<{ address: string; uiUrl?: string; stoppable?: Stoppable }> {
  if (config.temporal.address) return { address: config.temporal.address };
  const { temporalCli } = temporalTools();
  if (temporalCli) {
    const server: RunningDevServer = await startDevServer({
      cliPath: temporalCli,
      dataDir: config.dataDir,
      port: config.temporal.devPort,
      uiPort: config.temporal.uiPort,
      namespace: config.temporal.namespace,
    });
    return { address: server.address, uiUrl: server.uiUrl, stoppable: { name: 'Temporal dev server', stop: server.stop } };
  }
  // No Go toolchain on this machine: let the SDK download the dev server (needs internet access).
  // @temporalio/testing is a development dependency: the main command runs from a checkout with
  // them installed (scripts/setup.sh), while production images (npm prune --omit=dev) run only the
  // worker and the gateway, which never get here.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      port: config.temporal.devPort,
      ui: true,
      uiPort: config.temporal.uiPort,
      dbFilename: devServerDbFile(config.dataDir),
      namespace: config.temporal.namespace,
      searchAttributes: SEARCH_ATTRIBUTES,
    },
  });
  // This server's umask is not ours to set: tighten its database once it exists (the data folder,
  // 0700, already hides it).
  await tightenFile(devServerDbFile(config.dataDir));
  return {
    address: `127.0.0.1:${config.temporal.devPort}`,
    uiUrl: `http://127.0.0.1:${config.temporal.uiPort}`,
    stoppable: { name: 'Temporal dev server', stop: () => env.teardown() },
  };
}

async function main(stack: StopStack): Promise<void> {
  const config = loadConfig();
  ensurePrivateDirSync(config.dataDir);
  // The SDK's own signal handling would stop the worker only; we stop everything in order.
  Runtime.install({ shutdownSignals: [], logger: new DefaultLogger(config.logLevel) });
  // Unwound in reverse on shutdown: gateway, worker, connections, the database, then the server.
  const temporal = await startTemporal(config);
  if (temporal.stoppable) stack.push(temporal.stoppable.name, temporal.stoppable.stop);
  const { app, client, running } = await startWorkerStack(stack, config, temporal.address);

  // A server schedule: it outlives this process; each start brings it to the configuration.
  const schedule = await applyReverifySchedule(client, config);

  // The gateway goes last so it stops first: no new uploads arrive while the rest shuts down.
  const admin = await ensureAdminToken(config);
  const gateway = await startGateway({ config, app, client, adminToken: admin.token });
  stack.push('gateway', gateway.stop);

  console.log('Tributary is running.');
  console.log(`  API:          ${gateway.url}/api/v1`);
  console.log(`  API docs:     ${gateway.url}/docs`);
  console.log(`  Admin token:  ${describeAdminToken(admin)}`);
  console.log(`  Temporal:     ${temporal.address} (namespace ${config.temporal.namespace}${config.temporal.profile ? `, profile ${config.temporal.profile}` : ''})`);
  if (temporal.uiUrl) console.log(`  Web UI:       ${temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows`);
  console.log(`  Task queue:   ${config.temporal.taskQueue}`);
  console.log(`  Re-verify:    schedule tributary-reverify ${schedule}${config.reverify.paused ? ' (paused)' : ''}`);
  console.log(`  Data folder:  ${config.dataDir}`);
  console.log(`  Database:     ${config.database.url ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.database.dir}`}`);
  console.log(`  Blob store:   ${config.blobs.kind === 's3' ? `S3 bucket ${config.blobs.s3?.bucket}` : config.blobs.dir}`);
  console.log('Press Ctrl-C to stop.');
  await running;
  await stack.unwind('worker stopped');
}

runProcess(main);
