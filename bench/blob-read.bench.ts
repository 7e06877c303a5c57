/**
 * CPU of reading small blobs one after the other, as a processor chunk reads its raw uploads:
 * `fs/promises` `readFile` (open, fstat, read and close, each a hand-over to libuv's thread pool),
 * the same eight at once, and blocking `readFileSync`. CPU is the whole process's (every thread),
 * from `process.cpuUsage`, per read. (Blocking reads were tried in the folder store: cheaper alone,
 * no gain in the pipeline; bench/RESULTS.md.)
 *
 * Run: npx tsx bench/blob-read.bench.ts [--blobs 2000] [--rounds 3]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FsBlobStore } from '../src/storage/fs-blob-store';

const OPTIONS = { blobs: 2000, rounds: 3 };
const { values } = parseArgs({ options: Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: 'string' as const }])) });
const [BLOBS, ROUNDS] = Object.entries(OPTIONS).map(([name, fallback]) => {
  const v = Number(values[name] ?? fallback);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}) as [number, number];

/** CPU and wall time per read of `fn` over every blob, in µs. */
async function measure(fn: () => Promise<void>): Promise<{ cpu: number; wall: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / BLOBS, wall: ((performance.now() - t0) * 1000) / BLOBS };
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'tributary-blob-read-'));
  try {
    const store = new FsBlobStore(root);
    const key = (i: number) => `raw/acme/app/${String(i).padStart(6, '0')}`;
    for (let i = 0; i < BLOBS; i++) await store.put(key(i), Buffer.from(`SF:src/m${i % 50}.ts\nDA:${(i % 40) + 1},1\nDA:${(i % 40) + 2},0\nend_of_record\n`));
    const file = (i: number) => path.join(root, key(i));
    const ways: [string, () => Promise<void>][] = [
      [
        'fs/promises readFile (FsBlobStore.get), one after the other',
        async () => {
          for (let i = 0; i < BLOBS; i++) await readFile(file(i));
        },
      ],
      [
        'fs/promises readFile, 8 at once',
        async () => {
          let next = 0;
          await Promise.all(
            Array.from({ length: 8 }, async () => {
              while (next < BLOBS) await readFile(file(next++));
            }),
          );
        },
      ],
      [
        'readFileSync, one after the other',
        async () => {
          for (let i = 0; i < BLOBS; i++) readFileSync(file(i));
        },
      ],
    ];
    const results = new Map<string, { cpu: number; wall: number }[]>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, fn] of ways) results.set(name, [...(results.get(name) ?? []), await measure(fn)]);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`\n${BLOBS} blobs of ~50 bytes, ${ROUNDS} rounds (median), node ${process.version}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    console.log('| read | CPU per read | wall per read |\n|---|---:|---:|');
    for (const [name, rs] of results) console.log(`| ${name} | ${median(rs.map((x) => x.cpu)).toFixed(1)} µs | ${median(rs.map((x) => x.wall)).toFixed(1)} µs |`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
