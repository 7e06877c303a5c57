/**
 * The commit page's tree from the per-file totals the finisher stores with a report, against a
 * real gateway and worker on the dev server: the same uploads give the same tree (and treemap)
 * whether the page reads the stored totals, a report saved without them (the report is decoded
 * instead), or unreadable ones; and the tree adds up to the API's report totals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { keys } from '../../src/storage/blob-store';
import { call, openHarness, type Harness } from '../api/harness';
import { corpusFiles, newSha, type CorpusFile } from '../support/pipeline';

const REPO = 'treetest/app';
const UPLOADS = ['negotiator-nyc/lcov.info', 'negotiator-nyc/cobertura-coverage.xml', 'negotiator-c8/lcov.info', 'tomli-misc/coverage-py.xml'];

let h: Harness;
let corpus: CorpusFile[];
let cookie = '';
/** One commit per way the page gets its totals, all with the same uploads. */
const shas = { stored: newSha(), withoutTotals: newSha(), unreadable: newSha() };

async function reportKey(sha: string): Promise<string> {
  const saved = await h.p.store.getCommitReport(REPO, sha);
  assert.ok(saved, `no report for ${sha}`);
  return saved.reportKey;
}

async function pageHtml(sha: string, query: string): Promise<string> {
  const res = await fetch(`${h.gateway.base}/${REPO}/commit/${sha}${query}`, { headers: cookie ? { cookie } : {} });
  assert.equal(res.status, 200, `${sha}${query}`);
  return res.text();
}

/** The tree table and the treemap, with the commit's sha taken out of their links. */
function treeOf(html: string, sha: string): string {
  const from = html.indexOf('<svg');
  const table = html.indexOf('id="file-tree"');
  const to = html.indexOf('</table>', table);
  assert.ok(from >= 0 && table > from && to > table, 'the page has a treemap and a file tree');
  return html.slice(from, to).replaceAll(sha, '<sha>');
}

describe('commit page tree from stored per-file totals', { timeout: 240_000 }, () => {
  before(async () => {
    [h, corpus] = await Promise.all([openHarness(), corpusFiles()]);
    const created = await call(h.gateway.base, 'POST', '/api/v1/repos', { token: h.adminToken, json: { slug: REPO } });
    assert.equal(created.status, 201);
    const body = (name: string) => new Uint8Array(corpus.find((c) => c.name === name)!.body);
    for (const sha of Object.values(shas)) {
      for (const name of UPLOADS) {
        const res = await call(h.gateway.base, 'POST', `/api/v1/repos/${REPO}/commits/${sha}/uploads?branch=main&name=${encodeURIComponent(name)}`, {
          token: created.body.uploadToken,
          body: body(name),
          headers: { 'content-type': 'application/octet-stream' },
        });
        assert.equal(res.status, 202, JSON.stringify(res.body));
      }
    }
    for (const sha of Object.values(shas)) {
      for (;;) {
        const res = await call(h.gateway.base, 'GET', `/api/v1/repos/${REPO}/commits/${sha}?wait=30s`, { token: h.adminToken });
        if (res.body.state === 'complete' && res.body.uploads?.length === UPLOADS.length) break;
      }
    }
    // A session as a person gets one (pages of private repositories need it once access checks them).
    const login = await fetch(`${h.gateway.base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: h.adminToken, next: '/' }).toString(),
    });
    assert.equal(login.status, 303);
    cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  });

  after(async () => {
    await h?.close();
  });

  test('the finisher stores per-file totals next to each saved report', async () => {
    for (const sha of Object.values(shas)) assert.ok(await h.p.blobs.exists(keys.reportTotals(await reportKey(sha))), sha);
    // Now make the other two as a report saved before them and one whose totals are damaged.
    await h.p.blobs.delete(keys.reportTotals(await reportKey(shas.withoutTotals)));
    await h.p.blobs.put(keys.reportTotals(await reportKey(shas.unreadable)), Uint8Array.from([0x54, 0x52, 0x42, 0x54, 1, 0, 0, 0, 0, 0]));
  });

  test('stored totals, no totals and unreadable totals render the same tree, which adds up to the API totals', async () => {
    const api = await call(h.gateway.base, 'GET', `/api/v1/repos/${REPO}/commits/${shas.stored}/report`, { token: h.adminToken });
    assert.equal(api.status, 200);
    for (const query of ['', '?sort=misses', '?sort=coverage&order=asc', '?path=lib', '?path=src/tomli&sort=lines']) {
      const [stored, without, unreadable] = await Promise.all(Object.values(shas).map(async (sha) => treeOf(await pageHtml(sha, query), sha)));
      assert.equal(without, stored, `no totals, ${query}`);
      assert.equal(unreadable, stored, `unreadable totals, ${query}`);
    }
    // The root's rows (files and folders, one page of them) sum to the report's totals.
    const root = await pageHtml(shas.stored, '');
    const rows = [...root.matchAll(/<tr data-path="[^"]*" data-kind="(?:file|folder)">([\s\S]*?)<\/tr>/g)].map((m) =>
      [...m[1]!.matchAll(/<td class="num"[^>]*>([^<]*)<\/td>/g)].map((c) => Number(c[1]!.replace(/[^0-9]/g, ''))),
    );
    assert.ok(rows.length > 1, 'the root has rows');
    // Columns after coverage: misses, lines, hits, partials, files.
    const sum = (i: number) => rows.reduce((s, r) => s + r[i]!, 0);
    const t = api.body.totals;
    assert.deepEqual([sum(0), sum(1), sum(2), sum(3), sum(4)], [t.misses, t.lines, t.hits, t.partials, t.files]);
  });
});
