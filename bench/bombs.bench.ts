/**
 * Bombs: worker peak RSS under N concurrent worst-case uploads (gzip and plain; LCOV, JSON, XML;
 * `test/support/bombs.ts`), and the registration-to-merged latency of an unrelated commit
 * uploaded right after them. A real worker process (`src/worker.ts`, configured from the
 * environment as in production) on the Temporal dev server and PostgreSQL; each bomb is its own
 * commit (parallel mode). Peak RSS is the worker's VmHWM; VmRSS is also polled every 25 ms.
 *
 * Run: TEST_DATABASE_URL=postgres://… npx tsx bench/bombs.bench.ts [--bombs 16] [--runs 3]
 * Worker settings come from the environment (TRIBUTARY_PARSE_MEMORY_BYTES,
 * TRIBUTARY_WORKER_ACTIVITY_SLOTS, …), passed through to the worker.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { runBombs, type BombRun } from '../test/support/bomb-run';
import { worstCaseBombs } from '../test/support/bombs';
import { databasesUnderTest } from '../test/support/database';
import { createDevServerEnv } from '../test/support/temporal';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const count = arg('bombs', 16);
  const runs = arg('runs', 3);
  const postgres = databasesUnderTest().find((d) => d.kind === 'postgres');
  if (!postgres) throw new Error('set TEST_DATABASE_URL: the worker process shares the database');
  const kinds = worstCaseBombs();
  const bombs = Array.from({ length: count }, (_, i) => kinds[i % kinds.length]!);
  const workDir = await mkdtemp(path.join(tmpdir(), 'tributary-bombs-bench-'));
  const passThrough = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith('TRIBUTARY_') && v !== undefined)) as Record<string, string>;
  const results: BombRun[] = [];
  const env = await createDevServerEnv();
  try {
    for (let r = 0; r < runs; r++) {
      results.push(await runBombs({ env, database: await postgres.create(), bombs, logFile: path.join(workDir, `worker-${r}.log`), workerEnv: passThrough, pipelineEnv: pipelineSettings(passThrough) }));
      console.error(`run ${r + 1}/${runs} done`);
    }
  } finally {
    await env.teardown();
    await rm(workDir, { recursive: true, force: true });
  }

  console.log(`node ${process.version}, ${count} concurrent bombs, ${runs} run(s), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`bombs: ${kinds.map((b) => `${b.name} (${(b.body.byteLength / 1024).toFixed(0)} KiB)`).join(', ')}`);
  console.log('| run | worker idle RSS | worker peak RSS (VmHWM) | max sampled VmRSS | bombs done in | unrelated commit: registered to merged | outcomes |');
  console.log('|---:|---:|---:|---:|---:|---:|---|');
  results.forEach((run, i) => {
    const outcomes = new Map<string, number>();
    for (const { upload } of run.bombs) {
      const k = `${upload.state}/${upload.errorCode ?? '-'}`;
      outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    }
    console.log(
      `| ${i + 1} | ${(run.idleRssBytes / MiB).toFixed(0)} MiB | ${(run.peakRssBytes / MiB).toFixed(0)} MiB | ${(run.sampledRssBytes / MiB).toFixed(0)} MiB | ${(run.bombsWallMs / 1000).toFixed(1)} s | ${run.unrelatedLatencyMs.toFixed(0)} ms (${run.unrelated.state}) | ${[...outcomes].map(([k, n]) => `${n} ${k}`).join(', ')} |`,
    );
  });
  const expected = results.every((run) => run.bombs.every(({ bomb, upload }) => upload.errorCode === bomb.code));
  console.log(`every bomb ended with its expected error code: ${expected ? 'yes' : 'NO'}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/** The commit workflows' batching settings: production's debounce (0) unless the run sets them. */
function pipelineSettings(env: Record<string, string>): Record<string, string> {
  return {
    TRIBUTARY_DEBOUNCE: '0',
    ...Object.fromEntries(Object.entries(env).filter(([k]) => ['TRIBUTARY_DEBOUNCE', 'TRIBUTARY_MAX_DEBOUNCE', 'TRIBUTARY_IDLE_TIMEOUT'].includes(k))),
  };
}
