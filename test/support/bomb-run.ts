/**
 * Bombs against a real worker process: a standalone worker (`src/worker.ts`, its configuration
 * from the environment as in production) on a dev server and a PostgreSQL database shared with
 * this process; `count` bombs registered at once, each to a commit of its own, then an unrelated
 * honest upload. The worker's resident memory is sampled from /proc while they run. Used by
 * test/integration/bombs.test.ts and bench/bombs.bench.ts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { UploadRow } from '../../src/storage/store';
import type { Bomb } from './bombs';
import type { TestDatabase } from './database';
import { CORPUS, newSha, Pipeline } from './pipeline';
import { bundleWorkflows } from './temporal';
import { spawnWorker } from './worker-process';

export interface BombRun {
  /** Peak resident set of the worker process (VmHWM at the end), bytes. */
  peakRssBytes: number;
  /** Largest VmRSS seen by the sampler, bytes (a cross-check of VmHWM). */
  sampledRssBytes: number;
  /** Resident set of the idle worker before the bombs, bytes. */
  idleRssBytes: number;
  /** Each bomb's upload row at the end. */
  bombs: { bomb: Bomb; upload: UploadRow }[];
  /** The unrelated upload's row at the end. */
  unrelated: UploadRow;
  /** Registration to merged of the unrelated upload, from its row (server clock). */
  unrelatedLatencyMs: number;
  /** From registering the first bomb to every commit's workflow done. */
  bombsWallMs: number;
}

/** VmHWM and VmRSS of a process, in bytes. */
export async function processMemory(pid: number): Promise<{ hwm: number; rss: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { hwm: kib('VmHWM'), rss: kib('VmRSS') };
}

export interface BombRunOptions {
  env: TestWorkflowEnvironment;
  database: TestDatabase;
  bombs: Bomb[];
  logFile: string;
  /** Pipeline settings (the commit workflows' debounce and idle time) over the defaults above. */
  pipelineEnv?: Record<string, string>;
  /** Extra worker environment (limits, slots); the defaults are production's. */
  workerEnv?: Record<string, string>;
}

export async function runBombs(opts: BombRunOptions): Promise<BombRun> {
  const url = opts.database.url;
  if (!url) throw new Error('the worker process shares the database: it must be PostgreSQL');
  const p = await Pipeline.open({
    client: opts.env.client,
    connection: opts.env.nativeConnection,
    bundle: await bundleWorkflows(),
    database: opts.database,
    env: { TRIBUTARY_DEBOUNCE: '200ms', TRIBUTARY_MAX_DEBOUNCE: '1s', TRIBUTARY_IDLE_TIMEOUT: '2s', ...opts.pipelineEnv },
  });
  const worker = spawnWorker(
    {
      TEMPORAL_ADDRESS: opts.env.connection.options.address,
      TEMPORAL_TASK_QUEUE: p.config.temporal.taskQueue,
      TRIBUTARY_DATA_DIR: p.config.dataDir,
      DATABASE_URL: url,
      ...opts.workerEnv,
    },
    opts.logFile,
  );
  const pid = worker.child.pid;
  if (pid === undefined) throw new Error('the worker process did not start');
  try {
    const repo = await p.repo('bombs/hostile', 'parallel');
    const calm = await p.repo('bombs/calm', 'parallel');
    // The worker is ready once it has processed something: warm it with one honest upload.
    const honest = { name: 'negotiator-nyc/lcov.info', body: await readFile(path.join(CORPUS, 'negotiator-nyc/lcov.info')) };
    const warmSha = newSha();
    await p.upload(calm, warmSha, honest);
    await p.result(calm, warmSha);
    const idle = await processMemory(pid);

    let sampled = idle.rss;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        sampled = Math.max(sampled, (await processMemory(pid)).rss);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    const started = Date.now();
    const shas = opts.bombs.map(() => newSha());
    const registered = await Promise.all(opts.bombs.map((bomb, i) => p.upload(repo, shas[i]!, { name: bomb.name, body: bomb.body })));
    const calmSha = newSha();
    const unrelated = await p.upload(calm, calmSha, honest);
    await Promise.all([...shas.map((sha) => p.result(repo, sha)), p.result(calm, calmSha)]);
    const bombsWallMs = Date.now() - started;
    const rows = await Promise.all(registered.map((r) => p.store.getUpload(r.uploadId)));
    sampling = false;
    await sampler;
    const end = await processMemory(pid);
    const unrelatedRow = await p.store.getUpload(unrelated.uploadId);
    if (!unrelatedRow) throw new Error('the unrelated upload is not registered');
    return {
      peakRssBytes: end.hwm,
      sampledRssBytes: Math.max(sampled, end.rss),
      idleRssBytes: idle.rss,
      bombs: opts.bombs.map((bomb, i) => ({ bomb, upload: rows[i]! })),
      unrelated: unrelatedRow,
      unrelatedLatencyMs: (unrelatedRow.mergedAt?.getTime() ?? Number.NaN) - unrelatedRow.createdAt.getTime(),
      bombsWallMs,
    };
  } finally {
    await worker.kill('SIGTERM');
    await p.close();
  }
}
