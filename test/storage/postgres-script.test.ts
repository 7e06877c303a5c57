import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const script = path.resolve(__dirname, '../../scripts/postgres.sh');

function run(args: string[], env: Record<string, string>) {
  const { PATH, HOME } = process.env;
  return spawnSync('bash', [script, ...args], { env: { PATH: PATH ?? '', HOME: HOME ?? '', ...env }, encoding: 'utf8' });
}

// Only the paths that start nothing: the suite itself may be using the server the script manages.
describe('scripts/postgres.sh', () => {
  test('a given TEST_DATABASE_URL is passed through and nothing is started', () => {
    const r = run([], { TEST_DATABASE_URL: 'postgres://ci@db.example:5432/tributary' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'TEST_DATABASE_URL=postgres://ci@db.example:5432/tributary\nPOSTGRES_STARTED=no\n');
  });

  test('DATABASE_URL serves when TEST_DATABASE_URL is unset', () => {
    const r = run([], { DATABASE_URL: 'postgres://app@db.example/app' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^TEST_DATABASE_URL=postgres:\/\/app@db\.example\/app$/m);
  });

  test('an unknown command fails with a message', () => {
    const r = run(['restart'], { TEST_DATABASE_URL: 'postgres://x@127.0.0.1/x' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown command 'restart'/);
    assert.equal(r.stdout, '');
  });
});
