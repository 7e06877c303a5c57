/**
 * Compare on a real Temporal dev server, gateway and worker, through the real `tributary` binary
 * run in a real git repository: a parent commit and a child whose diff adds covered and uncovered
 * lines (and changes one), uploaded with `--diff-base`, give the exact patch coverage and deltas
 * worked out by hand below, through the CLI and the API; the base is the diff's (`pullRequest`),
 * the one given, or, once a diff without a base replaces it, the recorded parent. Flags: per-flag
 * totals on the report and a comparison restricted to one flag.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { ensureAdminToken } from '../../src/api/admin-token';
import { buildServer } from '../../src/api/server';
import { loadComparison } from '../../src/services/comparison';
import { databasesUnderTest } from '../support/database';
import { Pipeline } from '../support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';
import { runNode } from '../support/run-child';

const BIN = path.resolve(__dirname, '../../bin/tributary.js');
const SLUG = 'demo/compare';

let env: TestWorkflowEnvironment;
let p: Pipeline;
let worker: Worker;
let running: Promise<void>;
let gateway: FastifyInstance;
let base: string;
let cliEnv: NodeJS.ProcessEnv;
let scratch: string;
let repoDir: string;
let parentSha: string;
let childSha: string;
let adminToken: string;

const cli = (args: string[]) => runNode([BIN, ...args], { cwd: repoDir, env: cliEnv });
const git = (...args: string[]) => execFileSync('git', args, { cwd: repoDir, encoding: 'utf8', env: { ...process.env, HOME: scratch, GIT_CONFIG_NOSYSTEM: '1' } }).trim();

// The answers are read field by field in each test; their schemas are the API's own (checked in test/api/openapi.test.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
async function api(pathAndQuery: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${pathAndQuery}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...(init.headers ?? {}) } });
  const text = await res.text();
  // `any`: the answers are checked field by field below.
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

const PARENT_APP = ['function add(a, b) {', '  return a + b;', '}', 'function sub(a, b) {', '  return a - b;', '}', 'module.exports = { add, sub };'];
const CHILD_APP = [
  ...PARENT_APP.slice(0, 6),
  'function mul(a, b) {',
  '  return a * b;',
  '}',
  'function div(a, b) {',
  '  return a / b;',
  '}',
  'module.exports = { add, sub, mul, div };',
];
const lcov = (files: Record<string, Record<number, number>>) =>
  Object.entries(files)
    .map(([f, lines]) => `SF:${f}\n${Object.entries(lines).map(([n, h]) => `DA:${n},${h}`).join('\n')}\nend_of_record\n`)
    .join('');

before(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'tributary-compare-'));
  repoDir = path.join(scratch, 'repo');
  mkdirSync(path.join(repoDir, 'src'), { recursive: true });
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

  const [devEnv, bundle] = await Promise.all([createDevServerEnv(), bundleWorkflows()]);
  env = devEnv;
  p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await databasesUnderTest().at(-1)!.create() });
  worker = await p.worker();
  running = worker.run();
  const admin = await ensureAdminToken(p.config);
  adminToken = admin.token;
  gateway = await buildServer({ config: p.config, store: p.store, blobs: p.blobs, db: p.db, client: env.client, adminToken: admin.token, logLevel: false });
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(gateway.server.address() as { port: number }).port}`;
  cliEnv = { PATH: process.env.PATH, HOME: scratch, TRIBUTARY_URL: base, TRIBUTARY_DATA_DIR: p.config.dataDir, TRIBUTARY_CONFIG_DIR: path.join(scratch, 'config') };
});

after(async () => {
  await gateway?.close();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await p?.close();
  await env?.teardown();
  rmSync(scratch, { recursive: true, force: true });
});

// Parent: app.js lines 1 2 4 7 hit, 5 missed (5 lines, 80.00000); util.js 1 hit, 2 missed
// (50.00000). Total 7 lines, 5 hits, 2 misses: 71.42857.
// Child, `unit` upload: app.js 1 2 4 7 8 10 13 hit, 5 11 missed (9 lines, 77.77778); util.js as
// before. Total 11 lines, 8 hits, 3 misses: 72.72727.
// Child, `integration` upload: app.js line 11 hit. Merged: app.js 8 of 9 (88.88889); total 9 of
// 11: 81.81818.
// The diff (main...feature) adds lines 7-12 and changes 13 (the exports line): patch lines 7-13,
// of which 9 and 12 (braces) are not in the reports. Coverable: 7 8 10 11 13.
const t = (files: number, lines: number, hits: number, misses: number, coverage: string) => ({ files, lines, hits, misses, partials: 0, branches: 0, methods: 0, coverage });

describe('compare through the CLI and the API', () => {
  test('parent and child uploaded with tributary upload --diff-base; compare is exact', async () => {
    const created = await cli(['repo', 'create', SLUG]);
    assert.equal(created.code, 0, created.stderr);
    writeFileSync(path.join(scratch, 'parent.info'), lcov({ 'src/app.js': { 1: 1, 2: 1, 4: 1, 5: 0, 7: 1 }, 'src/util.js': { 1: 1, 2: 0 } }));
    writeFileSync(path.join(scratch, 'unit.info'), lcov({ 'src/app.js': { 1: 1, 2: 1, 4: 1, 5: 0, 7: 1, 8: 1, 10: 1, 11: 0, 13: 1 }, 'src/util.js': { 1: 1, 2: 0 } }));
    writeFileSync(path.join(scratch, 'integration.info'), lcov({ 'src/app.js': { 11: 1 } }));

    const parent = await cli(['upload', path.join(scratch, 'parent.info'), '--repo', SLUG, '--commit', parentSha, '--flag', 'unit']);
    assert.equal(parent.code, 0, parent.stderr);
    const child = await cli(['upload', path.join(scratch, 'unit.info'), '--repo', SLUG, '--commit', childSha, '--parent', parentSha, '--flag', 'unit', '--diff-base', 'main']);
    assert.equal(child.code, 0, child.stderr);
    assert.match(child.stderr, new RegExp(`^diff: 1 file\\(s\\), \\d+ bytes against ${parentSha.slice(0, 12)} \\(main\\)$`, 'm'));

    // Unit only so far: 72.72727 - 71.42857 = 1.29870; patch 7 8 10 13 hit, 11 missed: 4/5.
    const first = await api(`/api/v1/repos/demo/compare/compare?head=${childSha}`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.baseSource, 'pullRequest');
    assert.equal(first.body.base.sha, parentSha);
    assert.equal(first.body.coverageDelta, '1.29870');
    assert.deepEqual(first.body.patch, { lines: 5, hits: 4, misses: 1, partials: 0, coverage: '80.00000' });

    const integration = await cli(['upload', path.join(scratch, 'integration.info'), '--repo', SLUG, '--commit', childSha, '--flag', 'integration']);
    assert.equal(integration.code, 0, integration.stderr);

    // Both flags: 81.81818 - 71.42857 = 10.38961; patch 5 of 5; app.js 88.88889 - 80 = 8.88889.
    const both = await cli(['compare', SLUG, '--head', childSha, '--json']);
    assert.equal(both.code, 0, both.stderr);
    const c = JSON.parse(both.stdout);
    assert.deepEqual(c, {
      base: { sha: parentSha, totals: { ...t(2, 7, 5, 2, '71.42857'), sessions: 1 } },
      head: { sha: childSha, totals: { ...t(2, 11, 9, 2, '81.81818'), sessions: 2 } },
      coverageDelta: '10.38961',
      patch: { lines: 5, hits: 5, misses: 0, partials: 0, coverage: '100' },
      files: [{ path: 'src/app.js', change: 'changed', base: t(1, 5, 4, 1, '80.00000'), head: t(1, 9, 8, 1, '88.88889'), coverageDelta: '8.88889', patch: { lines: 5, hits: 5, misses: 0, partials: 0, coverage: '100' } }],
      baseSource: 'pullRequest',
    });
    const viaApi = await api(`/api/v1/repos/demo/compare/compare?head=${childSha}`);
    assert.deepEqual(viaApi.body, c);
    assert.deepEqual(await loadComparison({ store: p.store, blobs: p.blobs }, SLUG, childSha), c);

    const table = await cli(['compare', SLUG, '--head', childSha]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^base ${parentSha.slice(0, 12)} \\(pullRequest\\) +71\\.42% +7 +5 +2 +0 +2 +1$`, 'm'));
    assert.match(table.stdout, new RegExp(`^head ${childSha.slice(0, 12)} +81\\.81% +11 +9 +2 +0 +2 +2$`, 'm'));
    assert.match(table.stdout, /^delta \+10\.38 points$/m);
    assert.match(table.stdout, /^patch 100\.00% \(5 coverable line\(s\): 5 hit, 0 missed, 0 partial\)$/m);
    assert.match(table.stdout, /^changed +\+8\.88 +80\.00% +88\.88% +100\.00% of 5 +src\/app\.js$/m);

    // The unit flag alone: the figures before the integration upload.
    const unit = await cli(['compare', SLUG, '--head', childSha, '--flag', 'unit', '--json']);
    assert.equal(unit.code, 0, unit.stderr);
    const u = JSON.parse(unit.stdout);
    assert.equal(u.flag, 'unit');
    assert.deepEqual([u.base.totals.coverage, u.head.totals.coverage, u.coverageDelta], ['71.42857', '72.72727', '1.29870']);
    assert.deepEqual(u.patch, { lines: 5, hits: 4, misses: 1, partials: 0, coverage: '80.00000' });
    assert.deepEqual(u.files[0].head, t(1, 9, 7, 2, '77.77778'));
    // 77.77778 - 80
    assert.equal(u.files[0].coverageDelta, '-2.22222');
  });

  test('per-flag totals on the report, ?flag= and report --flag', async () => {
    const report = await api(`/api/v1/repos/demo/compare/commits/${childSha}/report`);
    assert.equal(report.status, 200);
    assert.deepEqual(report.body.totals, t(2, 11, 9, 2, '81.81818'));
    assert.deepEqual(report.body.flags, { integration: { ...t(1, 1, 1, 0, '100'), sessions: 1 }, unit: { ...t(2, 11, 8, 3, '72.72727'), sessions: 1 } });
    const onlyUnit = await api(`/api/v1/repos/demo/compare/commits/${childSha}/report?flag=unit&file=src/app.js`);
    assert.deepEqual(onlyUnit.body.files['src/app.js'].totals, t(1, 9, 7, 2, '77.77778'));
    assert.equal(onlyUnit.body.sessions.length, 1);
    const viaCli = await cli(['report', SLUG, childSha, '--flag', 'integration', '--json']);
    assert.equal(viaCli.code, 0, viaCli.stderr);
    assert.deepEqual(JSON.parse(viaCli.stdout).totals, t(1, 1, 1, 0, '100'));
    const tableOut = await cli(['report', SLUG, childSha]);
    assert.match(tableOut.stdout, /^integration +100\.00% +1 +1 +0 +0 +1 +1$/m);
  });

  test('a given base; a diff PUT without a base replaces the first, and the parent is the base', async () => {
    const given = await api(`/api/v1/repos/demo/compare/compare?head=${childSha}&base=${parentSha}`);
    assert.equal(given.body.baseSource, 'given');
    assert.equal(given.body.coverageDelta, '10.38961');

    const diff = git('diff', '--no-color', `${parentSha}...${childSha}`);
    const put = await api(`/api/v1/repos/demo/compare/commits/${childSha}/diff`, { method: 'PUT', body: `${diff}\n`, headers: { 'content-type': 'text/x-diff' } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body, { repo: SLUG, sha: childSha, bytes: Buffer.byteLength(`${diff}\n`), files: 1, baseSha: null });
    const stored = await api(`/api/v1/repos/demo/compare/commits/${childSha}/diff`);
    assert.equal(stored.body, `${diff}\n`);
    const parent = await api(`/api/v1/repos/demo/compare/compare?head=${childSha}`);
    assert.equal(parent.body.baseSource, 'parent');
    assert.deepEqual(parent.body.patch, { lines: 5, hits: 5, misses: 0, partials: 0, coverage: '100' });

    const bad = await api(`/api/v1/repos/demo/compare/commits/${childSha}/diff`, { method: 'PUT', body: '@@ -1,3 +1 @@\n-a\n', headers: { 'content-type': 'text/plain' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /no file in it/);
    const broken = await api(`/api/v1/repos/demo/compare/commits/${childSha}/diff`, { method: 'PUT', body: '--- a/x\n+++ b/x\n@@ -1,3 +1 @@\n-a\n', headers: { 'content-type': 'text/plain' } });
    assert.equal(broken.status, 400);
    assert.match(broken.body.error.message, /not a unified diff/);
    assert.equal((await api(`/api/v1/repos/demo/compare/commits/${childSha}/diff`)).body, `${diff}\n`, 'a refused diff changes nothing');

    const missing = await api(`/api/v1/repos/demo/compare/compare?head=${'0'.repeat(40)}&base=${parentSha}`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error.message, /head commit 0{40} has no report/);
    const noBase = await api(`/api/v1/repos/demo/compare/compare?head=${parentSha}`);
    assert.equal(noBase.status, 404);
    assert.match(noBase.body.error.message, /no base commit/);
  });
});
