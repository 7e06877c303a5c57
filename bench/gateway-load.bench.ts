/**
 * Gateway load: many uploads over many commits sent concurrently through the real gateway on
 * 127.0.0.1, processed by a real worker on a real Temporal dev server, into a real database
 * (PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set, else PGlite) and a blob folder.
 *
 * Run: npx tsx bench/gateway-load.bench.ts [--uploads 500] [--commits 50] [--repos 5]
 *      [--concurrency 16] [--deadline 600]
 *
 * The uploads (real corpus reports; every 50th is junk, so the error path is exercised too) are
 * spread round-robin over the commits, which are spread over repositories in serial, parallel and
 * experiment mode. A bounded pool of senders posts them with an Idempotency-Key each (a retried
 * request can never register twice); the loop is bounded in count and in time (--deadline
 * seconds). Then every commit is awaited through the API (long-polls), and the database is
 * checked: every upload sent is registered exactly once, with dense sessions, and ended `merged`
 * or `error`. Time from upload to merged is merged_at - created_at of each upload's row.
 */
import { openEmbeddedStack } from './support/embedded-stack';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { UPLOAD_MODES, type UploadMode } from '../src/vocabulary';
import { corpusFiles, newSha, type CorpusFile } from '../test/support/pipeline';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

const UPLOADS = arg('uploads', 500);
const COMMITS = arg('commits', 50);
const REPOS = arg('repos', 5);
const CONCURRENCY = arg('concurrency', 16);
const DEADLINE_MS = arg('deadline', 600) * 1000;
const MAX_ATTEMPTS = 4;

const JUNK: CorpusFile = { name: 'junk.txt', body: Buffer.from('not a coverage report\n') };

interface Planned {
  index: number;
  repo: string;
  sha: string;
  file: CorpusFile;
}

interface Sent {
  plan: Planned;
  uploadId: string;
  session: number;
  attempts: number;
  latencyMs: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `fn` over `items` with at most `limit` in flight, stopping new work past `deadline`. */
async function pool<T, R>(items: readonly T[], limit: number, deadline: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      if (Date.now() > deadline) throw new Error('deadline passed');
      const item = items[next++]!;
      out.push(await fn(item));
    }
  });
  await Promise.all(lanes);
  return out;
}

