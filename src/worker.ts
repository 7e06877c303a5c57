import path from 'node:path';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { createActivities, createMaintenanceActivities, type ActivityDeps, type FeedbackDeps } from './activities';
import { openAppContextWhenReady, type AppContext } from './app-context';
import { ConfigError, loadConfig, type Config } from './config';
import { runProcess, type StopStack } from './lifecycle';
import { connectClient, connectWhenReady, connectWorker } from './temporal/connection';
import { startMaintenance } from './temporal/schedules';

export interface WorkerSetup {
  connection: NativeConnection;
  config: Config;
  deps: ActivityDeps;
  /** Extra or overriding worker options (tests pass a prebuilt bundle here). */
  overrides?: Partial<WorkerOptions>;
}

/**
 * A worker serving the commit workflows and Tributary's activities on the configured task queue.
 * Its activity slots times the parse budget bound what its processors can hold at once.
 */
export async function createWorker({ connection, config, deps, overrides }: WorkerSetup): Promise<Worker> {
  const withLimits: ActivityDeps = { ...deps, limits: { ...config.parseLimits, ...deps.limits }, feedback: deps.feedback ?? feedbackDepsOf(config) };
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: path.join(__dirname, 'workflows'),
    activities: { ...createActivities(withLimits), ...createMaintenanceActivities(withLimits) },
    maxConcurrentActivityTaskExecutions: config.pipeline.activitySlots,
    maxConcurrentLocalActivityExecutions: config.pipeline.localActivitySlots,
    ...overrides,
  });
}

/** Feedback from the configuration: links point at TRIBUTARY_PUBLIC_URL, else the gateway's address. */
export function feedbackDepsOf(config: Config): FeedbackDeps {
  const host = config.api.host === '0.0.0.0' || config.api.host === '::' ? '127.0.0.1' : config.api.host;
  return { githubApiUrl: config.feedback.githubApiUrl, publicUrl: config.feedback.publicUrl ?? `http://${host}:${config.api.port}` };
}

/** Runs `worker`; `stop` shuts it down gracefully and waits for it, however it came to stop. */
export function runWorker(worker: Worker): { running: Promise<void>; stop(): Promise<void> } {
  const running = worker.run();
  // Awaited later (once the rest has started): a failure meanwhile must not count as unhandled.
  running.catch(() => undefined);
  return {
    running,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/**
 * The maintenance schedules (reconcile, gc) of a worker that has started. A failure is reported,
 * not fatal: processing uploads does not depend on them, and the next worker start applies them
 * again.
 */
export async function startWorkerMaintenance(client: Client, config: Config): Promise<void> {
  try {
    await startMaintenance(client, config);
  } catch (err) {
    console.error(`could not apply the maintenance schedules (tributary-reconcile, tributary-gc): ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The database, the worker's and the client's connections and a running worker, each pushed on
 * `stack` as it starts (so shutdown unwinds them in reverse), then the maintenance schedules:
 * what the standalone worker and the main command both run.
 */
export async function startWorkerStack(
  stack: StopStack,
  config: Config,
  address: string,
): Promise<{ app: AppContext; client: Client; running: Promise<void> }> {
  // An existing server (TEMPORAL_ADDRESS) and PostgreSQL may come up after us: wait for them.
  const app = await openAppContextWhenReady(config);
  stack.push('database', () => app.close());
  const connection = await connectWhenReady(config, address, connectWorker);
  stack.push('worker connection', () => connection.close());
  const clientConnection = await connectWhenReady(config, address, connectClient);
  stack.push('client connection', () => clientConnection.close());
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const worker = await createWorker({ connection, config, deps: { ...app, temporal: { client, config } } });
  const { running, stop } = runWorker(worker);
  stack.push('worker', stop);
  await startWorkerMaintenance(client, config);
  return { app, client, running };
}

/** Entry point for a standalone worker process (production: many of these, any machines). */
async function main(stack: StopStack): Promise<void> {
  const config = loadConfig();
  if (!config.temporal.address) {
    throw new ConfigError(['TEMPORAL_ADDRESS: set it (or a profile with an address) to run a standalone worker; `npm start` runs the embedded stack instead']);
  }
  const address = config.temporal.address;
  // The stack stops the worker on SIGINT / SIGTERM (gracefully, then the connection and the database).
  Runtime.install({ shutdownSignals: [] });
  const { running } = await startWorkerStack(stack, config, address);
  console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${address}`);
  await running;
  await stack.unwind('worker stopped');
}

// The signals the SDK would stop a worker on by itself.
if (require.main === module) runProcess(main, { signals: ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'] });
