import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { CONFIG_ENV_VARS } from '../../src/config-schema';

describe('storage configuration', () => {
  test('defaults: PGlite in <data>/db and the folder blob store', () => {
    const c = loadConfig({}, '/srv/app');
    assert.deepEqual(c.database, { url: undefined, dir: path.resolve('/srv/app', '.data', 'db') });
    assert.deepEqual(c.blobs, { kind: 'fs', dir: path.resolve('/srv/app', '.data', 'blobs'), s3: undefined });
    assert.equal(c.blobDir, c.blobs.dir);
  });

  test('PostgreSQL and S3 settings are read', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgres://tributary:secret@db.internal:5432/tributary',
      TRIBUTARY_BLOB_STORE: 's3',
      S3_ENDPOINT: 'http://minio:9000',
      S3_REGION: 'eu-west-1',
      S3_BUCKET: 'coverage',
      S3_ACCESS_KEY_ID: 'key',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'false',
    });
    assert.equal(c.database.url, 'postgres://tributary:secret@db.internal:5432/tributary');
    assert.deepEqual(c.blobs.s3, {
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      bucket: 'coverage',
      forcePathStyle: false,
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
    });
  });

  test('S3 defaults: us-east-1, path-style, the SDK credential chain', () => {
    const c = loadConfig({ TRIBUTARY_BLOB_STORE: 's3', S3_BUCKET: 'b' });
    assert.deepEqual(c.blobs.s3, {
      endpoint: undefined,
      region: 'us-east-1',
      bucket: 'b',
      forcePathStyle: true,
      credentials: undefined,
    });
  });

  const invalid: [string, Record<string, string>, RegExp][] = [
    ['a database URL of another scheme', { DATABASE_URL: 'mysql://db/x' }, /DATABASE_URL: expected a postgres:\/\/ URL/],
    ['an unknown blob store', { TRIBUTARY_BLOB_STORE: 'gcs' }, /TRIBUTARY_BLOB_STORE/],
    ['s3 without a bucket', { TRIBUTARY_BLOB_STORE: 's3' }, /S3_BUCKET is required/],
    ['a key id without its secret', { S3_ACCESS_KEY_ID: 'k' }, /S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together/],
    ['an endpoint that is not a URL', { S3_ENDPOINT: 'minio:9000' }, /S3_ENDPOINT/],
    ['a path-style flag that is not a boolean', { S3_FORCE_PATH_STYLE: 'sometimes' }, /S3_FORCE_PATH_STYLE/],
  ];
  for (const [what, env, message] of invalid) {
    test(`rejects ${what}, naming the variable`, () => {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }

  test('lists the storage variables', () => {
    for (const v of ['DATABASE_URL', 'TRIBUTARY_BLOB_STORE', 'S3_ENDPOINT', 'S3_BUCKET', 'S3_FORCE_PATH_STYLE'] as const) {
      assert.ok(CONFIG_ENV_VARS.includes(v), v);
    }
  });
});
