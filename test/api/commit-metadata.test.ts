/**
 * The upload route records what the upload says about its commit (branch, parent, pr, ci_service,
 * build, job, ci_url), from query parameters and multipart fields, on the real gateway and
 * pipeline: the first value wins, later ones fill gaps, and a bad value is 400 naming its field
 * with nothing stored.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusFiles, newSha, type CorpusFile } from '../support/pipeline';
import { call, openHarness, type Answer, type Harness } from './harness';

let h: Harness;
let lcov: Buffer;
let token: string;
const SLUG = 'meta/app';

before(async () => {
  let corpus: CorpusFile[];
  [h, corpus] = await Promise.all([openHarness(), corpusFiles()]);
  lcov = Buffer.from(corpus.find((c) => c.name === 'negotiator-nyc/lcov.info')!.body);
  const created = await call(h.gateway.base, 'POST', '/api/v1/repos', { token: h.adminToken, json: { slug: SLUG } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  token = created.body.uploadToken as string;
});
after(async () => {
  await h?.close();
});

const uploads = (sha: string, query = '') => `/api/v1/repos/${SLUG}/commits/${sha}/uploads${query}`;
const raw = (sha: string, query: string): Promise<Answer> =>
  call(h.gateway.base, 'POST', uploads(sha, query), { token, body: new Uint8Array(lcov), headers: { 'content-type': 'application/octet-stream' } });
const metadataOf = async (sha: string) => {
  const res = await call(h.gateway.base, 'GET', `/api/v1/repos/${SLUG}/commits/${sha}`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.metadata as Record<string, unknown>;
};

describe('commit metadata from the upload API', () => {
  test('a raw upload records its query parameters; a multipart upload later fills only the gaps', async () => {
    const sha = newSha();
    const parent = newSha();
    const first = await raw(sha, `?branch=feature%2Fx&pr=12&parent=${parent.toUpperCase()}&build=7&ci_service=github-actions`);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.deepEqual(await metadataOf(sha), { branch: 'feature/x', parentSha: parent, pullRequest: 12, ciService: 'github-actions', build: '7' });

    const form = new FormData();
    form.append('report', new Blob([new Uint8Array(lcov)]), 'lcov.info');
    for (const [k, v] of Object.entries({ branch: 'main', pr: '99', parent: newSha(), build: '8', job: 'unit', ci_service: 'gitlab', ci_url: 'https://ci.example/run/8' })) form.append(k, v);
    const second = await call(h.gateway.base, 'POST', uploads(sha), { token, body: form });
    assert.equal(second.status, 202, JSON.stringify(second.body));
    assert.deepEqual(await metadataOf(sha), {
      branch: 'feature/x',
      parentSha: parent,
      pullRequest: 12,
      ciService: 'github-actions',
      build: '7',
      job: 'unit',
      ciUrl: 'https://ci.example/run/8',
    });
    // Per upload, each keeps what it was sent.
    const rows = await h.p.store.listUploads(SLUG, sha);
    assert.deepEqual(rows.map((r) => [r.branch, r.build, r.job]), [['feature/x', '7', null], ['main', '8', 'unit']]);
  });

  test('a multipart upload first, then a raw one: its fields are recorded for the commit', async () => {
    const sha = newSha();
    const form = new FormData();
    form.append('pr', '5');
    form.append('report', new Blob([new Uint8Array(lcov)]), 'a.info');
    form.append('report', new Blob([new Uint8Array(lcov)]), 'b.info');
    const res = await call(h.gateway.base, 'POST', uploads(sha, '?ci_service=buildkite'), { token, body: form });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.uploads.length, 2);
    assert.deepEqual(await metadataOf(sha), { pullRequest: 5, ciService: 'buildkite' });
    assert.equal((await raw(sha, '?branch=topic&pr=6')).status, 202);
    assert.deepEqual(await metadataOf(sha), { pullRequest: 5, ciService: 'buildkite', branch: 'topic' });
  });

  test('an upload without commit fields records none', async () => {
    const sha = newSha();
    assert.equal((await raw(sha, '?flags=unit&name=plain')).status, 202);
    assert.deepEqual(await metadataOf(sha), {});
  });

  test('a bad pr or parent is 400 naming the field; nothing is stored', async () => {
    const sha = newSha();
    const cases: [string, string][] = [
      ['pr', '?pr=twelve'],
      ['pr', '?pr=-3'],
      ['pr', '?pr=99999999999'],
      ['pr', '?pr=1&pr=2'],
      ['parent', '?parent=HEAD~1'],
      ['ci_service', `?ci_service=${'x'.repeat(201)}`],
    ];
    for (const [field, query] of cases) {
      const res = await raw(sha, query);
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'invalid_input');
      assert.equal(res.body.error.field, field, query);
    }
    const form = new FormData();
    form.append('report', new Blob([new Uint8Array(lcov)]), 'lcov.info');
    form.append('pr', '#12');
    const multipart = await call(h.gateway.base, 'POST', uploads(sha, '?branch=main'), { token, body: form });
    assert.equal(multipart.status, 400);
    assert.equal(multipart.body.error.field, 'pr');
    assert.match(multipart.body.error.message, /pull request number/);
    assert.deepEqual(await h.p.store.listUploads(SLUG, sha), []);
    assert.equal(await h.p.store.getCommit(SLUG, sha), null, 'a refused request records no metadata');
  });

  test('the OpenAPI description documents the new parameters', async () => {
    const docs = await call(h.gateway.base, 'GET', '/docs/json');
    const params = (docs.body.paths['/api/v1/repos/{owner}/{repo}/commits/{sha}/uploads'].post.parameters as { name: string; in: string; description?: string }[]).filter((p) => p.in === 'query');
    for (const name of ['branch', 'parent', 'pr', 'ci_service', 'build', 'job', 'ci_url']) {
      const p = params.find((q) => q.name === name);
      assert.ok(p?.description, `${name} is documented`);
    }
  });
});
