/**
 * The S3 blob store against a real S3-compatible server (SeaweedFS, from scripts/s3.sh: requests
 * must be signed with its one identity), and, only for faults that server cannot be made to
 * produce (5xx answers, a connection cut mid-body), against a stand-in on loopback that speaks
 * S3's protocol for the four calls the store makes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { S3BlobStore } from '../../src/storage/s3-blob-store';
import { openBlobStore } from '../../src/storage/open-blob-store';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { loadConfig } from '../../src/config';
import { realS3, type S3UnderTest } from '../support/s3';

describe('S3BlobStore against a real S3 server', () => {
  let s3: S3UnderTest;
  let store: S3BlobStore;
  // Test files may share the server: every key of this run lives under its own prefix.
  const run = `t-${process.pid}-${randomBytes(4).toString('hex')}`;
  const k = (key: string) => `${run}/${key}`;
  const storeOn = (overrides: { bucket?: string; secretAccessKey?: string } = {}) =>
    new S3BlobStore({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      bucket: overrides.bucket ?? s3.bucket,
      forcePathStyle: true,
      credentials: { ...s3.credentials, ...(overrides.secretAccessKey ? { secretAccessKey: overrides.secretAccessKey } : {}) },
    });

  before(async () => {
    s3 = await realS3();
    store = storeOn();
  });
  after(async () => {
    store?.close();
    await s3?.release();
  });

  test('put, get, exists and delete round-trip an object under its key', async () => {
    const body = new TextEncoder().encode('TN:\nSF:src/a.ts\nDA:1,1\nend_of_record\n');
    await store.put(k('raw/upload-1'), body);
    assert.deepEqual(await store.get(k('raw/upload-1')), body);
    assert.equal(await store.exists(k('raw/upload-1')), true);
    await store.delete(k('raw/upload-1'));
    assert.equal(await store.get(k('raw/upload-1')), null);
    assert.equal(await store.exists(k('raw/upload-1')), false);
    await store.delete(k('raw/upload-1')); // deleting a missing key is not an error
    await store.delete(k('never/written'));
  });

  test('a missing key is null for get and false for exists, also where a longer key exists', async () => {
    assert.equal(await store.get(k('intermediate/never-written')), null);
    assert.equal(await store.exists(k('intermediate/never-written')), false);
    // An object store keyed by paths (SeaweedFS keeps keys in a filer tree) must not answer for a
    // "folder" made only by a longer key, nor for a prefix or an extension of a key. (With a
    // trailing slash SeaweedFS answers the folder as an empty object; blobKey never makes one.)
    await store.put(k('reports/acme/app/abc1234/v1'), new Uint8Array([1]));
    for (const missing of ['reports/acme/app/abc1234', 'reports/acme/app/abc1234/v', 'reports/acme/app/abc1234/v10', 'reports/acme']) {
      assert.equal(await store.get(k(missing)), null, missing);
      assert.equal(await store.exists(k(missing)), false, missing);
    }
    assert.equal(await store.exists(k('reports/acme/app/abc1234/v1')), true);
  });

  test('a put replaces the whole object, growing or shrinking it', async () => {
    const key = k('reports/acme/app/abc1234/v2');
    const big = new Uint8Array(randomBytes(1 << 20));
    await store.put(key, new Uint8Array([1, 2, 3]));
    await store.put(key, big);
    assert.deepEqual(await store.get(key), big);
    await store.put(key, new Uint8Array([4, 5]));
    assert.deepEqual(await store.get(key), new Uint8Array([4, 5]));
  });

  test('large and empty bodies survive intact', async () => {
    // Past the server's 4 MiB chunk size several times over, and not a multiple of it.
    const large = new Uint8Array(randomBytes(17 * 1024 * 1024 + 3));
    await store.put(k('raw/large'), large);
    const back = await store.get(k('raw/large'));
    assert.ok(back);
    assert.equal(back.byteLength, large.byteLength);
    assert.ok(Buffer.from(back).equals(Buffer.from(large)), 'the large object came back altered');
    await store.put(k('scratch/empty'), new Uint8Array(0));
    assert.deepEqual(await store.get(k('scratch/empty')), new Uint8Array(0));
    assert.equal(await store.exists(k('scratch/empty')), true);
  });

  test('keys with slashes and odd characters are distinct objects that round-trip', async () => {
    const odd = [
      'scratch/acme/app.js/0123abc/batch-3/intermediate/u_1.files',
      'a b',
      'a+b', // not the same object as 'a b': '+' is no space in a path
      'a%20b',
      'percent%2Fslash',
      'q?x=1&y=2#frag',
      'tilde~star*paren(1)!quote\'',
      'colon:semi;comma,at@dollar$equals=',
      'unicode/émoji-😀/ü',
      'deep/' + 'x/'.repeat(20) + 'leaf',
      '.dotfile',
      'trailing.dot.',
    ];
    await Promise.all(odd.map((key, i) => store.put(k(key), new TextEncoder().encode(`object ${i}: ${key}`))));
    for (const [i, key] of odd.entries()) {
      const back = await store.get(k(key));
      assert.equal(back && new TextDecoder().decode(back), `object ${i}: ${key}`, key);
      assert.equal(await store.exists(k(key)), true, key);
    }
    await store.delete(k('a+b'));
    assert.equal(await store.exists(k('a+b')), false);
    assert.equal(await store.exists(k('a b')), true, "deleting 'a+b' must not delete 'a b'");
  });

  test('many concurrent writes and reads keep every object apart', async () => {
    const n = 64;
    const bodies = Array.from({ length: n }, (_, i) => new Uint8Array(randomBytes(1000 + i)));
    await Promise.all(bodies.map((b, i) => store.put(k(`intermediate/c-${i}`), b)));
    const back = await Promise.all(bodies.map((_, i) => store.get(k(`intermediate/c-${i}`))));
    for (const [i, b] of back.entries()) assert.deepEqual(b, bodies[i], `object ${i}`);
  });

  test('a wrong secret is refused with an error, never taken for a missing or a present object', async () => {
    await store.put(k('raw/signed'), new Uint8Array([1]));
    const wrong = storeOn({ secretAccessKey: 'not-the-secret' });
    try {
      await assert.rejects(wrong.get(k('raw/signed')), (err: Error) => /SignatureDoesNotMatch|AccessDenied|Forbidden/.test(err.name));
      await assert.rejects(wrong.exists(k('raw/signed')), (err: Error) => /SignatureDoesNotMatch|AccessDenied|Forbidden|Unknown/.test(err.name));
      await assert.rejects(wrong.put(k('raw/forged'), new Uint8Array([2])), (err: Error) => /SignatureDoesNotMatch|AccessDenied/.test(err.name));
      await assert.rejects(wrong.delete(k('raw/signed')), (err: Error) => /SignatureDoesNotMatch|AccessDenied/.test(err.name));
    } finally {
      wrong.close();
    }
    assert.equal(await store.exists(k('raw/forged')), false);
    assert.deepEqual(await store.get(k('raw/signed')), new Uint8Array([1]));
  });

  test('a missing bucket is an error, not a missing blob', async () => {
    const wrong = storeOn({ bucket: `no-such-bucket-${randomBytes(4).toString('hex')}` });
    try {
      await assert.rejects(wrong.get('raw/x'), (err: Error) => err.name === 'NoSuchBucket');
      await assert.rejects(wrong.exists('raw/x'), (err: Error) => err.name === 'NoSuchBucket');
      await assert.rejects(wrong.put('raw/x', new Uint8Array([1])), (err: Error) => err.name === 'NoSuchBucket');
    } finally {
      wrong.close();
    }
  });

  test('openBlobStore gives the S3 store for an s3 configuration, on the configured server', async () => {
    const config = loadConfig(s3.configEnv());
    const opened = openBlobStore(config);
    try {
      assert.ok(opened instanceof S3BlobStore);
      await opened.put(k('raw/u2'), new Uint8Array([9, 9]));
      assert.deepEqual(await store.get(k('raw/u2')), new Uint8Array([9, 9]));
    } finally {
      if (opened instanceof S3BlobStore) opened.close();
    }
  });
});

interface SeenRequest {
  method: string;
  url: string;
}

/**
 * A stand-in for fault injection only: path-style PUT, GET, HEAD and DELETE of objects in one
 * bucket with S3's answers and error bodies, where `fault` may take over any request.
 */
