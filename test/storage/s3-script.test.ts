import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const script = path.resolve(__dirname, '../../scripts/s3.sh');

function run(args: string[], env: Record<string, string>) {
  const { PATH, HOME } = process.env;
  return spawnSync('bash', [script, ...args], { env: { PATH: PATH ?? '', HOME: HOME ?? '', ...env }, encoding: 'utf8' });
}

// Only the paths that start nothing: the suite itself may be using the server the script manages
// (s3-blob-store.test.ts starts and stops it for real).
describe('scripts/s3.sh', () => {
  test('a given TEST_S3_ENDPOINT is passed through with its bucket and keys, and nothing is started', () => {
    const r = run([], {
      TEST_S3_ENDPOINT: 'http://s3.example:8333',
      TEST_S3_BUCKET: 'ci-bucket',
      TEST_S3_ACCESS_KEY_ID: 'ci-key',
      TEST_S3_SECRET_ACCESS_KEY: 'ci-secret',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      'TEST_S3_ENDPOINT=http://s3.example:8333\nTEST_S3_BUCKET=ci-bucket\nTEST_S3_ACCESS_KEY_ID=ci-key\n' +
        'TEST_S3_SECRET_ACCESS_KEY=ci-secret\nS3_STARTED=no\n',
    );
  });

  test('a given endpoint without bucket or keys gets the defaults the started server uses', () => {
    const r = run([], { TEST_S3_ENDPOINT: 'http://127.0.0.1:9' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^TEST_S3_BUCKET=tributary-test$/m);
    assert.match(r.stdout, /^TEST_S3_ACCESS_KEY_ID=\S+$/m);
    assert.match(r.stdout, /^TEST_S3_SECRET_ACCESS_KEY=\S+$/m);
  });

  test('an unknown command fails with a message', () => {
    const r = run(['restart'], { TEST_S3_ENDPOINT: 'http://127.0.0.1:9' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown command 'restart'/);
    assert.equal(r.stdout, '');
  });
});
