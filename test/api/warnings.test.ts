/**
 * Per-line anomalies end to end: through the real gateway, worker, Temporal dev server and
 * database, an upload with impossible counts on some lines ends `merged` with the other lines
 * intact, and its warnings are shown by `GET /api/v1/uploads/{id}`, counted in the commit view,
 * attached to its session in the report, and printed by `tributary status` (a real process).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newSha } from '../support/pipeline';
import { call, openHarness, type Harness } from './harness';
import { runNode, type ChildResult } from '../support/run-child';

const REPO_ROOT = path.resolve(__dirname, '../..');

let h: Harness;
let scratch: string;

before(async () => {
  h = await openHarness();
  scratch = mkdtempSync(path.join(tmpdir(), 'tributary-warnings-'));
});
after(async () => {
  await h?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The `tributary` command line as a child process (no saved credentials, no admin-token file). */
function cli(args: string[]): Promise<ChildResult> {
  return runNode(['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: scratch, TRIBUTARY_CONFIG_DIR: path.join(scratch, 'config'), TRIBUTARY_DATA_DIR: scratch },
  });
}

// A gcov counter overflow on line 2 and an absurd count on line 4; lines 1 and 3 are fine.
const BAD_LINES = 'SF:src/a.c\nDA:1,1\nDA:2,-2147483648\nDA:3,0\nDA:4,123456789012345678901234567890\nend_of_record\n';
const CLEAN = 'SF:src/b.c\nDA:1,1\nend_of_record\n';

const EXPECTED = [
  { code: 'negative_count', count: 1, positions: [{ line: 3, column: 6, source: 'src/a.c', field: 'DA' }] },
  { code: 'count_clamped', count: 1, positions: [{ line: 5, column: 6, source: 'src/a.c', field: 'DA' }] },
];

describe('an upload with bad lines', () => {
  test('ends merged; its warnings reach the upload status, the commit, the report and `tributary status`', async () => {
    const base = h.gateway.base;
    const created = await call(base, 'POST', '/api/v1/repos', { token: h.adminToken, json: { slug: 'warn/app' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const token = created.body.uploadToken as string;
    const sha = newSha();
    const post = async (body: string) => {
      const res = await call(base, 'POST', `/api/v1/repos/warn/app/commits/${sha}/uploads`, { token, body, headers: { 'content-type': 'text/plain' } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return res.body.uploads[0] as { uploadId: string; session: number };
    };
    const bad = await post(BAD_LINES);
    const clean = await post(CLEAN);

    const status = await call(base, 'GET', `/api/v1/uploads/${bad.uploadId}?wait=60s`, { token });
    assert.equal(status.status, 200);
    assert.equal(status.body.state, 'merged', JSON.stringify(status.body));
    assert.equal(status.body.error, null);
    assert.deepEqual(status.body.warnings, EXPECTED);
    const cleanStatus = await call(base, 'GET', `/api/v1/uploads/${clean.uploadId}?wait=60s`, { token });
    assert.equal(cleanStatus.body.state, 'merged');
    assert.deepEqual(cleanStatus.body.warnings, []);

    const commit = await call(base, 'GET', `/api/v1/repos/warn/app/commits/${sha}?wait=60s`, { token });
    assert.equal(commit.body.state, 'complete');
    assert.deepEqual(
      (commit.body.uploads as { uploadId: string; warnings: number }[]).map((u) => [u.uploadId, u.warnings]),
      [
        [bad.uploadId, 2],
        [clean.uploadId, 0],
      ],
    );

    // The bad line is gone, the clamped one kept, the others intact.
    const report = await call(base, 'GET', `/api/v1/repos/warn/app/commits/${sha}/report`, { token });
    assert.equal(report.status, 200);
    assert.deepEqual(report.body.files['src/a.c'].lines, { 1: 1, 3: 0, 4: Number.MAX_SAFE_INTEGER });
    assert.deepEqual(report.body.files['src/b.c'].lines, { 1: 1 });
    const sessions = report.body.sessions as { id: number; warnings?: unknown }[];
    assert.deepEqual(sessions.find((s) => s.id === bad.session)?.warnings, EXPECTED);
    assert.equal(sessions.find((s) => s.id === clean.session)?.warnings, undefined);

    const printed = await cli(['status', bad.uploadId, '--url', base, '--token', token]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^state +merged$/m);
    assert.match(printed.stdout, /^warning +negative_count: 1 \(line 3:6 DA in src\/a\.c\)$/m);
    assert.match(printed.stdout, /^warning +count_clamped: 1 \(line 5:6 DA in src\/a\.c\)$/m);
    const asJson = await cli(['status', bad.uploadId, '--url', base, '--token', token, '--json']);
    assert.equal(asJson.code, 0, asJson.stderr);
    assert.deepEqual((JSON.parse(asJson.stdout) as { warnings: unknown }).warnings, EXPECTED);
  });

  test('the OpenAPI description documents the warnings', async () => {
    const doc = await call(h.gateway.base, 'GET', '/docs/json');
    const schema = doc.body.paths['/api/v1/uploads/{id}'].get.responses['200'].content['application/json'].schema;
    assert.equal(schema.properties.warnings.type, 'array');
    assert.deepEqual(schema.properties.warnings.items.properties.code.enum.slice(0, 2), ['negative_count', 'non_integer_count']);
    const commit = doc.body.paths['/api/v1/repos/{owner}/{repo}/commits/{sha}'].get.responses['200'].content['application/json'].schema;
    assert.equal(commit.properties.uploads.items.properties.warnings.type, 'integer');
  });
});
