/**
 * The gateway starts commit workflows by function reference, so it imports the workflow module's
 * value outside the sandbox: that import must stay small (activities only as types), or every
 * gateway would load the parsers, the store and the worker's native bridge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

test('importing the commit workflow as a value loads only the workflow modules and their SDK packages', () => {
  // A fresh process, so modules already loaded by the test runner do not hide any.
  const script = `
    const before = new Set(Object.keys(require.cache));
    const mod = require(${JSON.stringify(path.join(ROOT, 'src/workflows/index.ts'))});
    const loaded = Object.keys(require.cache).filter((k) => !before.has(k));
    console.log(JSON.stringify({ exports: Object.keys(mod).sort(), type: typeof mod.commitWorkflow, loaded }));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  const { exports, type, loaded } = JSON.parse(out.trim().split('\n').pop()!) as { exports: string[]; type: string; loaded: string[] };
  assert.deepEqual(exports, ['commitWorkflow', 'gcWorkflow', 'notifyWorkflow', 'reconcileWorkflow', 'reverifyCommitWorkflow', 'reverifyWorkflow', 'shadowParallelWorkflow']);
  assert.equal(type, 'function');
  const local = loaded.filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`)).map((f) => path.relative(ROOT, f));
  assert.ok(local.length > 0, 'the workflow modules themselves were loaded');
  const outside = local.filter((f) => !f.startsWith(`src${path.sep}workflows${path.sep}`) && f !== path.join('src', 'shared', 'map-windowed.ts') && f !== path.join('src', 'temporal', 'search-attributes.ts'));
  assert.deepEqual(outside, [], 'no activities, storage or coverage code');
  const packages = [...new Set(loaded.flatMap((f) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(f)?.[1] ?? []))];
  for (const heavy of ['@temporalio/worker', '@temporalio/core-bridge', '@temporalio/client', '@temporalio/activity', 'pg', '@electric-sql/pglite', 'fastify']) {
    assert.ok(!packages.includes(heavy), `${heavy} is not loaded (loaded: ${packages.join(', ')})`);
  }
});
