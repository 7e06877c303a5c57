/**
 * The commit page of a 20,000-file report, whole HTTP requests against a real gateway (dev
 * server, worker, database): the first page request after start (cold code and report), then
 * warm ones, at the root and in a folder, sorted and paged, then the first request for a second
 * report of the same size (warm code, the report never read by the gateway: what a person
 * opening a new commit waits for), and for a third one whose per-file totals were removed (a
 * report saved before they were stored: decoded whole). Prints a table of server times.
 *
 *   node --import tsx bench/commit-page.bench.ts [--files 20000] [--lines 20] [--runs 30]
 */
import { parseArgs } from 'node:util';
import { openEmbeddedStack } from './support/embedded-stack';
import { lcovRecords } from '../test/support/bombs';
import { newSha } from '../test/support/pipeline';
import { keys } from '../src/storage/blob-store';

const { values } = parseArgs({ options: { files: { type: 'string', default: '20000' }, lines: { type: 'string', default: '20' }, runs: { type: 'string', default: '30' } } });
const files = Number(values.files);
const lines = Number(values.lines);
const runs = Number(values.runs);

/** The page session a person's browser would hold (private repository: pages need one). */
let cookie = '';

async function signIn(base: string, adminToken: string): Promise<void> {
  const res = await fetch(`${base}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: adminToken, next: '/' }) });
  if (res.status !== 303) throw new Error(`sign-in: ${res.status}`);
  cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

async function timed(url: string): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  // Not following redirects: a page that sent us to sign in would otherwise be timed as the login form.
  const res = await fetch(url, { redirect: 'manual', headers: { cookie } });
  const body = await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  return { ms, bytes: body.byteLength };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main() {
  const stack = await openEmbeddedStack({ env: {}, rateLimitPerMinute: 1_000_000 });
  try {
    const repo = 'bench/pages';
    const created = await fetch(`${stack.base}/api/v1/repos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slug: repo }),
    });
    const { uploadToken } = (await created.json()) as { uploadToken: string };
    const upload = async (sha: string) => {
      const up = await fetch(`${stack.base}/api/v1/repos/${repo}/commits/${sha}/uploads?branch=main`, {
        method: 'POST',
        headers: { authorization: `Bearer ${uploadToken}`, 'content-type': 'application/octet-stream' },
        body: new Uint8Array(lcovRecords(files, lines)),
      });
      if (up.status !== 202) throw new Error(`upload: ${up.status}`);
      for (;;) {
        const s = (await (await fetch(`${stack.base}/api/v1/repos/${repo}/commits/${sha}?wait=30s`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).json()) as { state: string; totals: { files: number } };
        if (s.state === 'complete') {
          if (s.totals.files !== files) throw new Error(`expected ${files} files, got ${s.totals.files}`);
          return;
        }
      }
    };
    const [sha, second, legacy] = [newSha(), newSha(), newSha()];
    await upload(sha);
    await upload(second);
    await upload(legacy);
    // As a report saved before per-file totals were stored: the page decodes the report instead.
    const saved = await stack.p.store.getCommitReport(repo, legacy);
    if (saved === null) throw new Error('no report saved');
    await stack.p.blobs.delete(keys.reportTotals(saved.reportKey));
    const page = `${stack.base}/${repo}/commit/${sha}`;
    const cases: [string, string][] = [
      ['root, by name', page],
      ['root, by misses', `${page}?sort=misses`],
      ['folder src/pkg5, by coverage, page 2', `${page}?path=src/pkg5&sort=coverage&page=2`],
    ];
    await signIn(stack.base, stack.adminToken);
    const first = await timed(page);
    const rows: string[] = [`| case | requests | first (ms) | p50 (ms) | p95 (ms) | max (ms) | HTML (KiB) |`, `| --- | ---: | ---: | ---: | ---: | ---: | ---: |`];
    rows.push(`| first request of the process (reads the report) | 1 | ${first.ms.toFixed(1)} | | | | ${(first.bytes / 1024).toFixed(0)} |`);
    for (const [name, url] of cases) {
      const ms: number[] = [];
      let bytes = 0;
      for (let i = 0; i < runs; i++) {
        const r = await timed(url);
        ms.push(r.ms);
        bytes = r.bytes;
      }
      rows.push(`| ${name} | ${runs} | | ${pct(ms, 50).toFixed(1)} | ${pct(ms, 95).toFixed(1)} | ${Math.max(...ms).toFixed(1)} | ${(bytes / 1024).toFixed(0)} |`);
    }
    const other = await timed(`${stack.base}/${repo}/commit/${second}`);
    rows.push(`| first request for another report | 1 | ${other.ms.toFixed(1)} | | | | ${(other.bytes / 1024).toFixed(0)} |`);
    const old = await timed(`${stack.base}/${repo}/commit/${legacy}`);
    rows.push(`| first request for a report saved without per-file totals | 1 | ${old.ms.toFixed(1)} | | | | ${(old.bytes / 1024).toFixed(0)} |`);
    console.log(`commit page of a ${files}-file report (${lines} lines each), database ${stack.databaseKind}, whole HTTP requests`);
    console.log(rows.join('\n'));
  } finally {
    await stack.close();
  }
}

void main();
