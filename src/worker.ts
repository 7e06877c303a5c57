import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { openAppContext } from './app-context';
import { loadConfig, type Config } from './config';
import { databaseDown, databaseLabel, waitFor } from './shared/wait-for';
import { connectWorker } from './temporal/connection';

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
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: path.join(__dirname, 'workflows'),
    activities: createActivities({ ...deps, limits: { ...config.parseLimits, ...deps.limits } }),
    maxConcurrentActivityTaskExecutions: config.pipeline.activitySlots,
    ...overrides,
  });
}

/** Entry point for a standalone worker process (production: many of these, any machines). */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.temporal.address) {
    throw new Error('set TEMPORAL_ADDRESS to run a standalone worker (`npm start` runs the embedded stack instead)');
  }
  const address = config.temporal.address;
  const app = await waitFor(() => openAppContext(config), {
    what: databaseLabel(config.database.url),
    timeoutMs: config.startupTimeoutMs,
    retryable: databaseDown,
  });
  const connection = await waitFor(() => connectWorker(config, address), { what: `Temporal at ${address}`, timeoutMs: config.startupTimeoutMs });
  const worker = await createWorker({ connection, config, deps: app });
  console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address}`);
  await worker.run(); // the SDK shuts the worker down gracefully on SIGINT / SIGTERM
  await connection.close();
  await app.close();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
