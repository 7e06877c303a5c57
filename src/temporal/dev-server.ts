import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { devServerSearchAttributeArgs } from './search-attributes';
import { ensurePrivateDirSync, PRIVATE_FILE_MODE, PRIVATE_UMASK, tightenFileSync } from '../private-files';

export interface DevServerOptions {
  cliPath: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** How long to wait for the server to answer gRPC. */
  readyTimeoutMs?: number;
}

export interface RunningDevServer {
  address: string;
  uiUrl: string;
  logFile: string;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL at once, as a crash would. */
  kill(): Promise<void>;
}

/**
 * Dynamic configuration of every dev server we start (`npm start`, the tests, the benchmarks): the
 * task matcher that dispatches backlogged tasks by priority key (commit priorities,
 * src/services/commit-priority.ts). A server without it dispatches first come, first served and
 * the keys are ignored; a production cluster needs the same setting.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = { 'matching.enableFairness': true, 'matching.numTaskqueueReadPartitions': 1, 'matching.numTaskqueueWritePartitions': 1 };

/** `--dynamic-config-value KEY=JSON` arguments for `temporal server start-dev`. */
export function devServerDynamicConfigArgs(): string[] {
  return Object.entries(DEV_SERVER_DYNAMIC_CONFIG).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${JSON.stringify(v)}`]);
}

/** The dev server's database in the data folder. */
export function devServerDbFile(dataDir: string): string {
  return path.join(dataDir, 'temporal.sqlite');
}

/**
 * Starts `temporal server start-dev` on 127.0.0.1 with its SQLite file in the data folder (state
 * survives restarts) and the project's search attributes registered, and waits until it answers.
 * Its files are owner-only: the server runs with umask 077, and an older install's database is
 * tightened first (SQLite gives its journal and WAL files the database file's mode).
 */
export async function startDevServer(opts: DevServerOptions): Promise<RunningDevServer> {
  ensurePrivateDirSync(opts.dataDir);
  const dbFile = devServerDbFile(opts.dataDir);
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-journal`]) tightenFileSync(f);
  const logFile = path.join(opts.dataDir, 'temporal-server.log');
  tightenFileSync(logFile);
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--db-filename',
    dbFile,
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
    ...devServerSearchAttributeArgs(),
    ...devServerDynamicConfigArgs(),
  ];
  // A umask (not a chmod once it is up) also covers the files SQLite creates later, and the file
  // is never readable, not even for a moment. `exec` keeps the server the child we signal.
  const child =
    process.platform === 'win32'
      ? spawn(opts.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `umask ${PRIVATE_UMASK.toString(8).padStart(3, '0')} && exec "$0" "$@"`, opts.cliPath, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  const log = createWriteStream(logFile, { flags: 'a', mode: PRIVATE_FILE_MODE });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const address = `127.0.0.1:${opts.port}`;
  try {
    await waitUntilReady(address, child, exited, opts.readyTimeoutMs ?? 60_000, logFile);
  } catch (err) {
    await stopChild(child, exited);
    throw err;
  }
  return {
    address,
    uiUrl: `http://127.0.0.1:${opts.uiPort}`,
    logFile,
    stop: () => stopChild(child, exited),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function waitUntilReady(
  address: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs: number,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`the Temporal dev server exited with code ${exitCode} before it was ready; see ${logFile}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch {
      if (Date.now() > deadline) {
        throw new Error(`the Temporal dev server did not answer on ${address} within ${timeoutMs} ms; see ${logFile}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** SIGTERM, then SIGKILL if it has not exited within 10 s: never leave a server behind. */
async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
