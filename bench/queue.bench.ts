/**
 * Cost of the queue's figures (src/storage/queue.ts) on a large uploads table: the snapshot that
 * GET /api/v1/queue and the /metrics gauges read, an upload status's estimate (windows and the
 * uploads ahead), and one /metrics scrape's queue-time read. Measured on PGlite and, when
 * BENCH_DATABASE_URL or TEST_DATABASE_URL is set, PostgreSQL, each on a fresh database filled in
 * one statement per table (uploads over the last two hours: 5% waiting, 3% processing, the rest
 * merged).
 *
 * Run: npx tsx bench/queue.bench.ts [--uploads 100000] [--repos 50] [--rounds 7]
 */
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Store } from '../src/storage/store';
import { databasesUnderTest } from '../test/support/database';

const OPTIONS = { uploads: 100_000, repos: 50, rounds: 7 };
const { values } = parseArgs({ options: Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: 'string' as const }])) });
const [UPLOADS, REPOS, ROUNDS] = Object.entries(OPTIONS).map(([name, fallback]) => {
  const v = Number(values[name] ?? fallback);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}) as [number, number, number];

if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm the plan and the cache
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const target of databasesUnderTest()) {
    const testDb = await target.create();
    const db = await testDb.open();
    try {
      const fill = performance.now();
      await db.query(`INSERT INTO repositories (slug, upload_token_hash) SELECT 'bench/r' || g, 'h' FROM generate_series(1, $1::int) g`, [REPOS]);
      // Ten commits per repository; uploads round-robin over them.
      await db.query(`INSERT INTO commits (repository_id, sha) SELECT r.id, lpad(to_hex(c), 40, '0') FROM repositories r, generate_series(1, 10) c`);
      await db.query(
        `INSERT INTO uploads (id, commit_id, session, state, raw_key, raw_bytes, created_at, processing_started_at, merged_at)
         SELECT 'u' || g, c.id, g, s.state, 'raw/u' || g, 1000, t.created,
                CASE WHEN s.state = 'uploaded' THEN NULL ELSE t.created + make_interval(secs => g % 60) END,
                CASE WHEN s.state = 'merged' THEN t.created + make_interval(secs => g % 60 + 5) END
         FROM generate_series(1, $1::int) g
         JOIN LATERAL (SELECT id FROM commits ORDER BY id OFFSET (g % ($2::int * 10)) LIMIT 1) c ON true
         CROSS JOIN LATERAL (SELECT CASE WHEN g % 100 < 5 THEN 'uploaded' WHEN g % 100 < 8 THEN 'processing' ELSE 'merged' END AS state) s
         CROSS JOIN LATERAL (SELECT now() - make_interval(secs => (g % 7000) + 100) AS created) t`,
        [UPLOADS, REPOS],
      );
      await db.query('ANALYZE');
      const fillMs = performance.now() - fill;
      const store = new Store(db);
      const [waitingOne] = await db.query<{ id: string }>(`SELECT id FROM uploads WHERE state = 'uploaded' ORDER BY created_at DESC LIMIT 1`);
      const snapshot = await median(() => store.queueSnapshot());
      const status = await median(() => Promise.all([store.queueWindows(), store.waitingAhead(waitingOne!.id)]));
      const since = await store.queueSettledUntil(15_000);
      const scrape = await median(() => store.queueTimesSince(since, 0));
      rows.push([target.kind, String(UPLOADS), `${(fillMs / 1000).toFixed(1)} s`, `${snapshot.toFixed(1)} ms`, `${status.toFixed(1)} ms`, `${scrape.toFixed(1)} ms`]);
    } finally {
      await db.close();
      await testDb.dispose();
    }
  }
  const header = ['database', 'uploads', 'fill', 'queue snapshot', 'status estimate', 'scrape (15 s of starts)'];
  console.log(`queue figures, median of ${ROUNDS}; node ${process.version}; load average ${loadavg()[0]!.toFixed(1)}`);
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

void main();
