/**
 * Pipeline benchmark on a real Temporal dev server (the CLI from scripts/temporal-tools.mjs).
 *
 * 1. Serial vs parallel vs the ideal critical path: N uploads (default 32) of a real LCOV report,
 *    with a constant latency (default 250 ms) injected into every blob read, the same wrapper for
 *    both modes. A batch is timed from its first processor being scheduled to its last finisher
 *    completing (workflow history timestamps). The ideal critical path of the parallel batch is its
 *    slowest processor plus its finisher, as measured in the same run: what a perfect scheduler
 *    could not beat.
 * 2. End to end with tiny reports and no injected latency: uploads per second through
 *    registration, the workflow and the database; and the per-upload overhead (registration to
 *    `merged`) of single-upload commits.
 *
 * Run: npx tsx bench/pipeline.bench.ts [--uploads 32] [--latency 250] [--throughput 300] [--singles 15]
 * Uses PGlite in memory, or the PostgreSQL of DATABASE_URL when set.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { createActivities } from '../src/activities';
import { loadConfig } from '../src/config';
import { createModeDecider } from '../src/flags/mode-flag';
import type { UploadMode } from '../src/vocabulary';
import { registerUpload } from '../src/services/register-upload';
import type { BlobStore } from '../src/storage/blob-store';
import { openDatabase } from '../src/storage/database';
import { FsBlobStore } from '../src/storage/fs-blob-store';
import { Store } from '../src/storage/store';
import { countUploadsByState } from '../test/support/upload-counts';
import { SEARCH_ATTRIBUTES } from '../src/temporal/search-attributes';
import { temporalTools } from '../src/temporal/tools';
import { commitWorkflowId } from '../src/workflows/commit-contracts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const UPLOADS = arg('uploads', 32);
const LATENCY = arg('latency', 250);
const THROUGHPUT_UPLOADS = arg('throughput', 300);
const SINGLES = arg('singles', 15);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every read waits `ms` first: the same wrapper for both modes. */
function withReadLatency(inner: BlobStore, ms: number): BlobStore {
  return {
    put: (k, b) => inner.put(k, b),
    delete: (k) => inner.delete(k),
    exists: (k) => inner.exists(k),
    list: (prefix, page) => inner.list(prefix, page),
    get: async (k) => {
      await sleep(ms);
      return inner.get(k);
    },
  };
}

function ms(ts: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  return Number(ts?.seconds?.toString() ?? 0) * 1000 + (ts?.nanos ?? 0) / 1e6;
}

interface BatchTiming {
  wallMs: number;
  slowestProcessMs: number;
  finishMs: number;
}

