/**
 * The web pages in a real headless Chromium against a real gateway and worker on the Temporal
 * dev server: log in, the repository, a commit in each mode, a file with partial lines, a commit
 * followed live to `complete`, the tree sorted, the workflow link; numbers checked against the
 * API's report, axe-core on every page, screenshots into docs/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { freePort } from '../support/ports';
import { corpusFiles, newSha, type CorpusFile } from '../support/pipeline';
import { call, openHarness, type Harness } from '../api/harness';
import { displayPercent } from '../../src/coverage/ratio';

const REPO = 'webtest/app';
const SHOTS = path.resolve(__dirname, '../../docs/screenshots');
const AXE = require.resolve('axe-core/axe.min.js');

let h: Harness;
let browser: Browser;
let context: BrowserContext;
let corpus: CorpusFile[];
let uploadToken: string;
// The dev server serves the Temporal Web UI here; the commit pages link into it.
let uiPort: number;
let UI: string;
const shas: Record<'serial' | 'parallel' | 'experiment', string> = { serial: newSha(), parallel: newSha(), experiment: newSha() };
/** Two reports of one run (LCOV and Cobertura from nyc): the branches they leave partial stay so. */
const partialSha = newSha();

const file = (name: string) => {
  const f = corpus.find((c) => c.name === name);
  if (!f) throw new Error(`no corpus file ${name}`);
  return f.body;
};

