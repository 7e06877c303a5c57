/**
 * Registration throughput of the store: `registerUpload` is the hot path of every upload (one
 * transaction: commit upsert, key check, session allocation, insert). Measured on PGlite and, when
 * BENCH_DATABASE_URL or TEST_DATABASE_URL is set, PostgreSQL, each on a fresh database.
 *
 * Run: npx tsx bench/register-upload.bench.ts [--uploads 2000] [--commits 20] [--concurrency 16] [--rounds 3]
 *
 * Each round registers the uploads round-robin over the commits, once one after the other and once
 * with `--concurrency` in flight, half of them with an idempotency key and body digest, then
 * registers the keyed half again under new upload ids (answered from the key). The table shows
 * the best round per upload, by wall clock and by this process's CPU time (steadier than the wall
 * clock on shared cores).
 */
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Store } from '../src/storage/store';
import { databasesUnderTest } from '../test/support/database';

const OPTIONS = { uploads: 2000, commits: 20, concurrency: 16, rounds: 3 };
const { values } = parseArgs({
  options: Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: 'string' as const }])),
});
const [UPLOADS, COMMITS, CONCURRENCY, ROUNDS] = Object.entries(OPTIONS).map(([name, fallback]) => {
  const v = Number(values[name] ?? fallback);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}) as [number, number, number, number];

if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;

/** CPU time of this process since `from` (PGlite runs in it; a PostgreSQL server's is not counted). */
function cpuMs(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

async function inPool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const target of databasesUnderTest()) {
    const best = { serial: Infinity, concurrent: Infinity, repeat: Infinity };
    const cpu = { serial: Infinity, concurrent: Infinity, repeat: Infinity };
    for (let round = 0; round < ROUNDS; round++) {
      const tdb = await target.create();
      const db = await tdb.open();
      try {
        const store = new Store(db);
        const repo = `bench/register-${round}`;
        await store.createRepository(repo, randomBytes(16).toString('hex'));
        const shas = Array.from({ length: COMMITS }, () => randomBytes(20).toString('hex'));
        const inputs = (tag: string) =>
          Array.from({ length: UPLOADS }, (_, i) => ({
            repo,
            sha: shas[i % COMMITS]!,
            uploadId: `${tag}-${i}`,
            rawKey: `raw/${tag}-${i}`,
            rawBytes: 1000 + i,
            flags: ['unit'],
            name: `job ${i}`,
            ...(i % 2 === 0 ? { idempotencyKey: `${tag}-key-${i}`, bodyDigest: randomBytes(32).toString('hex') } : {}),
          }));
        const serial = inputs('s');
        let t0 = performance.now();
        let c0 = process.cpuUsage();
        for (const input of serial) await store.registerUpload(input);
        best.serial = Math.min(best.serial, (performance.now() - t0) / serial.length);
        cpu.serial = Math.min(cpu.serial, cpuMs(c0) / serial.length);
        const concurrent = inputs('c');
        t0 = performance.now();
        c0 = process.cpuUsage();
        await inPool(concurrent, CONCURRENCY, (input) => store.registerUpload(input));
        best.concurrent = Math.min(best.concurrent, (performance.now() - t0) / concurrent.length);
        cpu.concurrent = Math.min(cpu.concurrent, cpuMs(c0) / concurrent.length);
        const again = concurrent.filter((c) => c.idempotencyKey !== undefined).map((c) => ({ ...c, uploadId: `${c.uploadId}-again` }));
        t0 = performance.now();
        c0 = process.cpuUsage();
        await inPool(again, CONCURRENCY, (input) => store.registerUpload(input));
        best.repeat = Math.min(best.repeat, (performance.now() - t0) / again.length);
        cpu.repeat = Math.min(cpu.repeat, cpuMs(c0) / again.length);
        const listed = await store.listUploads(repo, shas[0]!);
        if (listed.length !== (2 * UPLOADS) / COMMITS) throw new Error(`expected ${(2 * UPLOADS) / COMMITS} uploads, found ${listed.length}`);
      } finally {
        await db.close();
        await tdb.dispose();
      }
    }
    const rate = (ms: number) => `${Math.round(1000 / ms).toLocaleString('en-US')}/s`;
    rows.push([target.kind, 'one after the other', rate(best.serial), `${best.serial.toFixed(2)} ms`, `${cpu.serial.toFixed(2)} ms`]);
    rows.push([target.kind, `${CONCURRENCY} in flight`, rate(best.concurrent), `${best.concurrent.toFixed(2)} ms`, `${cpu.concurrent.toFixed(2)} ms`]);
    rows.push([target.kind, `repeated key, ${CONCURRENCY} in flight`, rate(best.repeat), `${best.repeat.toFixed(2)} ms`, `${cpu.repeat.toFixed(2)} ms`]);
  }
  console.log(`registerUpload: ${UPLOADS} uploads over ${COMMITS} commits, best of ${ROUNDS}; node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`);
  console.log('| database | registrations | throughput | wall per upload | bench process CPU per upload |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
