/**
 * The OpenAPI document at /docs/json lists exactly the operations the gateway serves, each with
 * its tag, its security and its answers: the list below was recorded from the gateway before its
 * routes became plugins (the queue, verifications, token and source routes added since), so a route lost, moved
 * or re-tagged by a refactor fails here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, openHarness, type Harness } from './harness';

const BEARER = [{ bearer: [] }];
const CODECOV = [{ codecovToken: [] }];
const CC = ['201', '400', '401', '404', '429'];

/** method, path, tag, security (null: none), response statuses. */
const RECORDED: ReadonlyArray<readonly [string, string, string, typeof BEARER | typeof CODECOV | null, readonly string[]]> = [
  ['POST', '/upload/{service}/{slug}/commits', 'codecov', CODECOV, CC],
  ['POST', '/upload/{service}/{slug}/commits/{sha}/reports', 'codecov', CODECOV, CC],
  ['POST', '/upload/{service}/{slug}/commits/{sha}/reports/{code}/uploads', 'codecov', CODECOV, CC],
  ['POST', '/upload/{service}/{slug}/upload-coverage', 'codecov', CODECOV, CC],
  ['POST', '/upload/{service}/{slug}/commits/{sha}/upload-complete', 'codecov', CODECOV, ['200', '400', '401', '404', '429']],
  ['POST', '/upload/{service}/{slug}/commits/{sha}/empty-upload', 'codecov', CODECOV, ['200', '400', '401', '404', '429']],
  ['POST', '/upload/v4', 'codecov', CODECOV, ['200', '400', '401', '404', '429']],
  ['PUT', '/upload/put/{id}', 'codecov', null, ['200', '400', '403', '404', '409', '413']],
  ['GET', '/healthz', 'health', null, ['200']],
  ['GET', '/readyz', 'health', null, ['200', '503']],
  ['POST', '/api/v1/repos', 'repositories', BEARER, ['201', '400', '401', '403', '404', '409', '429']],
  ['GET', '/api/v1/repos', 'repositories', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['PUT', '/api/v1/repos/{owner}/{repo}/mode', 'repositories', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['PUT', '/api/v1/repos/{owner}/{repo}/settings', 'repositories', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['GET', '/api/v1/flags', 'repositories', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['POST', '/api/v1/repos/{owner}/{repo}/commits/{sha}/uploads', 'uploads', BEARER, ['202', '400', '401', '403', '404', '409', '413', '415', '429']],
  ['GET', '/api/v1/uploads/{id}', 'uploads', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['GET', '/api/v1/repos/{owner}/{repo}/commits/{sha}', 'commits', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['GET', '/api/v1/repos/{owner}/{repo}/commits/{sha}/report', 'commits', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['GET', '/api/v1/repos/{owner}/{repo}/compare', 'commits', BEARER, ['200', '400', '401', '403', '404', '409', '429']],
  ['PUT', '/api/v1/repos/{owner}/{repo}/commits/{sha}/diff', 'commits', BEARER, ['200', '400', '401', '403', '404', '413', '429']],
  ['GET', '/api/v1/repos/{owner}/{repo}/commits/{sha}/diff', 'commits', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['GET', '/api/v1/tasks', 'tasks', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['POST', '/api/v1/tasks/{workflowId}/cancel', 'tasks', BEARER, ['202', '400', '401', '403', '404', '429']],
  ['GET', '/api/v1/queue', 'queue', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['GET', '/api/v1/verifications', 'verifications', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['GET', '/api/v1/repos/{owner}/{repo}/settings', 'repositories', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['POST', '/api/v1/repos/{owner}/{repo}/commits/{sha}/done', 'commits', BEARER, ['202', '400', '401', '403', '404', '429']],
  ['GET', '/api/v1/repos/{owner}/{repo}/deliveries', 'repositories', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['POST', '/api/v1/repos/{owner}/{repo}/tokens', 'tokens', BEARER, ['201', '400', '401', '403', '404', '429']],
  ['GET', '/api/v1/repos/{owner}/{repo}/tokens', 'tokens', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['DELETE', '/api/v1/repos/{owner}/{repo}/tokens/{id}', 'tokens', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['DELETE', '/api/v1/tokens/{id}', 'tokens', BEARER, ['200', '400', '401', '403', '404', '429']],
  ['POST', '/api/v1/uploads/{id}/sources', 'uploads', BEARER, ['200', '400', '401', '403', '404', '413', '429']],
  ['GET', '/api/v1/repos/{owner}/{repo}/commits/{sha}/sources/{*}', 'commits', BEARER, ['200', '400', '401', '403', '404', '429']],
];

interface Operation {
  tags?: string[];
  security?: unknown;
  responses?: Record<string, unknown>;
}

let h: Harness;
let doc: { paths: Record<string, Record<string, Operation>>; components?: { securitySchemes?: unknown } };

before(async () => {
  h = await openHarness();
  const res = await call(h.gateway.base, 'GET', '/docs/json');
  assert.equal(res.status, 200);
  doc = res.body;
});
after(async () => {
  await h?.close();
});

describe('the OpenAPI document', () => {
  test('lists the same (method, path) pairs as before the routes became plugins', () => {
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    assert.deepEqual(listed.sort(), RECORDED.map(([method, path]) => `${method} ${path}`).sort());
  });

  test('every operation keeps its tag, its security and its answers', () => {
    for (const [method, path, tag, security, statuses] of RECORDED) {
      const op = doc.paths[path]?.[method.toLowerCase()];
      assert.ok(op, `${method} ${path} is documented`);
      assert.deepEqual(op.tags, [tag], `${method} ${path} tag`);
      assert.deepEqual(op.security, security ?? undefined, `${method} ${path} security`);
      assert.deepEqual(Object.keys(op.responses ?? {}).sort(), [...statuses].sort(), `${method} ${path} answers`);
    }
  });

  test("the verifications route documents its filters from the route's zod schema", () => {
    const op = doc.paths['/api/v1/verifications']?.get as { parameters?: { name: string; in: string }[] } | undefined;
    assert.deepEqual(op?.parameters?.filter((q) => q.in === 'query').map((q) => q.name).sort(), ['limit', 'outcome', 'repo', 'since']);
  });

  test('every {owner} path parameter says a nested owner is one segment with its slashes as %2F', () => {
    const owned = RECORDED.filter(([, path]) => path.includes('{owner}'));
    assert.ok(owned.length >= 5);
    for (const [method, path] of owned) {
      const op = doc.paths[path]?.[method.toLowerCase()] as { parameters?: { name: string; in: string; description?: string }[] } | undefined;
      const owner = op?.parameters?.find((q) => q.in === 'path' && q.name === 'owner');
      assert.match(owner?.description ?? '', /group%2Fsubgroup/, `${method} ${path}`);
    }
  });

  test('the bearer scheme, and the Codecov uploaders\' token scheme', () => {
    const schemes = doc.components?.securitySchemes as Record<string, unknown>;
    assert.deepEqual(Object.keys(schemes).sort(), ['bearer', 'codecovToken']);
    assert.deepEqual(schemes.bearer, { type: 'http', scheme: 'bearer' });
  });
});
