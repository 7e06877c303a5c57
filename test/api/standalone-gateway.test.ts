/**
 * `node dist/api/gateway.js` (here its source through tsx) started without a reachable Temporal
 * server: it gives up after the start-up timeout and says what to set, without a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/ports';
import { runNode } from '../support/run-child';

const ROOT = path.resolve(__dirname, '../..');

test('the standalone gateway without a Temporal server says to set TEMPORAL_ADDRESS (and DATABASE_URL)', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tributary-standalone-'));
  try {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, TRIBUTARY_DATA_DIR: dir, TEMPORAL_DEV_PORT: String(await freePort()), TRIBUTARY_STARTUP_TIMEOUT: '1s', TRIBUTARY_API_PORT: String(await freePort()) };
    const res = await runNode(['--import', 'tsx', 'src/api/gateway.ts'], { cwd: ROOT, env });
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /gave up waiting for Temporal at 127\.0\.0\.1:\d+/);
    assert.match(res.stderr, /set TEMPORAL_ADDRESS=host:port to a running one .*or run `npm start`/);
    assert.match(res.stderr, /Set DATABASE_URL=postgres:\/\/… as well/);
    assert.doesNotMatch(res.stderr, /^\s+at /m, 'no stack trace');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
