import path from 'node:path';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { openAppContextWhenReady } from './app-context';
import { ConfigError, loadConfig, type Config } from './config';
import { runProcess, type StopStack } from './lifecycle';
import { connectWhenReady, connectWorker } from './temporal/connection';

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
    maxConcurrentLocalActivityExecutions: config.pipeline.localActivitySlots,
    ...overrides,
  });
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

/** Entry point for a standalone worker process (production: many of these, any machines). */
async function main(stack: StopStack): Promise<void> {
  const config = loadConfig();
  if (!config.temporal.address) {
    throw new ConfigError(['TEMPORAL_ADDRESS: set it (or a profile with an address) to run a standalone worker; `npm start` runs the embedded stack instead']);
  }
  const address = config.temporal.address;
  // The stack stops the worker on SIGINT / SIGTERM (gracefully, then the connection and the database).
  Runtime.install({ shutdownSignals: [] });
  const app = await openAppContextWhenReady(config);
  stack.push('database', () => app.close());
  const connection = await connectWhenReady(config, address, connectWorker);
  stack.push('worker connection', () => connection.close());
  const worker = await createWorker({ connection, config, deps: app });
  const { running, stop } = runWorker(worker);
  stack.push('worker', stop);
  console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${address}`);
  await running;
  await stack.unwind('worker stopped');
}

// The signals the SDK would stop a worker on by itself.
if (require.main === module) runProcess(main, { signals: ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'] });
