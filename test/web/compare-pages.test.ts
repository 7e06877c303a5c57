/**
 * The pull-request pages in a real headless Chromium against a real gateway and worker on the
 * Temporal dev server. A parent and two pull-request commits are uploaded through the real
 * `tributary` binary with `--diff-base` in a real git repository; the compare page's figures are
 * the compare API's, the file page marks exactly the patch lines (worked out by hand, and the ones
 * the stored diff gives), the pull-request page lists the pull request's commits newest first, a
 * commit still processing is followed live until the comparison shows, and axe-core finds no
 * serious or critical violation on the new pages. Screenshots into docs/screenshots/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { patchLines, parseUnifiedDiff } from '../../src/coverage/unified-diff';
import { launchChromium } from '../support/browser';
import { runNode } from '../support/run-child';
import { newSha } from '../support/pipeline';
import { call, openHarness, type Harness } from '../api/harness';
import { displayPercent } from '../../src/coverage/ratio';
import { points } from '../../src/web/format';

const BIN = path.resolve(__dirname, '../../bin/tributary.js');
const SLUG = 'webcompare/app';
const PR = 7;
const SHOTS = path.resolve(__dirname, '../../docs/screenshots');
const AXE = require.resolve('axe-core/axe.min.js');

let h: Harness;
let browser: Browser;
let context: BrowserContext;
let scratch: string;
let repoDir: string;
let cliEnv: NodeJS.ProcessEnv;
let parentSha: string;
let childSha: string;
let secondSha: string;
let uploadToken: string;

const cli = (args: string[]) => runNode([BIN, ...args], { cwd: repoDir, env: cliEnv });
const git = (...args: string[]) => execFileSync('git', args, { cwd: repoDir, encoding: 'utf8', env: { ...process.env, HOME: scratch, GIT_CONFIG_NOSYSTEM: '1' } }).trim();
const api = async (p: string) => {
  const res = await call(h.gateway.base, 'GET', p, { token: h.adminToken });
  assert.equal(res.status, 200, `${p}: ${JSON.stringify(res.body)}`);
  return res.body;
};
const lcov = (files: Record<string, Record<number, number>>) =>
  Object.entries(files)
    .map(([f, lines]) => `SF:${f}\n${Object.entries(lines).map(([n, c]) => `DA:${n},${c}`).join('\n')}\nend_of_record\n`)
    .join('');
const int = (text: string | null) => Number((text ?? '').replace(/[^0-9-]/g, ''));

const PARENT_APP = ['function add(a, b) {', '  return a + b;', '}', 'function sub(a, b) {', '  return a - b;', '}', 'module.exports = { add, sub };'];
// Adds lines 7-12 and changes 13 (the exports line): patch lines 7-13 of src/app.js.
const CHILD_APP = [...PARENT_APP.slice(0, 6), 'function mul(a, b) {', '  return a * b;', '}', 'function div(a, b) {', '  return a / b;', '}', 'module.exports = { add, sub, mul, div };'];
const CHILD_PATCH = [7, 8, 9, 10, 11, 12, 13];

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

/** What the compare page shows, read from its tables. */
async function shownComparison(page: Page) {
  const side = async (s: 'base' | 'head') => {
    const row = page.locator(`#compare-totals tr[data-side=${s}]`);
    const figure = async (k: string) => int(await row.locator(`[data-total=${k}]`).textContent());
    return {
      coverage: await row.locator('[data-total=coverage]').getAttribute('data-value'),
      lines: await figure('lines'),
      hits: await figure('hits'),
      misses: await figure('misses'),
      partials: await figure('partials'),
      files: await figure('files'),
    };
  };
  const patchFigure = async (k: string) => int(await page.locator(`#compare-patch [data-patch-total=${k}]`).textContent());
  const files = await page.locator('#compare-files tbody tr').evaluateAll((trs) =>
    trs.map((tr) => {
      const cells = Array.from(tr.querySelectorAll('td'));
      return {
        path: tr.getAttribute('data-path'),
        change: tr.getAttribute('data-change'),
        base: cells[1]!.getAttribute('data-value'),
        head: cells[2]!.getAttribute('data-value'),
        delta: cells[3]!.getAttribute('data-value'),
        patch: cells[4]!.getAttribute('data-value'),
      };
    }),
  );
  return {
    base: { sha: await page.getAttribute('#compare-base', 'data-sha'), source: await page.getAttribute('#compare-base', 'data-source'), totals: await side('base') },
    head: await side('head'),
    delta: await page.getAttribute('#compare-delta', 'data-value'),
    patch: { coverage: await page.getAttribute('#compare-patch [data-patch-total=coverage]', 'data-value'), lines: await patchFigure('lines'), hits: await patchFigure('hits'), misses: await patchFigure('misses'), partials: await patchFigure('partials') },
    files,
  };
}