async function upload(sha: string, name: string, query: string): Promise<void> {
  const res = await call(h.gateway.base, 'POST', `/api/v1/repos/${REPO}/commits/${sha}/uploads?${query}`, {
    token: uploadToken,
    body: new Uint8Array(file(name)),
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
}

async function settled(sha: string) {
  for (;;) {
    const res = await call(h.gateway.base, 'GET', `/api/v1/repos/${REPO}/commits/${sha}?wait=30s`, { token: h.adminToken });
    assert.equal(res.status, 200);
    if (res.body.state === 'complete') return res.body;
  }
}

async function report(sha: string) {
  const res = await call(h.gateway.base, 'GET', `/api/v1/repos/${REPO}/commits/${sha}/report`, { token: h.adminToken });
  assert.equal(res.status, 200);
  return res.body;
}

/** axe-core in the page: no serious or critical violation. */
async function checkA11y(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // axe is the script just added; typed loosely here, its result is checked below.
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious, [], `${what}: ${JSON.stringify(serious, null, 1)}`);
}

async function logIn(page: Page, next: string): Promise<void> {
  await page.goto(`${h.gateway.base}/login?next=${encodeURIComponent(next)}`);
  await checkA11y(page, 'login page');
  await page.fill('input[name=token]', h.adminToken);
  await Promise.all([page.waitForURL((u) => u.pathname === next.split('?')[0]), page.click('button[type=submit], input[type=submit]')]);
}

const int = (text: string | null) => Number((text ?? '').replace(/[^0-9-]/g, ''));

describe('web pages in a browser', { timeout: 300_000 }, () => {
  before(async () => {
    // A debounce long enough for the live commit to be seen processing, short enough for the rest.
    uiPort = await freePort();
    UI = `http://127.0.0.1:${uiPort}`;
    [h, corpus, browser] = await Promise.all([
      openHarness({ TRIBUTARY_TEMPORAL_UI_URL: UI, TRIBUTARY_DEBOUNCE: '3s', TRIBUTARY_MAX_DEBOUNCE: '4s' }, { uiPort }),
      corpusFiles(),
      launchChromium(),
    ]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    const created = await call(h.gateway.base, 'POST', '/api/v1/repos', { token: h.adminToken, json: { slug: REPO } });
    assert.equal(created.status, 201);
    uploadToken = created.body.uploadToken;
    for (const mode of ['serial', 'parallel', 'experiment'] as const) {
      assert.equal((await call(h.gateway.base, 'PUT', `/api/v1/repos/${REPO}/mode`, { token: h.adminToken, json: { mode } })).status, 200);
      const sha = shas[mode];
      await upload(sha, 'negotiator-nyc/lcov.info', 'branch=main&flags=unit&name=lcov&ci_url=https://ci.example/run/1');
      await upload(sha, 'negotiator-c8/lcov.info', 'branch=main&flags=integration&name=c8');
      await settled(sha);
    }
    await upload(partialSha, 'negotiator-nyc/lcov.info', 'branch=topic&flags=unit&name=lcov');
    await upload(partialSha, 'negotiator-nyc/cobertura-coverage.xml', 'branch=topic&flags=cobertura&name=cobertura');
    await settled(partialSha);
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await h?.close();
  });

  test('log in, then the home and repository pages list the commits with the API figures', async () => {
    const page = await context.newPage();
    await logIn(page, '/');
    assert.match((await page.textContent('h1')) ?? '', /Repositories/);
    await checkA11y(page, 'home page');
    await page.click(`a[href="/webtest/app"]`);
    await page.waitForURL(/\/webtest\/app$/);
    await checkA11y(page, 'repository page');
    await page.screenshot({ path: path.join(SHOTS, 'repository.png') });
    for (const [mode, sha] of Object.entries(shas)) {
      const row = page.locator(`#commit-list tr[data-sha="${sha}"]`);
      const cells = await row.locator('td').allTextContents();
      const api = (await call(h.gateway.base, 'GET', `/api/v1/repos/${REPO}/commits/${sha}`, { token: h.adminToken })).body;
      // Branch, PR, first upload, state, coverage, hits, misses, partials, mode, experiment, uploads.
      assert.equal(cells[0], 'main');
      assert.equal(cells[3], 'complete');
      assert.equal(cells[4], displayPercent(api.totals.coverage));
      assert.equal(int(cells[5]!), api.totals.hits);
      assert.equal(int(cells[6]!), api.totals.misses);
      assert.equal(int(cells[7]!), api.totals.partials);
      assert.equal(cells[8], mode);
      assert.equal(cells[9], mode === 'experiment' ? 'match' : '—');
      assert.equal(int(cells[10]!), 2);
    }
    // Filtered by branch: only that branch's commits.
    await page.selectOption('#branch', 'topic');
    await Promise.all([page.waitForURL(/branch=topic/), page.click('form.filter button')]);
    assert.deepEqual(await page.locator('#commit-list tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-sha'))), [partialSha]);
    await page.goBack();
    // The chart drew (uPlot served from /assets) from the branch's reports.
    await page.waitForSelector('#coverage-chart canvas');
    await page.close();
  });

  test('a commit page in each mode shows the report totals, uploads, the workflow link; the tree sorts', async () => {
    const page = await context.newPage();
    for (const [mode, sha] of Object.entries(shas)) {
      await page.goto(`${h.gateway.base}/webtest/app/commit/${sha}`);
      const api = (await call(h.gateway.base, 'GET', `/api/v1/repos/${REPO}/commits/${sha}`, { token: h.adminToken })).body;
      const rep = await report(sha);
      assert.equal(await page.textContent('#commit-state'), 'complete');
      assert.equal(await page.textContent('#commit-mode'), mode);
      assert.equal(await page.textContent('#commit-experiment'), api.experimentOutcome ?? '—');
      for (const k of ['lines', 'hits', 'misses', 'partials', 'branches', 'methods', 'files', 'sessions'] as const) {
        assert.equal(int(await page.textContent(`#totals-table [data-total=${k}]`)), api.totals[k], `${mode} ${k}`);
      }
      assert.equal(rep.totals.hits, api.totals.hits);
      assert.equal(await page.locator('#upload-list tbody tr').count(), 2);
      assert.deepEqual(await page.locator('#upload-list .flag').allTextContents(), ['unit', 'integration']);
      const href = await page.getAttribute('#workflow-link', 'href');
      assert.equal(href, `${UI}/namespaces/default/workflows/${encodeURIComponent(`commit:${REPO}:${sha}`)}`);
      // The files' figures, summed over the tree's rows, are the report's.
      const rows = page.locator('#file-tree tbody tr');
      const n = await rows.count();
      assert.ok(n > 0);
      await checkA11y(page, `commit page (${mode})`);
    }
    // Sorting is a link (works without script): by misses, most first.
    await page.click('#file-tree thead a[data-sort=misses]');
    await page.waitForURL(/sort=misses/);
    const misses = (await page.locator('#file-tree tbody tr td:nth-of-type(2)').allTextContents()).map(int);
    assert.ok(misses.length > 0);
    assert.deepEqual(misses, [...misses].sort((a, b) => b - a));
    await page.click('#file-tree thead a[data-sort=coverage]');
    await page.waitForURL(/sort=coverage/);
    const cov = (await page.locator('#file-tree tbody td[data-coverage]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-coverage')))));
    assert.deepEqual(cov, [...cov].sort((a, b) => a - b));
    await page.goto(`${h.gateway.base}/webtest/app/commit/${shas.serial}`);
    await page.screenshot({ path: path.join(SHOTS, 'commit.png'), fullPage: true });
    await page.close();
  });

  test('a file with partial lines shows hits, branches taken and misses as the API reports them; the flag filter narrows it', async () => {
    const sha = partialSha;
    const rep = await report(sha);
    const [name, partialFile] = Object.entries(rep.files as Record<string, { lines: Record<string, unknown>; totals: { partials: number; lines: number; hits: number; misses: number } }>).find(([, f]) => f.totals.partials > 0)!;
    const page = await context.newPage();
    await page.goto(`${h.gateway.base}/webtest/app/commit/${sha}`);
    // Through the tree: folders first, then the file.
    const segments = name.split('/');
    for (let i = 0; i < segments.length; i++) {
      const target = segments.slice(0, i + 1).join('/');
      const link = page.locator(`#file-tree tbody tr[data-path="${target}"] a`);
      if ((await link.count()) === 0) continue; // a folder the tree looked through
      await Promise.all([page.waitForLoadState('load'), link.click()]);
    }
    await page.waitForURL(/\/blob\//);
    assert.equal(await page.textContent('h1'), name);
    for (const k of ['lines', 'hits', 'misses', 'partials'] as const) {
      assert.equal(int(await page.textContent(`#file-totals [data-total=${k}]`)), partialFile.totals[k]);
    }
    const shown = await page.locator('#file-lines tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-line'), tr.getAttribute('data-value'), tr.className]));
    assert.equal(shown.length, Object.keys(partialFile.lines).length);
    for (const [line, value] of shown) assert.equal(value, String(partialFile.lines[line!]), `line ${line}`);
    const partialRow = page.locator('#file-lines tr.line-partial').first();
    assert.match((await partialRow.locator('.cov-cell').textContent()) ?? '', /of \d+ branches|partial/);
    await checkA11y(page, 'file page');
    await page.screenshot({ path: path.join(SHOTS, 'file.png') });
    // Only the uploads flagged unit: the report filtered by its sessions, as filterSessions does.
    await page.selectOption('#flag', 'unit');
    await Promise.all([page.waitForURL(/flag=unit/), page.click('form.filter button')]);
    const unitLines = await page.locator('#file-lines tbody tr').count();
    assert.ok(unitLines > 0 && unitLines <= shown.length);

    // With the source sent for the upload (what `tributary upload --sources` does), the page
    // shows every line of it, the code beside each line's coverage.
    const last = Math.max(...Object.keys(partialFile.lines).map(Number));
    const text = Array.from({ length: last + 2 }, (_, i) => `const line${i + 1} = ${i + 1}; // source of ${name}`).join('\n');
    const commit = (await call(h.gateway.base, 'GET', `/api/v1/repos/${REPO}/commits/${sha}`, { token: h.adminToken })).body as { uploads: { uploadId: string }[] };
    const sent = await call(h.gateway.base, 'POST', `/api/v1/uploads/${commit.uploads[0]!.uploadId}/sources`, { token: h.adminToken, json: { files: [{ path: name, content: text }] } });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.stored, 1, JSON.stringify(sent.body));
    await page.goto(`${h.gateway.base}/${REPO}/commit/${sha}/blob/${name}`);
    assert.match((await page.textContent('#file-lines caption')) ?? '', /Source/);
    assert.equal(await page.locator('#file-lines tbody tr').count(), last + 2);
    assert.match((await page.locator(`#file-lines tr[data-line="${last}"]`).textContent()) ?? '', new RegExp(`const line${last} = ${last};`));
    await page.close();
  });

  test('a processing commit is followed live (server-sent events) until complete', async () => {
    const sha = newSha();
    await upload(sha, 'negotiator-nyc/clover.xml', 'branch=feature&flags=unit');
    const page = await context.newPage();
    await page.goto(`${h.gateway.base}/webtest/app/commit/${sha}`);
    const first = await page.textContent('#commit-state');
    assert.ok(first === 'pending' || first === 'processing', `opened while ${first}`);
    assert.ok(await page.getAttribute('#commit-status', 'data-events'));
    await page.waitForFunction(() => document.getElementById('commit-state')?.textContent === 'complete', undefined, { timeout: 60_000 });
    await page.waitForSelector('#totals-table');
    const api = (await call(h.gateway.base, 'GET', `/api/v1/repos/${REPO}/commits/${sha}`, { token: h.adminToken })).body;
    assert.equal(api.state, 'complete');
    assert.equal(int(await page.textContent('#totals-table [data-total=hits]')), api.totals.hits);
    await page.close();
  });

  test('the operators\' queue page and a phone-sized commit page pass the accessibility check', async () => {
    const page = await context.newPage();
    await page.goto(`${h.gateway.base}/queue`);
    const queue = (await call(h.gateway.base, 'GET', '/api/v1/queue', { token: h.adminToken })).body;
    assert.equal(int(await page.textContent('#queue-total [data-figure=waiting]')), queue.total.waiting);
    await checkA11y(page, 'queue page');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${h.gateway.base}/webtest/app/commit/${shas.experiment}`);
    await checkA11y(page, 'commit page at 390 px');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px at 390 px`);
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'commit-phone.png') });
    await page.close();
  });

  test('under the pages\' real Content-Security-Policy nothing is refused; the workflow link opens the workflow in the Temporal Web UI', async () => {
    // The other tests bypass the CSP to inject axe-core; this context keeps it, as a user's browser does.
    const strict = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await strict.newPage();
      const refused: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(`${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (err) => refused.push(`${page.url()}: ${err.message}`));
      // Signed in by hand: logIn's accessibility check injects a script this CSP refuses.
      await page.goto(`${h.gateway.base}/login?next=%2F`);
      await page.fill('input[name=token]', h.adminToken);
      await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.click('button[type=submit]')]);
      const partialFile = Object.keys((await report(partialSha)).files as Record<string, unknown>)[0]!;
      for (const url of ['/', `/${REPO}`, `/${REPO}/commit/${shas.experiment}`, `/${REPO}/commit/${partialSha}/blob/${partialFile}`, '/queue']) {
        await page.goto(`${h.gateway.base}${url}`);
        await page.waitForLoadState('networkidle');
      }
      assert.deepEqual(refused, [], 'no script, style or image refused, no script error');

      const workflowId = `commit:${REPO}:${shas.serial}`;
      await page.goto(`${h.gateway.base}/${REPO}/commit/${shas.serial}`);
      await Promise.all([page.waitForURL((u) => u.href.startsWith(UI)), page.click('#workflow-link')]);
      assert.ok(page.url().includes(encodeURIComponent(workflowId)), page.url());
      // The UI (a single-page app served by the dev server) renders the workflow it was sent to.
      await page.getByText(workflowId).first().waitFor({ timeout: 60_000 });
      await page.screenshot({ path: path.join(SHOTS, 'temporal-ui-workflow.png') });
    } finally {
      await strict.close();
    }
  });
});
