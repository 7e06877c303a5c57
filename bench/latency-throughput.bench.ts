/**
 * Latency and registration throughput of the embedded stack: the real gateway on 127.0.0.1, one
 * worker (`createWorker`, production settings: debounce 0, activity and local-activity slots) on
 * a Temporal dev server, PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set, else
 * PGlite, and a blob folder; all in this process but the dev server (and PostgreSQL).
 *
 * 1. Isolated uploads: one commit at a time, one upload each (negotiator-nyc/lcov.info); time
 *    from sending the POST to the upload's `merged_at` (the database's clock, the same machine).
 * 2. Sustained: --rate uploads a second for --seconds, spread over --commits commits; the same
 *    latency per upload.
 * 3. Registration throughput: --uploads tiny LCOV uploads to one commit from --senders concurrent
 *    senders (node's HTTP client over kept-alive connections, bench/support/http-sender.ts), each
 *    with an Idempotency-Key; accepted uploads a second, then until all are merged.
 *    Next to each, the CPU time per upload of this process, the dev server and the database's
 *    PostgreSQL backends (bench/support/cpu.ts): steadier than the wall clock on shared cores.
 *    The database is checked afterwards: one row per upload, sessions dense and as answered.
 *
 * Run: npx tsx bench/latency-throughput.bench.ts [--isolated 20] [--rate 10] [--seconds 30]
 *      [--commits 10] [--uploads 10000] [--senders 16] [--deadline 300] [--chunk 32] [--batch 500] [--worker-process]
 * Every loop is bounded in count and in time (--deadline seconds per phase).
 */
import { openEmbeddedStack } from './support/embedded-stack';
import { cpuSnapshot, cpuSpent, perUpload } from './support/cpu';
import { createSender } from './support/http-sender';
import { loadavg } from 'node:os';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CORPUS, newSha } from '../test/support/pipeline';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { commitWorkflowId } from '../src/workflows/commit-contracts';

