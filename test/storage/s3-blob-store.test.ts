import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { S3BlobStore } from '../../src/storage/s3-blob-store';
import { openBlobStore } from '../../src/storage/open-blob-store';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { loadConfig } from '../../src/config';

const BUCKET = 'coverage';

interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
}

/**
 * Just enough of S3 for the store: path-style PUT, GET, HEAD and DELETE of objects in one bucket,
 * with S3's error bodies. Other buckets answer NoSuchBucket.
 */
function fakeS3() {
  const objects = new Map<string, Buffer>();
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      seen.push({ method: req.method ?? '', url: url.pathname, authorization: req.headers.authorization });
      const [, bucket, ...rest] = url.pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      const error = (status: number, code: string) => {
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(req.method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><Key>${key}</Key></Error>`);
      };
      if (bucket !== BUCKET) return error(404, 'NoSuchBucket');
      switch (req.method) {
        case 'PUT':
          objects.set(key, Buffer.concat(chunks));
          res.writeHead(200, { etag: '"fake"' });
          return res.end();
        case 'GET':
        case 'HEAD': {
          const body = objects.get(key);
          if (body === undefined) return error(404, 'NoSuchKey');
          res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream', etag: '"fake"' });
          return res.end(req.method === 'GET' ? body : undefined);
        }
        case 'DELETE':
          objects.delete(key);
          res.writeHead(204);
          return res.end();
        default:
          return error(405, 'MethodNotAllowed');
      }
    });
  });
  return { server, objects, seen };
}

describe('S3BlobStore against a fake S3 on loopback', () => {
  const fake = fakeS3();
  let endpoint: string;
  let store: S3BlobStore;

  before(async () => {
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    store = new S3BlobStore({
      endpoint,
      region: 'us-east-1',
      bucket: BUCKET,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test-key', secretAccessKey: 'test-secret' },
    });
  });
  after(async () => {
    store?.close();
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  });

  test('put, get, exists and delete round-trip an object under its key, path-style and signed', async () => {
    const body = new TextEncoder().encode('TN:\nSF:src/a.ts\nDA:1,1\nend_of_record\n');
    await store.put('raw/upload-1', body);
    assert.deepEqual(fake.objects.get('raw/upload-1'), Buffer.from(body));
    const put = fake.seen.find((r) => r.method === 'PUT');
    assert.equal(put?.url, `/${BUCKET}/raw/upload-1`);
    assert.match(put?.authorization ?? '', /^AWS4-HMAC-SHA256 Credential=test-key\//);

    assert.deepEqual(await store.get('raw/upload-1'), new Uint8Array(body));
    assert.equal(await store.exists('raw/upload-1'), true);
    await store.delete('raw/upload-1');
    assert.equal(fake.objects.has('raw/upload-1'), false);
    assert.equal(await store.exists('raw/upload-1'), false);
    await store.delete('raw/upload-1'); // deleting a missing key is not an error
  });

  test('a missing key is null for get and false for exists', async () => {
    assert.equal(await store.get('intermediate/never-written'), null);
    assert.equal(await store.exists('intermediate/never-written'), false);
  });

  test('a put replaces the whole object; large and empty bodies survive intact', async () => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) % 251);
    await store.put('reports/acme/app/abc1234', new Uint8Array([1, 2, 3]));
    await store.put('reports/acme/app/abc1234', big);
    assert.deepEqual(await store.get('reports/acme/app/abc1234'), big);
    await store.put('scratch/empty', new Uint8Array(0));
    assert.deepEqual(await store.get('scratch/empty'), new Uint8Array(0));
    assert.equal(await store.exists('scratch/empty'), true);
  });

  test('a missing bucket is an error, not a missing blob', async () => {
    const wrong = new S3BlobStore({
      endpoint,
      region: 'us-east-1',
      bucket: 'no-such-bucket',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test-key', secretAccessKey: 'test-secret' },
    });
    try {
      await assert.rejects(wrong.get('raw/x'), (err: Error) => err.name === 'NoSuchBucket');
    } finally {
      wrong.close();
    }
  });
});

describe('openBlobStore', () => {
  test('is the folder store by default, in <data>/blobs', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tributary-blobs-'));
    try {
      const config = loadConfig({ TRIBUTARY_DATA_DIR: dir });
      assert.equal(config.blobs.kind, 'fs');
      assert.equal(config.blobs.dir, path.join(dir, 'blobs'));
      const store = openBlobStore(config);
      assert.ok(store instanceof FsBlobStore);
      await store.put('raw/u1', new Uint8Array([7]));
      const back = await openBlobStore(config).get('raw/u1');
      assert.deepEqual(back && [...back], [7]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('is S3 when configured, and talks to the configured endpoint', async () => {
    const fake = fakeS3();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    try {
      const config = loadConfig({
        TRIBUTARY_BLOB_STORE: 's3',
        S3_ENDPOINT: `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`,
        S3_BUCKET: BUCKET,
        S3_ACCESS_KEY_ID: 'k',
        S3_SECRET_ACCESS_KEY: 's',
      });
      const store = openBlobStore(config);
      assert.ok(store instanceof S3BlobStore);
      await store.put('raw/u2', new Uint8Array([9, 9]));
      assert.deepEqual(fake.objects.get('raw/u2'), Buffer.from([9, 9]));
      store.close();
    } finally {
      await new Promise<void>((resolve) => fake.server.close(() => resolve()));
    }
  });

  test('refuses an s3 configuration without its settings', () => {
    assert.throws(() => openBlobStore({ blobs: { kind: 's3', dir: '/unused' } }), /S3_BUCKET/);
  });
});