// The answers are read field by field; their schema is the API's own (test/api/openapi.test.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
function expectedFromApi(c: any) {
  const totals = (t: { coverage: string; lines: number; hits: number; misses: number; partials: number; files: number }) => ({ coverage: t.coverage, lines: t.lines, hits: t.hits, misses: t.misses, partials: t.partials, files: t.files });
  return {
    base: { sha: c.base.sha, source: c.baseSource, totals: totals(c.base.totals) },
    head: totals(c.head.totals),
    delta: c.coverageDelta,
    patch: { coverage: c.patch.coverage ?? '', lines: c.patch.lines, hits: c.patch.hits, misses: c.patch.misses, partials: c.patch.partials },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    files: c.files.map((f: any) => ({ path: f.path, change: f.change, base: f.base?.coverage ?? '', head: f.head?.coverage ?? '', delta: f.coverageDelta ?? '', patch: f.patch?.coverage ?? '' })),
  };
}

describe('pull-request pages in a browser', { timeout: 300_000 }, () => {
  before(async () => {
    // A debounce long enough for a commit to be seen processing, short enough for the rest.
    [h, browser] = await Promise.all([openHarness({ TRIBUTARY_DEBOUNCE: '3s', TRIBUTARY_MAX_DEBOUNCE: '4s' }), launchChromium()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    // Signed in once, as a person would: the context keeps the session cookie for every page.
    const signIn = await context.newPage();
    await signIn.goto(`${h.gateway.base}/login?next=%2F`);
    await signIn.fill('input[name=token]', h.adminToken);
    await Promise.all([signIn.waitForURL((u) => u.pathname === '/'), signIn.click('button[type=submit]')]);
    await signIn.close();
    scratch = mkdtempSync(path.join(tmpdir(), 'tributary-web-compare-'));
    repoDir = path.join(scratch, 'repo');
    mkdirSync(path.join(repoDir, 'src'), { recursive: true });
    cliEnv = { PATH: process.env.PATH, HOME: scratch, TRIBUTARY_URL: h.gateway.base, TRIBUTARY_ADMIN_TOKEN: h.adminToken, TRIBUTARY_CONFIG_DIR: path.join(scratch, 'config') };
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'ci@example.com');
    git('config', 'user.name', 'ci');
    writeFileSync(path.join(repoDir, 'src/app.js'), `${PARENT_APP.join('\n')}\n`);
    writeFileSync(path.join(repoDir, 'src/util.js'), 'exports.id = (x) =>\n  x;\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'parent');
    parentSha = git('rev-parse', 'HEAD');
    git('checkout', '-q', '-b', 'feature');
    writeFileSync(path.join(repoDir, 'src/app.js'), `${CHILD_APP.join('\n')}\n`);
    git('commit', '-q', '-am', 'child');
    childSha = git('rev-parse', 'HEAD');
    writeFileSync(path.join(repoDir, 'src/util.js'), 'exports.id = (x) =>\n  x;\nexports.two = 2;\n');
    git('commit', '-q', '-am', 'second');
    secondSha = git('rev-parse', 'HEAD');

    const created = await cli(['repo', 'create', SLUG]);
    assert.equal(created.code, 0, created.stderr);
    uploadToken = created.stdout.trim().split(/\s+/).pop()!;
    writeFileSync(path.join(scratch, 'parent.info'), lcov({ 'src/app.js': { 1: 1, 2: 1, 4: 1, 5: 0, 7: 1 }, 'src/util.js': { 1: 1, 2: 0 } }));
    writeFileSync(path.join(scratch, 'child.info'), lcov({ 'src/app.js': { 1: 1, 2: 1, 4: 1, 5: 0, 7: 1, 8: 1, 10: 1, 11: 0, 13: 1 }, 'src/util.js': { 1: 1, 2: 0 } }));
    writeFileSync(path.join(scratch, 'second.info'), lcov({ 'src/app.js': { 1: 1, 2: 1, 4: 1, 5: 0, 7: 1, 8: 1, 10: 1, 11: 1, 13: 1 }, 'src/util.js': { 1: 1, 2: 1, 3: 0 } }));
    const uploads = [
      ['parent.info', parentSha, ['--branch', 'main']],
      ['child.info', childSha, ['--branch', 'feature', '--pr', String(PR), '--parent', parentSha, '--diff-base', 'main']],
      ['second.info', secondSha, ['--branch', 'feature', '--pr', String(PR), '--parent', childSha, '--diff-base', 'main']],
    ] as const;
    for (const [file, sha, extra] of uploads) {
      git('checkout', '-q', sha);
      const r = await cli(['upload', path.join(scratch, file), '--repo', SLUG, '--commit', sha, '--flag', 'unit', ...extra]);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await h?.close();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  test("the compare page shows the compare API's figures, says which base it took, sorts, and filters by flag", async () => {
    const fromApi = await api(`/api/v1/repos/${SLUG}/compare?head=${childSha}`);
    // Worked out by hand (as in test/integration/compare.test.ts): patch lines 7 8 10 13 hit, 11 missed.
    assert.deepEqual(fromApi.patch, { lines: 5, hits: 4, misses: 1, partials: 0, coverage: '80.00000' });
    assert.equal(fromApi.coverageDelta, '1.29870');
    const page = await context.newPage();
    await page.goto(`${h.gateway.base}/${SLUG}/commit/${childSha}`);
    await Promise.all([page.waitForURL(/\/compare\?/), page.click('#compare-link')]);
    assert.deepEqual(await shownComparison(page), expectedFromApi(fromApi));
    assert.equal(await page.getAttribute('#compare-base', 'data-source'), 'pullRequest');
    assert.match((await page.textContent('#compare-base')) ?? '', /pull request's base/);
    await checkA11y(page, 'compare page');
    await mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'compare.png'), fullPage: true });

    // A given base: the API's answer for it, and the page says the base was asked for.
    await page.goto(`${h.gateway.base}/${SLUG}/compare?base=${parentSha}&head=${secondSha}`);
    const given = await api(`/api/v1/repos/${SLUG}/compare?base=${parentSha}&head=${secondSha}`);
    assert.equal(given.baseSource, 'given');
    assert.deepEqual(await shownComparison(page), expectedFromApi(given));
    assert.equal(given.files.length, 2);
    // Sorting is a link: by patch coverage, lowest first, then the other way round.
    await Promise.all([page.waitForURL(/sort=patch/), page.click('#compare-files thead a[data-sort=patch]')]);
    const asc = await page.locator('#compare-files tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-path')));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's files, as above
    const byPatch = [...given.files].sort((a: any, b: any) => Number(a.patch.coverage) - Number(b.patch.coverage)).map((f: { path: string }) => f.path);
    assert.deepEqual(asc, byPatch);
    assert.notDeepEqual(byPatch, [...byPatch].sort(), 'the patch order differs from the path order, so the sort is seen');
    await Promise.all([page.waitForURL(/order=desc/), page.click('#compare-files thead a[data-sort=patch]')]);
    assert.deepEqual(await page.locator('#compare-files tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-path'))), [...byPatch].reverse());
    // The flag filter keeps the sort and restricts both sides, as ?flag= on the API does.
    await page.selectOption('#flag', 'unit');
    await Promise.all([page.waitForURL(/flag=unit/), page.click('form.filter button')]);
    const flagged = await api(`/api/v1/repos/${SLUG}/compare?base=${parentSha}&head=${secondSha}&flag=unit`);
    assert.equal(flagged.flag, 'unit');
    const shown = await shownComparison(page);
    assert.deepEqual({ ...shown, files: [...shown.files].sort((a, b) => (a.path! < b.path! ? -1 : 1)) }, expectedFromApi(flagged));
    await page.close();
  });

  test('the file page marks exactly the patch lines, with the patch coverage of the compare API', async () => {
    const fromApi = await api(`/api/v1/repos/${SLUG}/compare?head=${childSha}`);
    const filePatch = fromApi.files.find((f: { path: string }) => f.path === 'src/app.js').patch;
    const diff = await call(h.gateway.base, 'GET', `/api/v1/repos/${SLUG}/commits/${childSha}/diff`, { token: h.adminToken });
    assert.equal(diff.status, 200);
    const fromDiff = patchLines(parseUnifiedDiff(diff.body as string)).get('src/app.js');
    assert.deepEqual(fromDiff, CHILD_PATCH);

    const page = await context.newPage();
    await page.goto(`${h.gateway.base}/${SLUG}/compare?head=${childSha}`);
    await Promise.all([page.waitForURL(/\/blob\/src\/app\.js/), page.click('#compare-files tr[data-path="src/app.js"] th a')]);
    const marked = await page.locator('#file-lines tbody tr[data-patch]').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-line'))));
    assert.deepEqual(marked, CHILD_PATCH);
    // Each marked row says so in words (for screen readers), no other row does.
    const spoken = await page.locator('#file-lines tbody tr').evaluateAll((trs) => trs.filter((tr) => tr.querySelector('.sr-only')?.textContent === 'patch line').map((tr) => Number(tr.getAttribute('data-line'))));
    assert.deepEqual(spoken, CHILD_PATCH);
    // The coverable ones (listed by the report) are the API's patch, hit for hit.
    const coverable = await page.locator('#file-lines tbody tr[data-patch][data-value]').evaluateAll((trs) => trs.map((tr) => tr.className));
    assert.equal(coverable.length, filePatch.lines);
    assert.equal(coverable.filter((c) => c.includes('line-hit')).length, filePatch.hits);
    assert.equal(coverable.filter((c) => c.includes('line-miss')).length, filePatch.misses);
    assert.equal(await page.textContent('#patch-ranges'), '7–13');
    for (const k of ['lines', 'hits', 'misses', 'partials'] as const) assert.equal(int(await page.textContent(`#file-patch [data-patch-total=${k}]`)), filePatch[k], k);
    assert.match((await page.textContent('#file-patch [data-patch-total=coverage]')) ?? '', /80\.00%/);
    await checkA11y(page, 'file page with patch lines');
    await page.screenshot({ path: path.join(SHOTS, 'file-patch.png'), fullPage: true });
    // A file the diff does not touch has no marked line.
    await page.goto(`${h.gateway.base}/${SLUG}/commit/${childSha}/blob/src/util.js`);
    assert.equal(await page.locator('#file-lines tr[data-patch]').count(), 0);
    assert.match((await page.textContent('#file-patch-none')) ?? '', /does not add or change lines/);
    await page.close();
  });

  test("the pull-request page lists the pull request's commits newest first with the latest head's comparison; linked from the repository and commit pages", async () => {
    const page = await context.newPage();
    await page.goto(`${h.gateway.base}/${SLUG}`);
    await Promise.all([page.waitForURL(/\/pull\/7$/), page.locator(`#commit-list tr[data-sha="${secondSha}"] a[href$="/pull/${PR}"]`).click()]);
    const rows = await page.locator('#pull-commits tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-sha')));
    assert.deepEqual(rows, [secondSha, childSha]);
    for (const sha of [secondSha, childSha]) {
      const commit = await api(`/api/v1/repos/${SLUG}/commits/${sha}`);
      const cells = await page.locator(`#pull-commits tr[data-sha="${sha}"] td`).allTextContents();
      assert.equal(cells[2], commit.state);
      assert.equal(cells[3], displayPercent(commit.totals.coverage));
      assert.equal(int(cells[4]!), commit.totals.hits);
      assert.equal(int(cells[5]!), commit.totals.misses);
    }
    const latest = await api(`/api/v1/repos/${SLUG}/compare?head=${secondSha}`);
    assert.equal(await page.textContent('#pull-summary [data-summary=delta]'), points(latest.coverageDelta));
    assert.match((await page.textContent('#pull-summary [data-summary=patch]')) ?? '', new RegExp(`${displayPercent(latest.patch.coverage)} of ${latest.patch.lines} coverable lines \\(${latest.patch.hits} hit, ${latest.patch.misses} missed`));
    await checkA11y(page, 'pull-request page');
    await page.screenshot({ path: path.join(SHOTS, 'pull.png'), fullPage: true });
    await page.goto(`${h.gateway.base}/${SLUG}/commit/${childSha}`);
    assert.equal(await page.getAttribute('#pull-link', 'href'), `/${SLUG}/pull/${PR}`);
    const none = await page.goto(`${h.gateway.base}/${SLUG}/pull/999`);
    assert.equal(none?.status(), 404);
    assert.match((await page.textContent('#pull-empty')) ?? '', /No commit has been uploaded with pull request #999/);
    await page.close();
  });

  test('compare states: no base known; a head still processing is followed live, then compared without a diff', async () => {
    const page = await context.newPage();
    await page.goto(`${h.gateway.base}/${SLUG}/compare?head=${parentSha}`);
    assert.equal(await page.getAttribute('#compare-state', 'data-state'), 'no-base');
    await checkA11y(page, 'compare page without a base');
    await page.goto(`${h.gateway.base}/${SLUG}/commit/${parentSha}`);
    assert.equal(await page.locator('#compare-link').count(), 0, 'no compare link without a base');

    // Uploaded through the API, with a parent and no diff: the patch is unknown.
    const sha = newSha();
    const res = await call(h.gateway.base, 'POST', `/api/v1/repos/${SLUG}/commits/${sha}/uploads?flags=unit&parent=${secondSha}`, {
      token: uploadToken,
      body: lcov({ 'src/app.js': { 1: 1, 2: 0 } }),
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await page.goto(`${h.gateway.base}/${SLUG}/compare?head=${sha}`);
    assert.equal(await page.getAttribute('#commit-status', 'data-state'), 'not-complete');
    assert.ok(await page.getAttribute('#commit-status', 'data-events'));
    await checkA11y(page, 'compare page while processing');
    await page.waitForSelector('#compare-totals', { timeout: 60_000 });
    const fromApi = await api(`/api/v1/repos/${SLUG}/compare?head=${sha}`);
    assert.equal(fromApi.patch, null);
    assert.equal(fromApi.baseSource, 'parent');
    assert.equal(await page.getAttribute('#compare-patch-none', 'data-state'), 'no-diff');
    assert.equal(await page.getAttribute('#compare-delta', 'data-value'), fromApi.coverageDelta);
    assert.equal(await page.getAttribute('#compare-base', 'data-sha'), secondSha);
    await page.close();
  });
});