/** Signals the workflow's runs received, from the latest run back through its continue-as-new chain. */
async function signalsOf(client: Client, workflowId: string): Promise<number> {
  let signals = 0;
  for (let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId; runId; ) {
    const history: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    signals += events.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return signals;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
  return v;
}

const ISOLATED = arg('isolated', 20);
const RATE = arg('rate', 10);
const SECONDS = arg('seconds', 30);
const COMMITS = arg('commits', 10);
const UPLOADS = arg('uploads', 10_000);
const SENDERS = arg('senders', 16);
const DEADLINE_MS = arg('deadline', 300) * 1000;
/** TRIBUTARY_PROCESS_CHUNK: uploads one processor activity takes at most (1: one activity per upload; 32 is the configuration's default). */
const CHUNK = arg('chunk', 32);
/** TRIBUTARY_MAX_BATCH: uploads a commit workflow claims per batch (the production default, 500). */
const BATCH = arg('batch', 500);
/** --worker-process: the worker is src/worker.ts in a process of its own, as production runs it (PostgreSQL only). */
const WORKER_PROCESS = process.argv.includes('--worker-process');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

async function main(): Promise<void> {
  // Read before the stack opens: nothing may throw between its opening and the try that closes it.
  const lcov = await readFile(path.join(CORPUS, 'negotiator-nyc/lcov.info'));
  // Production batching and worker settings; only the idle close is shortened, so finished
  // commits do not keep workflows open for an hour.
  const stack = await openEmbeddedStack({ env: { TRIBUTARY_DEBOUNCE: '0', TRIBUTARY_MAX_DEBOUNCE: '1m', TRIBUTARY_IDLE_TIMEOUT: '10s', TRIBUTARY_MAX_PARALLEL: '16', TRIBUTARY_PROCESS_CHUNK: String(CHUNK), TRIBUTARY_MAX_BATCH: String(BATCH) }, rateLimitPerMinute: 10_000_000, workerProcess: WORKER_PROCESS });
  const { p, base, adminToken } = stack;
  const sender = createSender(base, SENDERS);
  const rows: [string, string][] = [];
  const report = (k: string, v: string) => {
    rows.push([k, v]);
    console.error(`${k}: ${v}`);
  };

  try {
    const created = await fetch(`${base}/api/v1/repos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slug: 'bench/latency' }),
    });
    if (created.status !== 201) throw new Error(`creating the repository: ${created.status} ${await created.text()}`);
    const token = ((await created.json()) as { uploadToken: string }).uploadToken;
    const repo = 'bench/latency';
    let keys = 0;

    const post = async (sha: string, body: Buffer): Promise<{ uploadId: string; session: number; sentAt: number }> => {
      const key = `bench-${keys++}`;
      for (let attempt = 1; ; attempt++) {
        const sentAt = Date.now();
        const res = await sender.send('POST', `/api/v1/repos/${repo}/commits/${sha}/uploads`, {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'idempotency-key': key,
        }, body);
        const answer = JSON.parse(res.body) as { uploads?: { uploadId: string; session: number }[] };
        if (res.status === 202 && answer.uploads?.length === 1) return { ...answer.uploads[0]!, sentAt };
        if (res.status < 500 || attempt >= 4) throw new Error(`upload: ${res.status} ${res.body}`);
        await sleep(100 * 2 ** attempt);
      }
    };
    /** Milliseconds from sending to merged, once the upload is merged (bounded wait). */
    const mergedAfter = async (u: { uploadId: string; sentAt: number }, deadline: number): Promise<number> => {
      for (;;) {
        const row = await p.store.getUpload(u.uploadId);
        if (row?.state === 'merged' && row.mergedAt) return row.mergedAt.getTime() - u.sentAt;
        if (row?.state === 'error') throw new Error(`${u.uploadId}: ${row.errorCode} ${row.errorMessage}`);
        if (Date.now() > deadline) throw new Error(`${u.uploadId} not merged before the deadline`);
        await sleep(20);
      }
    };

    // 1. Isolated uploads.
    if (ISOLATED > 0) {
      const deadline = Date.now() + DEADLINE_MS;
      const latencies: number[] = [];
      const registration: number[] = [];
      for (let i = 0; i < ISOLATED; i++) {
        const t0 = Date.now();
        const u = await post(newSha(), lcov);
        registration.push(Date.now() - t0);
        latencies.push(await mergedAfter(u, deadline));
      }
      latencies.sort((a, b) => a - b);
      registration.sort((a, b) => a - b);
      report(`isolated upload (${ISOLATED} commits, one upload each): POST answered p50 / p95`, `${percentile(registration, 50)} / ${percentile(registration, 95)} ms`);
      report(`isolated upload: POST sent to merged p50 / p95 / max`, `${percentile(latencies, 50)} / ${percentile(latencies, 95)} / ${latencies.at(-1)} ms (load ${load()})`);
    }

    // 2. Sustained rate over several commits.
    if (RATE > 0 && SECONDS > 0) {
      const deadline = Date.now() + DEADLINE_MS;
      const shas = Array.from({ length: COMMITS }, newSha);
      const total = Math.round(RATE * SECONDS);
      const start = Date.now();
      const waits: Promise<number>[] = [];
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / RATE;
        if (due > Date.now()) await sleep(due - Date.now());
        waits.push(post(shas[i % shas.length]!, lcov).then((u) => mergedAfter(u, deadline)));
      }
      const latencies = (await Promise.all(waits)).sort((a, b) => a - b);
      report(`sustained ${RATE} uploads/s for ${SECONDS} s over ${COMMITS} commits: sent to merged p50 / p95 / max`, `${percentile(latencies, 50)} / ${percentile(latencies, 95)} / ${latencies.at(-1)} ms (load ${load()})`);
    }

    const backendPids = async () =>
      (await p.db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`).catch(() => [])).map((r) => Number(r.pid));

    // 3. Registration throughput, one commit.
    if (UPLOADS > 0) {
      const deadline = Date.now() + DEADLINE_MS;
      const sha = newSha();
      const tiny = (i: number) => Buffer.from(`SF:src/m${i % 50}.ts\nDA:${(i % 40) + 1},1\nDA:${(i % 40) + 2},0\nend_of_record\n`);
      const answered = new Map<string, number>();
      let next = 0;
      const cpu0 = cpuSnapshot(await backendPids());
      const t0 = Date.now();
      await Promise.all(
        Array.from({ length: SENDERS }, async () => {
          while (next < UPLOADS) {
            if (Date.now() > deadline) throw new Error('deadline passed while sending');
            const i = next++;
            const u = await post(sha, tiny(i));
            answered.set(u.uploadId, u.session);
          }
        }),
      );
      const sentMs = Date.now() - t0;
      const cpuSent = cpuSnapshot(await backendPids());
      report(`${UPLOADS} uploads to one commit, ${SENDERS} concurrent senders: accepted`, `${((UPLOADS * 1000) / sentMs).toFixed(0)} uploads/s (${(sentMs / 1000).toFixed(1)} s, load ${load()})`);
      report(`${UPLOADS} uploads to one commit: CPU while sending`, perUpload(cpuSpent(cpu0, cpuSent), UPLOADS));
      for (;;) {
        const [row] = await p.db.query<{ merged: string | number; total: string | number }>(
          `SELECT count(*) FILTER (WHERE u.state = 'merged') AS merged, count(*) AS total FROM uploads u JOIN commits c ON c.id = u.commit_id WHERE c.sha = $1`,
          [sha],
        );
        if (Number(row?.merged) === UPLOADS) break;
        if (Date.now() > deadline) throw new Error(`only ${row?.merged} of ${UPLOADS} merged before the deadline`);
        await sleep(200);
      }
      const mergedMs = Date.now() - t0;
      const cpuMerged = cpuSnapshot(await backendPids());
      report(`${UPLOADS} uploads to one commit: first sent to all merged`, `${(mergedMs / 1000).toFixed(1)} s (${((UPLOADS * 1000) / mergedMs).toFixed(0)} uploads/s, load ${load()})`);
      report(`${UPLOADS} uploads to one commit: CPU from first sent to all merged`, perUpload(cpuSpent(cpu0, cpuMerged), UPLOADS));
      report(`${UPLOADS} uploads to one commit: signals to its workflow (all runs)`, String(await signalsOf(stack.client, commitWorkflowId(repo, sha))));
      const stored = await p.store.listUploads(repo, sha);
      const problems = stored.flatMap((r, i) => [
        ...(r.session === i ? [] : [`${r.uploadId}: session ${r.session} at position ${i}`]),
        ...(answered.get(r.uploadId) === r.session ? [] : [`${r.uploadId}: answered ${answered.get(r.uploadId)}, stored ${r.session}`]),
      ]);
      if (stored.length !== UPLOADS) problems.unshift(`${stored.length} rows for ${UPLOADS} uploads`);
      report('rows, sessions dense and as answered', problems.length === 0 ? 'yes' : `NO: ${problems.slice(0, 5).join('; ')}`);
    }
  } finally {
    sender.close();
    await stack.close();
  }
  console.log(`\nnode ${process.version}, ${stack.databaseKind}, dev server, worker ${WORKER_PROCESS ? 'in a process of its own' : 'in the bench process'}, process chunk ${CHUNK}, batch ${BATCH}, load average at the end ${load()}\n`);
  console.log('| measure | value |\n|---|---|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
