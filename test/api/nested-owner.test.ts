/**
 * Repositories with a nested owner (GitLab subgroups, `group/sub/app`) through the real gateway
 * over the real pipeline: the owner travels as one path segment with its slashes sent as %2F,
 * and everything keyed by the slug (uploads, the commit workflow and its search attributes, the
 * experiment's scratch, the report's blob key, the task filter) works with the extra slashes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { toParseJson } from '../../src/coverage/json-output';
import { readReport } from '../../src/coverage/report-format';
import { CommitParams, repoSlugOf } from '../../src/api/schemas';
import { RepoSlug } from '../../src/temporal/search-attributes';
import { commitWorkflowId } from '../../src/workflows/commit-contracts';
import { corpusFiles, newSha, type CorpusFile } from '../support/pipeline';
import { call, openHarness, type Harness } from './harness';

const SLUG = 'group/sub/app';
const OWNER = encodeURIComponent('group/sub');

let h: Harness;
let base: string;
let admin: string;
let corpus: CorpusFile[];

const file = (name: string) => {
  const f = corpus.find((c) => c.name === name);
  if (!f) throw new Error(`no corpus file ${name}`);
  return f.body;
};

before(async () => {
  [h, corpus] = await Promise.all([openHarness(), corpusFiles()]);
  base = h.gateway.base;
  admin = h.adminToken;
});
after(async () => {
  await h?.close();
});

describe('find-my-way and a parameter holding %2F', () => {
  test('the route matches one segment and hands the parameter decoded; literal slashes do not match', async () => {
    const app = Fastify().withTypeProvider<ZodTypeProvider>();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    app.get('/repos/:owner/:repo/commits/:sha', { schema: { params: CommitParams } }, async (req) => ({ slug: repoSlugOf(req.params), sha: req.params.sha }));
    try {
      const sha = 'ABCDEF1';
      for (const [url, slug] of [
        ['/repos/group%2Fsub/app/commits/ABCDEF1', 'group/sub/app'],
        ['/repos/group%2fsub/app/commits/ABCDEF1', 'group/sub/app'],
        ['/repos/a%2Fb%2Fc%2Fd/app/commits/ABCDEF1', 'a/b/c/d/app'],
        ['/repos/plain/app/commits/ABCDEF1', 'plain/app'],
      ] as const) {
        const res = await app.inject({ url });
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
        assert.deepEqual(res.json(), { slug, sha: sha.toLowerCase() }, url);
      }
      assert.equal((await app.inject({ url: '/repos/group/sub/app/commits/ABCDEF1' })).statusCode, 404);
      // The name is one segment: an encoded slash there is refused, not read as a deeper owner.
      assert.equal((await app.inject({ url: '/repos/group/sub%2Fapp/commits/ABCDEF1' })).statusCode, 400);
      assert.equal((await app.inject({ url: '/repos/group%2F%2Fsub/app/commits/ABCDEF1' })).statusCode, 400);
    } finally {
      await app.close();
    }
  });
});

describe('a repository with a nested owner', () => {
  test('created, configured, uploaded to and read through encoded paths, in experiment mode', async () => {
    const created = await call(base, 'POST', '/api/v1/repos', { token: admin, json: { slug: SLUG } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.slug, SLUG);
    const token = created.body.uploadToken as string;
    const listed = await call(base, 'GET', '/api/v1/repos', { token });
    assert.deepEqual((listed.body.repos as { slug: string }[]).map((r) => r.slug), [SLUG]);

    const mode = await call(base, 'PUT', `/api/v1/repos/${OWNER}/app/mode`, { token: admin, json: { mode: 'experiment' } });
    assert.equal(mode.status, 200, JSON.stringify(mode.body));
    assert.equal(await h.p.store.getModeOverride(SLUG), 'experiment');

    const sha = newSha();
    const posted = await call(base, 'POST', `/api/v1/repos/${OWNER}/app/commits/${sha}/uploads?flags=unit`, {
      token,
      body: new Uint8Array(file('negotiator-nyc/lcov.info')),
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    const commitUrl = `${base}/api/v1/repos/${OWNER}/app/commits/${sha}`;
    assert.equal(posted.body.commitUrl, commitUrl, 'the answer names the commit by the encoded path');

    const commitRes = await fetch(`${commitUrl}?wait=45s`, { headers: { authorization: `Bearer ${token}` } });
    const commit = (await commitRes.json()) as { state: string; mode: string; experimentOutcome: string | null; reportUrl: string; uploads: { state: string }[] };
    assert.equal(commitRes.status, 200);
    assert.equal(commit.state, 'complete', JSON.stringify(commit));
    assert.equal(commit.mode, 'experiment');
    assert.equal(commit.experimentOutcome, 'match', 'the shadow ran on the nested slug\'s scratch area');
    assert.deepEqual(commit.uploads.map((u) => u.state), ['merged']);
    assert.equal(commit.reportUrl, `${commitUrl}/report`);

    const report = await call(base, 'GET', `/api/v1/repos/${OWNER}/app/commits/${sha}/report`, { token });
    assert.equal(report.status, 200);
    const saved = await h.p.store.getCommitReport(SLUG, sha);
    assert.ok(saved !== null && saved.reportKey.startsWith(`reports/group/sub/app/${sha}/`), saved?.reportKey);
    assert.deepEqual(report.body, toParseJson(readReport((await h.p.blobs.get(saved.reportKey))!)));
    assert.ok(Object.keys(report.body.files).length > 0);

    const upload = await call(base, 'GET', `/api/v1/uploads/${posted.body.uploads[0].uploadId}`, { token });
    assert.equal(upload.body.state, 'merged');

    const desc = await h.env.client.workflow.getHandle(commitWorkflowId(SLUG, sha)).describe();
    assert.equal(desc.workflowId, `commit:${SLUG}:${sha}`);
    assert.equal(desc.typedSearchAttributes.get(RepoSlug), SLUG);
    let tasks: { repo: string; sha: string }[] = [];
    for (let i = 0; i < 100 && tasks.length === 0; i++) {
      const res = await call(base, 'GET', `/api/v1/tasks?repo=${encodeURIComponent(SLUG)}`, { token: admin });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      tasks = res.body.tasks;
      if (tasks.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(tasks.map((t) => [t.repo, t.sha]), [[SLUG, sha]], 'the Web UI query RepoSlug = "group/sub/app" finds it');
  });

  test('tokens stay per repository, and literal slashes, bad owners and oversized slugs are refused', async () => {
    const mine = await call(base, 'POST', '/api/v1/repos', { token: admin, json: { slug: 'team/sub/lib' } });
    const other = await call(base, 'POST', '/api/v1/repos', { token: admin, json: { slug: 'team/lib' } });
    assert.equal(mine.status, 201);
    assert.equal(other.status, 201);
    const sha = newSha();
    const body = file('negotiator-nyc/lcov.info');
    const up = (path: string, token: string) => call(base, 'POST', path, { token, body: new Uint8Array(body), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal((await up(`/api/v1/repos/team/lib/commits/${sha}/uploads`, mine.body.uploadToken)).status, 403, 'team/sub/lib may not upload to team/lib');
    assert.equal((await up(`/api/v1/repos/team%2Fsub/lib/commits/${sha}/uploads`, other.body.uploadToken)).status, 403, 'team/lib may not upload to team/sub/lib');
    assert.equal((await up(`/api/v1/repos/team/sub/lib/commits/${sha}/uploads`, mine.body.uploadToken)).status, 404, 'literal slashes name no route');
    const badName = await up(`/api/v1/repos/team/sub%2Flib/commits/${sha}/uploads`, mine.body.uploadToken);
    assert.equal(badName.status, 400);
    assert.equal(badName.body.error.field, 'repo');
    assert.equal(await h.p.store.getCommit('team/sub/lib', sha), null, 'nothing was stored');

    const deep = Array.from({ length: 20 }, (_, i) => `g${i}`).join('/');
    const badSlugs = [`${deep}/app`, `${'a'.repeat(100)}/${'b'.repeat(100)}/${'c'.repeat(60)}`, 'group//app', 'group/sub/', '/group/app', 'group/.hidden/app'];
    for (const slug of badSlugs) {
      const res = await call(base, 'POST', '/api/v1/repos', { token: admin, json: { slug } });
      assert.equal(res.status, 400, slug);
      assert.equal(res.body.error.field, 'slug', slug);
      assert.match(res.body.error.message, /OWNER\/NAME/, slug);
    }
    // The longest slug (255 characters, the owner 251 of them) is routed, not cut by the router's parameter bound.
    const longest = `${'a'.repeat(100)}/${'b'.repeat(100)}/${'c'.repeat(49)}/app`;
    assert.equal(longest.length, 255);
    const longToken = await call(base, 'POST', '/api/v1/repos', { token: admin, json: { slug: longest } });
    assert.equal(longToken.status, 201, JSON.stringify(longToken.body));
    const longPath = `/api/v1/repos/${encodeURIComponent(longest.slice(0, -4))}/app/commits/${sha}`;
    const longUp = await up(`${longPath}/uploads`, longToken.body.uploadToken);
    assert.equal(longUp.status, 202, JSON.stringify(longUp.body));
    const longCommit = await call(base, 'GET', `${longPath}?wait=45s`, { token: longToken.body.uploadToken });
    assert.equal(longCommit.body.state, 'complete', JSON.stringify(longCommit.body));
    const longOwner = encodeURIComponent(`${'a'.repeat(100)}/${'b'.repeat(100)}/${'c'.repeat(60)}`);
    const long = await call(base, 'GET', `/api/v1/repos/${longOwner}/app/commits/${sha}`, { token: admin });
    assert.equal(long.status, 400);
    assert.match(long.body.error.message, /at most 255 characters/);
    const bad = await call(base, 'GET', `/api/v1/repos/${encodeURIComponent('group/-x')}/app/commits/${sha}`, { token: admin });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /%2F/);
  });
});