/** Batch window and activity durations, from the history of the commit's (single) run. */
async function timing(env: TestWorkflowEnvironment, workflowId: string): Promise<BatchTiming> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Map<string, { type: string; at: number }>();
  const startedAt = new Map<string, number>();
  let first = Infinity;
  let last = 0;
  let slowestProcessMs = 0;
  let finishMs = 0;
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const type = s.activityType?.name ?? '';
      scheduled.set(String(e.eventId), { type, at: ms(e.eventTime) });
      if (type === 'processUpload') first = Math.min(first, ms(e.eventTime));
    }
    const st = e.activityTaskStartedEventAttributes;
    if (st) startedAt.set(String(st.scheduledEventId), ms(e.eventTime));
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const id = String(c.scheduledEventId);
      const type = scheduled.get(id)?.type;
      const duration = ms(e.eventTime) - (startedAt.get(id) ?? ms(e.eventTime));
      if (type === 'processUpload') slowestProcessMs = Math.max(slowestProcessMs, duration);
      if (type === 'finishCommit') {
        finishMs = Math.max(finishMs, duration);
        last = Math.max(last, ms(e.eventTime));
      }
    }
  }
  return { wallMs: last - first, slowestProcessMs, finishMs };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function table(headers: string[], rows: (string | number)[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: (string | number)[]) => `| ${cells.map((c, i) => String(c).padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const tools = temporalTools();
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: tools.temporalCli ? { type: 'existing-path', path: tools.temporalCli } : undefined, searchAttributes: SEARCH_ATTRIBUTES },
  });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tributary-bench-'));
  const db = await openDatabase({ url: process.env.DATABASE_URL });
  try {
    const store = new Store(db);
    const fsBlobs = new FsBlobStore(path.join(dataDir, 'blobs'));
    const decideMode = await createModeDecider({ getOverride: (r) => store.getModeOverride(r), rollout: {}, salt: 'bench', defaultMode: 'parallel' });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../src/workflows'), logger: new DefaultLogger('ERROR') });
    const report = await readFile(path.resolve(__dirname, '../../shared/corpus/negotiator-nyc/lcov.info'));

    const run = async (opts: { latencyMs: number; maxParallel: number; debounce: string }, body: (ctx: {
      config: ReturnType<typeof loadConfig>;
      repo(mode: UploadMode): Promise<string>;
      upload(repo: string, sha: string, bytes: Buffer, name: string): Promise<unknown>;
    }) => Promise<void>) => {
      const config = loadConfig({
        TRIBUTARY_DATA_DIR: dataDir,
        TEMPORAL_TASK_QUEUE: `bench-${randomUUID()}`,
        TRIBUTARY_DEBOUNCE: opts.debounce,
        TRIBUTARY_IDLE_TIMEOUT: '1s',
        TRIBUTARY_MAX_PARALLEL: String(opts.maxParallel),
      });
      const blobs = opts.latencyMs > 0 ? withReadLatency(fsBlobs, opts.latencyMs) : fsBlobs;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: config.temporal.taskQueue,
        workflowBundle,
        activities: createActivities({ blobs, store, decideMode }),
        maxConcurrentActivityTaskExecutions: 200,
      });
      await worker.runUntil(
        body({
          config,
          async repo(mode) {
            const slug = `bench-${randomUUID().slice(0, 8)}/${mode}`;
            await store.createRepository(slug, 'x');
            await store.setModeOverride(slug, mode);
            return slug;
          },
          upload: (repo, sha, bytes, name) => registerUpload({ client: env.client, blobs: fsBlobs, store, config }, { repo, sha, body: bytes, name }),
        }),
      );
    };

    // 1. Serial vs parallel vs ideal, with read latency.
    const timings = new Map<UploadMode, BatchTiming>();
    await run({ latencyMs: LATENCY, maxParallel: UPLOADS, debounce: '200ms' }, async (ctx) => {
      for (const mode of ['parallel', 'serial'] as const) {
        const repo = await ctx.repo(mode);
        const sha = randomUUID().replace(/-/g, '');
        for (let i = 0; i < UPLOADS; i++) await ctx.upload(repo, sha, report, `job-${i}.lcov`);
        await env.client.workflow.getHandle(commitWorkflowId(repo, sha)).result();
        timings.set(mode, await timing(env, commitWorkflowId(repo, sha)));
      }
    });
    const parallel = timings.get('parallel') as BatchTiming;
    const serial = timings.get('serial') as BatchTiming;
    const ideal = parallel.slowestProcessMs + parallel.finishMs;
    console.log(`\n${UPLOADS} uploads of negotiator-nyc/lcov.info, ${LATENCY} ms injected into every blob read\n`);
    console.log(
      table(
        ['path', 'batch wall (ms)', 'vs ideal', 'serial ÷ this'],
        [
          ['ideal critical path (slowest processor + finisher)', ideal.toFixed(0), '1.00×', (serial.wallMs / ideal).toFixed(1)],
          ['parallel', parallel.wallMs.toFixed(0), `${(parallel.wallMs / ideal).toFixed(2)}×`, (serial.wallMs / parallel.wallMs).toFixed(1)],
          ['serial', serial.wallMs.toFixed(0), `${(serial.wallMs / ideal).toFixed(2)}×`, '1.0'],
        ],
      ),
    );

    // 2. End to end, tiny reports, no injected latency.
    await run({ latencyMs: 0, maxParallel: 16, debounce: '0ms' }, async (ctx) => {
      const tiny = (i: number) => Buffer.from(`SF:src/m${i % 20}.ts\nDA:${(i % 50) + 1},1\nend_of_record\n`);
      const repo = await ctx.repo('parallel');
      const sha = randomUUID().replace(/-/g, '');
      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < THROUGHPUT_UPLOADS) {
            const i = next++;
            await ctx.upload(repo, sha, tiny(i), `t${i}`);
          }
        }),
      );
      const registered = performance.now() - t0;
      while ((await countUploadsByState(db, repo, sha)).merged < THROUGHPUT_UPLOADS) await sleep(20);
      const all = performance.now() - t0;

      const latencies: number[] = [];
      for (let i = 0; i < SINGLES; i++) {
        const one = randomUUID().replace(/-/g, '');
        const s0 = performance.now();
        const { uploadId } = (await ctx.upload(repo, one, tiny(i), 'single')) as { uploadId: string };
        while ((await store.getUpload(uploadId))?.state !== 'merged') await sleep(5);
        latencies.push(performance.now() - s0);
      }
      latencies.sort((a, b) => a - b);
      console.log(`\nEnd to end on the dev server, tiny reports, no injected latency (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})\n`);
      console.log(
        table(
          ['measure', 'value'],
          [
            [`${THROUGHPUT_UPLOADS} uploads to one commit: registered (8 concurrent clients)`, `${((THROUGHPUT_UPLOADS * 1000) / registered).toFixed(0)} uploads/s`],
            [`${THROUGHPUT_UPLOADS} uploads to one commit: all merged`, `${((THROUGHPUT_UPLOADS * 1000) / all).toFixed(0)} uploads/s (${(all / 1000).toFixed(1)} s)`],
            [`single-upload commit, registration to merged (median of ${SINGLES})`, `${percentile(latencies, 50).toFixed(0)} ms`],
            [`single-upload commit, registration to merged (p95 of ${SINGLES})`, `${percentile(latencies, 95).toFixed(0)} ms`],
          ],
        ),
      );
    });
  } finally {
    await db.close();
    await env.teardown();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