async function main(): Promise<void> {
  // The workers log at WARN (test/support/temporal installs the runtime so): INFO lines would bury the table.
  const stack = await openEmbeddedStack({ env: { TRIBUTARY_DEBOUNCE: '300ms', TRIBUTARY_MAX_DEBOUNCE: '3s', TRIBUTARY_IDLE_TIMEOUT: '2s', TRIBUTARY_MAX_PARALLEL: '8' }, rateLimitPerMinute: 1_000_000 });
  const { p, base, adminToken } = stack;
  const corpus = await corpusFiles();
  const deadline = Date.now() + DEADLINE_MS;

  try {
    // Repositories through the API, each pinned to a mode.
    const tokens = new Map<string, string>();
    const modeOf = new Map<string, UploadMode>();
    for (let r = 0; r < REPOS; r++) {
      const slug = `load/repo-${r}`;
      const mode = UPLOAD_MODES[r % UPLOAD_MODES.length]!;
      const created = await fetch(`${base}/api/v1/repos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ slug }),
      });
      if (created.status !== 201) throw new Error(`creating ${slug}: ${created.status} ${await created.text()}`);
      tokens.set(slug, ((await created.json()) as { uploadToken: string }).uploadToken);
      const set = await fetch(`${base}/api/v1/repos/${slug}/mode`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode }),
      });
      if (set.status !== 200) throw new Error(`mode of ${slug}: ${set.status}`);
      modeOf.set(slug, mode);
    }
    const commits = Array.from({ length: COMMITS }, (_, c) => ({ repo: `load/repo-${c % REPOS}`, sha: newSha() }));
    const plan: Planned[] = Array.from({ length: UPLOADS }, (_, i) => {
      const commit = commits[i % COMMITS]!;
      return { index: i, ...commit, file: i % 50 === 49 ? JUNK : corpus[i % corpus.length]! };
    });

    // Sending: bounded concurrency, bounded retries, bounded time.
    const sendStart = performance.now();
    const sent = await pool(plan, CONCURRENCY, deadline, async (u): Promise<Sent> => {
      for (let attempt = 1; ; attempt++) {
        const t0 = performance.now();
        try {
          const res = await fetch(`${base}/api/v1/repos/${u.repo}/commits/${u.sha}/uploads?name=${encodeURIComponent(u.file.name)}`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${tokens.get(u.repo)}`,
              'content-type': 'application/octet-stream',
              'idempotency-key': `bench-${u.index}`,
            },
            // A view, not a copy: the DOM typing of fetch (pulled in by preact's JSX types) wants an ArrayBuffer-backed body.
            body: new Uint8Array(u.file.body.buffer as ArrayBuffer, u.file.body.byteOffset, u.file.body.byteLength),
          });
          const body = (await res.json()) as { uploads?: { uploadId: string; session: number }[] };
          if (res.status === 202 && body.uploads?.length === 1) {
            return { plan: u, uploadId: body.uploads[0]!.uploadId, session: body.uploads[0]!.session, attempts: attempt, latencyMs: performance.now() - t0 };
          }
          if (res.status < 500 || attempt >= MAX_ATTEMPTS) throw new Error(`upload ${u.index}: ${res.status} ${JSON.stringify(body)}`);
        } catch (err) {
          if (attempt >= MAX_ATTEMPTS) throw err;
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    });
    const sendMs = performance.now() - sendStart;

    // Awaiting: every commit through the API, long-polling, bounded in rounds and time.
    const awaitStart = performance.now();
    await pool(commits, CONCURRENCY, deadline, async (c) => {
      for (let round = 0; round < 40; round++) {
        if (Date.now() > deadline) throw new Error(`deadline passed waiting for ${c.repo}@${c.sha}`);
        const res = await fetch(`${base}/api/v1/repos/${c.repo}/commits/${c.sha}?wait=30s`, { headers: { authorization: `Bearer ${adminToken}` } });
        const body = (await res.json()) as { state: string };
        if (body.state === 'complete') return;
        if (body.state === 'cancelled') throw new Error(`${c.repo}@${c.sha} was cancelled`);
      }
      throw new Error(`${c.repo}@${c.sha} did not complete`);
    });
    const awaitMs = performance.now() - awaitStart;

    // The database: exactly the uploads sent, once each, all finished.
    const byId = new Map(sent.map((s) => [s.uploadId, s]));
    const problems: string[] = [];
    const latencies: number[] = [];
    const latenciesByMode = new Map<UploadMode, number[]>(UPLOAD_MODES.map((m) => [m, []]));
    let merged = 0;
    let errored = 0;
    let lastMerged = 0;
    let firstCreated = Number.POSITIVE_INFINITY;
    for (const c of commits) {
      const rows = await p.store.listUploads(c.repo, c.sha);
      const expected = sent.filter((s) => s.plan.repo === c.repo && s.plan.sha === c.sha);
      if (rows.length !== expected.length) problems.push(`${c.repo}@${c.sha}: ${rows.length} rows for ${expected.length} uploads sent`);
      rows.forEach((r, i) => {
        if (r.session !== i) problems.push(`${r.uploadId}: session ${r.session} at position ${i}`);
        const s = byId.get(r.uploadId);
        if (!s) problems.push(`${r.uploadId}: registered but never answered`);
        else if (s.session !== r.session) problems.push(`${r.uploadId}: answered session ${s.session}, stored ${r.session}`);
        firstCreated = Math.min(firstCreated, r.createdAt.getTime());
        if (r.state === 'merged' && r.mergedAt) {
          merged++;
          const ms = r.mergedAt.getTime() - r.createdAt.getTime();
          latencies.push(ms);
          latenciesByMode.get(modeOf.get(c.repo)!)!.push(ms);
          lastMerged = Math.max(lastMerged, r.mergedAt.getTime());
        } else if (r.state === 'error') {
          errored++;
          if (r.errorCode !== 'report_invalid') problems.push(`${r.uploadId}: error ${r.errorCode} ${r.errorMessage}`);
        } else problems.push(`${r.uploadId}: ended ${r.state}`);
      });
    }
    const junkSent = plan.filter((u) => u.file === JUNK).length;
    if (errored !== junkSent) problems.push(`${errored} uploads errored, ${junkSent} junk uploads were sent`);
    if (new Set(sent.map((s) => s.uploadId)).size !== sent.length) problems.push('two uploads were answered with the same id');

    latencies.sort((a, b) => a - b);
    const sendLat = sent.map((s) => s.latencyMs).sort((a, b) => a - b);
    const retries = sent.reduce((n, s) => n + s.attempts - 1, 0);
    const endToEndS = (lastMerged - firstCreated) / 1000;
    const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

    console.log(`\nGateway load: ${UPLOADS} uploads over ${COMMITS} commits (${REPOS} repositories: ${[...modeOf.values()].join(', ')}), concurrency ${CONCURRENCY}, ${stack.databaseKind}`);
    console.log(`node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    console.log('| measure | value |');
    console.log('|---|---:|');
    console.log(`| uploads sent (202) | ${sent.length} |`);
    console.log(`| retried requests | ${retries} |`);
    console.log(`| registered in the database | ${sent.length - problems.filter((x) => x.includes('never answered')).length} |`);
    console.log(`| ended merged / error / other | ${merged} / ${errored} / ${sent.length - merged - errored} |`);
    console.log(`| problems (lost, duplicated, unfinished) | ${problems.length} |`);
    console.log(`| sending phase | ${fmt(sendMs / 1000, 1)} s (${fmt(sent.length / (sendMs / 1000), 1)} uploads/s accepted) |`);
    console.log(`| POST latency p50 / p95 | ${fmt(percentile(sendLat, 50))} / ${fmt(percentile(sendLat, 95))} ms |`);
    console.log(`| first upload registered to last merged | ${fmt(endToEndS, 1)} s (${fmt(merged / endToEndS, 1)} uploads/s merged) |`);
    console.log(`| awaiting after sending | ${fmt(awaitMs / 1000, 1)} s |`);
    console.log(`| upload to merged p50 / p95 (all) | ${fmt(percentile(latencies, 50))} / ${fmt(percentile(latencies, 95))} ms |`);
    for (const [mode, list] of latenciesByMode) {
      list.sort((a, b) => a - b);
      if (list.length > 0) console.log(`| upload to merged p50 / p95 (${mode}, ${list.length}) | ${fmt(percentile(list, 50))} / ${fmt(percentile(list, 95))} ms |`);
    }
    if (problems.length > 0) {
      console.log(`\n${problems.length} problems:\n${problems.slice(0, 20).join('\n')}`);
      process.exitCode = 1;
    }
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
