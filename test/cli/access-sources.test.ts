/**
 * The `tributary` binary (as a child process) against a real gateway and worker: read tokens
 * (create, list, revoke), public repositories (`repo settings`), and `upload --sources` round
 * trips: the texts land on the report's own paths, deduplicated by content, capped with a
 * warning, and retention keeps them while they are in use and frees them after.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { planGc } from '../../src/storage/gc-plan';
import { readCommitSource, sourceDigest } from '../../src/storage/sources';
import { keys } from '../../src/storage/blob-store';
import { call, openHarness, type Harness } from '../api/harness';
import { newSha } from '../support/pipeline';
import { runNode } from '../support/run-child';

const BIN = path.resolve(__dirname, '../../bin/tributary.js');
const D = 86_400_000;

let h: Harness;
let scratch: string;
let work: string;
let env: NodeJS.ProcessEnv;

const cli = (args: string[], cwd = work) => runNode([BIN, ...args], { cwd, env });

const A_JS = 'export function a(x) {\n  if (x) return 1;\n  return 2;\n}\n';
const B_JS = 'module.exports = () => "b — ünïcode";\n';

before(async () => {
  h = await openHarness();
  scratch = mkdtempSync(path.join(tmpdir(), 'tributary-cli-access-'));
  work = path.join(scratch, 'checkout');
  mkdirSync(path.join(work, 'src'), { recursive: true });
  writeFileSync(path.join(work, 'src/a.js'), A_JS);
  writeFileSync(path.join(work, 'src/b.js'), B_JS);
  // A relative path, an absolute one, and one that is not on this machine.
  writeFileSync(
    path.join(work, 'lcov.info'),
    [`SF:src/a.js`, 'DA:1,1', 'DA:2,1', 'DA:3,0', 'end_of_record', `SF:${path.join(work, 'src/b.js')}`, 'DA:1,4', 'end_of_record', 'SF:src/missing.js', 'DA:1,0', 'end_of_record', ''].join('\n'),
  );
  env = {
    PATH: process.env.PATH,
    HOME: scratch,
    TRIBUTARY_URL: h.gateway.base,
    TRIBUTARY_ADMIN_TOKEN: h.adminToken,
    TRIBUTARY_CONFIG_DIR: path.join(scratch, 'config'),
  };
  const created = await cli(['repo', 'create', 'demo/app']);
  assert.equal(created.code, 0, created.stderr);
});

after(async () => {
  await h?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('tributary token', () => {
  test('create --read prints a token once, list shows it without the secret, revoke ends it', async () => {
    assert.equal((await cli(['token', 'create', 'demo/app'])).code, 2, 'without --read: usage');
    const created = await cli(['token', 'create', '--read', 'demo/app', '--name', 'wall display']);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const id = /read-only token (rt_[0-9a-f]{16})/.exec(created.stderr)?.[1];
    assert.ok(id, created.stderr);
    const listed = await cli(['token', 'list', 'demo/app']);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, new RegExp(`${id}\\s+read\\s+wall display`));
    assert.ok(!listed.stdout.includes(token));
    const json = JSON.parse((await cli(['token', 'list', 'demo/app', '--json'])).stdout) as { tokens: { id: string }[] };
    assert.deepEqual(json.tokens.map((t) => t.id), [id]);
    assert.equal((await call(h.gateway.base, 'GET', '/api/v1/repos', { token })).status, 200);
    const revoked = await cli(['token', 'revoke', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `revoked ${id} (demo/app)\n`);
    assert.equal((await call(h.gateway.base, 'GET', '/api/v1/repos', { token })).status, 401);
    const again = await cli(['token', 'revoke', id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /token not found/);
    assert.equal((await cli(['token', 'revoke', 'nonsense'])).code, 2);
    assert.equal((await cli(['token', 'list', 'demo/absent'])).code, 1);
  });
});

describe('tributary repo settings', () => {
  test('--public and --private change only that setting; without flags it shows them', async () => {
    await call(h.gateway.base, 'PUT', '/api/v1/repos/demo/app/settings', { token: h.adminToken, json: { defaultBranch: 'trunk', ignore: ['vendor/**'] } });
    const pub = await cli(['repo', 'settings', 'demo/app', '--public']);
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(pub.stdout, /public\s+true/);
    assert.deepEqual((await h.p.store.getRepository('demo/app'))?.settings, { defaultBranch: 'trunk', ignore: ['vendor/**'], public: true });
    const priv = await cli(['repo', 'settings', 'demo/app', '--private', '--json']);
    assert.deepEqual(JSON.parse(priv.stdout), { slug: 'demo/app', settings: { defaultBranch: 'trunk', ignore: ['vendor/**'], public: false } });
    assert.equal((await cli(['repo', 'settings', 'demo/app', '--public', '--private'])).code, 2);
    const shown = await cli(['repo', 'settings', 'demo/app']);
    assert.match(shown.stdout, /defaultBranch\s+trunk/);
    await call(h.gateway.base, 'PUT', '/api/v1/repos/demo/app/settings', { token: h.adminToken, json: {} });
  });
});

describe('tributary upload --sources', () => {
  let sha: string;

  test('sends the text of the files the report names, stored under the report paths', async () => {
    sha = newSha();
    const res = await cli(['upload', 'lcov.info', '--repo', 'demo/app', '--commit', sha, '--sources']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /1 file\(s\) it names are not here \(src\/missing\.js\)/);
    assert.match(res.stderr, /sources of 2 file\(s\) sent/);
    const report = await call(h.gateway.base, 'GET', `/api/v1/repos/demo/app/commits/${sha}/report`, { token: h.adminToken });
    const paths = Object.keys(report.body.files).sort();
    assert.equal(paths.length, 3);
    const deps = { store: h.p.store, blobs: h.p.blobs };
    const texts = Object.fromEntries(await Promise.all(paths.map(async (p) => [p, await readCommitSource(deps, 'demo/app', sha, p)] as const)));
    assert.equal(texts['src/a.js'], A_JS);
    const bPath = paths.find((p) => p.endsWith('src/b.js') && p !== 'src/b.js')!;
    assert.equal(texts[bPath], B_JS, 'the absolute path, as the report normalised it');
    assert.equal(texts['src/missing.js'], null);
    const served = await call(h.gateway.base, 'GET', `/api/v1/repos/demo/app/commits/${sha}/sources/src/a.js`, { token: h.adminToken });
    assert.equal(served.body, A_JS);
  });

  test('the same text in another commit is one blob; a cap leaves files out with a warning', async () => {
    const sha2 = newSha();
    const res = await cli(['upload', 'lcov.info', '--repo', 'demo/app', '--commit', sha2, '--sources']);
    assert.equal(res.code, 0, res.stderr);
    const listed = await h.p.blobs.list('sources/');
    assert.deepEqual(listed.blobs.map((b) => b.key).sort(), [keys.source(sourceDigest(Buffer.from(A_JS))), keys.source(sourceDigest(Buffer.from(B_JS)))].sort());
    assert.equal(await readCommitSource({ store: h.p.store, blobs: h.p.blobs }, 'demo/app', sha2, 'src/a.js'), A_JS);

    const sha3 = newSha();
    const capped = await cli(['upload', 'lcov.info', '--repo', 'demo/app', '--commit', sha3, '--sources', '--sources-max-bytes', String(Buffer.byteLength(B_JS))]);
    assert.equal(capped.code, 0, capped.stderr);
    assert.match(capped.stderr, /warning: --sources: lcov\.info: 1 file\(s\) left out: the sources would pass --sources-max-bytes \d+/);
    // The report's paths in order: the absolute one (b.js) first fits, a.js would pass the cap.
    const kept = await h.p.store.listCommitSourcePaths('demo/app', sha3);
    assert.equal(kept.length, 1);
    assert.ok(kept[0]!.endsWith('src/b.js'));
    assert.equal(await readCommitSource({ store: h.p.store, blobs: h.p.blobs }, 'demo/app', sha3, 'src/a.js'), null);
  });

  test('retention keeps texts in use, frees them after TRIBUTARY_SOURCE_RETENTION, and frees orphans', async () => {
    const orphanText = Buffer.from('nobody sent this\n');
    const orphan = keys.source(sourceDigest(orphanText));
    await h.p.blobs.put(orphan, orphanText);
    const page = await h.p.blobs.list('sources/');
    const refs = await h.p.store.blobReferences(page.blobs.map((b) => b.key));
    const policy = { ...h.p.config.maintenance.retention, sourceMs: 90 * D };
    assert.deepEqual(planGc(page.blobs, refs, policy, new Date()).delete, [], 'in use, and the orphan is within its grace');
    const later = new Date(Date.now() + 91 * D);
    const plan = planGc(page.blobs, refs, policy, later);
    const reasons = Object.fromEntries(plan.delete.map((d) => [d.key, d.reason]));
    assert.equal(reasons[orphan], 'orphan');
    assert.equal(Object.values(reasons).filter((r) => r === 'source_expired').length, 2);
    for (const d of plan.delete) await h.p.blobs.delete(d.key);
    assert.deepEqual((await h.p.blobs.list('sources/')).blobs, []);
    // The rows stay; the text is gone, and the page shows line numbers only.
    assert.equal(await readCommitSource({ store: h.p.store, blobs: h.p.blobs }, 'demo/app', sha, 'src/a.js'), null);
  });
});