function faultyS3(fault: (req: http.IncomingMessage, res: http.ServerResponse, attempt: number) => boolean) {
  const objects = new Map<string, Buffer>();
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      seen.push({ method: req.method ?? '', url: url.pathname });
      if (fault(req, res, seen.length)) return;
      const [, , ...rest] = url.pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      switch (req.method) {
        case 'PUT':
          objects.set(key, Buffer.concat(chunks));
          res.writeHead(200, { etag: '"fake"' });
          return res.end();
        case 'GET':
        case 'HEAD': {
          const body = objects.get(key);
          if (body === undefined) return s3Error(req, res, 404, 'NoSuchKey');
          res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream', etag: '"fake"' });
          return res.end(req.method === 'GET' ? body : undefined);
        }
        case 'DELETE':
          objects.delete(key);
          res.writeHead(204);
          return res.end();
        default:
          return s3Error(req, res, 405, 'MethodNotAllowed');
      }
    });
  });
  return { server, objects, seen };
}

function s3Error(req: http.IncomingMessage, res: http.ServerResponse, status: number, code: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(req.method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
}

async function withFaultyS3(
  fault: Parameters<typeof faultyS3>[0],
  body: (store: S3BlobStore, fake: ReturnType<typeof faultyS3>) => Promise<void>,
): Promise<void> {
  const fake = faultyS3(fault);
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  const store = new S3BlobStore({
    endpoint: `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    bucket: 'coverage',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test-key', secretAccessKey: 'test-secret' },
  });
  try {
    await body(store, fake);
  } finally {
    store.close();
    fake.server.closeAllConnections();
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  }
}

describe('S3BlobStore under faults a real server will not produce', () => {
  test('a server that keeps answering 503 SlowDown fails every call after the retries, never reads as missing', async () => {
    await withFaultyS3(
      (req, res) => {
        s3Error(req, res, 503, 'SlowDown');
        return true;
      },
      async (store, fake) => {
        await assert.rejects(store.get('raw/x'), (err: Error) => err.name === 'SlowDown');
        // The SDK's standard retry strategy: three attempts in all.
        assert.equal(fake.seen.length, 3);
        await assert.rejects(store.exists('raw/x'));
        await assert.rejects(store.put('raw/x', new Uint8Array([1])), (err: Error) => err.name === 'SlowDown');
        await assert.rejects(store.delete('raw/x'), (err: Error) => err.name === 'SlowDown');
      },
    );
  });

  test('a transient 500 on a put is retried and the object lands once, whole', async () => {
    await withFaultyS3(
      (req, res, attempt) => {
        if (attempt !== 1) return false;
        s3Error(req, res, 500, 'InternalError');
        return true;
      },
      async (store, fake) => {
        await store.put('raw/retried', new Uint8Array([1, 2, 3]));
        assert.deepEqual(fake.seen.map((r) => r.method), ['PUT', 'PUT']);
        assert.deepEqual(fake.objects.get('raw/retried'), Buffer.from([1, 2, 3]));
      },
    );
  });

  test('a connection cut in the middle of a body is an error, never a short object', async () => {
    await withFaultyS3(
      (req, res) => {
        if (req.method !== 'GET') return false;
        res.writeHead(200, { 'content-length': 1000, 'content-type': 'application/octet-stream' });
        res.write(Buffer.alloc(100, 7));
        setTimeout(() => res.socket?.destroy(), 20);
        return true;
      },
      async (store) => {
        await store.put('raw/cut', new Uint8Array(1000));
        await assert.rejects(store.get('raw/cut'));
      },
    );
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

  test('refuses an s3 configuration without its settings', () => {
    assert.throws(() => openBlobStore({ blobs: { kind: 's3', dir: '/unused' } }), /S3_BUCKET/);
  });
});
