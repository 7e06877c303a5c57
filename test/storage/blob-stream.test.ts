/**
 * Streamed puts of both blob stores: the folder store on a temporary folder, the S3 store on the
 * real S3 server of scripts/s3.sh (multipart uploads past one part). A stream that fails leaves
 * nothing under its key, and a put that fails does not leave its producer waiting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3Client, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { BlobStore } from '../../src/storage/blob-store';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { S3_PART_BYTES, S3BlobStore } from '../../src/storage/s3-blob-store';
import { realS3, type S3UnderTest } from '../support/s3';

/** `total` random bytes as a stream of uneven chunks (so parts never line up with chunks). */
function chunked(bytes: Buffer, chunk = 777_777): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (at >= bytes.byteLength) return void this.push(null);
      this.push(bytes.subarray(at, at + chunk));
      at += chunk;
    },
  });
}

/** A stream that sends `good` bytes, then fails. */
function failingAfter(good: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= good) return void this.destroy(new Error('the client went away'));
      const n = Math.min(1 << 20, good - sent);
      sent += n;
      this.push(Buffer.alloc(n, 0x5a));
    },
  });
}

function sharedCases(name: string, open: () => { store: BlobStore; k: (key: string) => string }) {
  test(`${name}: streamed bodies round-trip, below, across and exactly on part boundaries, and empty`, async () => {
    const { store, k } = open();
    const sizes = [0, 10, S3_PART_BYTES, 2 * S3_PART_BYTES + 12_345];
    for (const size of sizes) {
      const bytes = randomBytes(size);
      await store.put(k(`raw/s-${size}`), chunked(bytes));
      const back = await store.get(k(`raw/s-${size}`));
      assert.ok(back !== null && Buffer.from(back).equals(bytes), `${size} bytes came back whole`);
    }
  });

  test(`${name}: a stream that fails leaves nothing under its key, also over an existing blob`, async () => {
    const { store, k } = open();
    await assert.rejects(store.put(k('raw/failed'), failingAfter(S3_PART_BYTES + 100)), /went away/);
    assert.equal(await store.exists(k('raw/failed')), false);
    await store.put(k('raw/kept'), Buffer.from('first'));
    await assert.rejects(store.put(k('raw/kept'), failingAfter(100)), /went away/);
    assert.deepEqual(Buffer.from((await store.get(k('raw/kept')))!).toString(), 'first');
  });
}

describe('FsBlobStore streamed puts', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tributary-blob-stream-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  sharedCases('fs', () => ({ store: new FsBlobStore(dir), k: (key) => key }));

  test('fs: a failed stream leaves no temporary file either', async () => {
    const store = new FsBlobStore(dir);
    await assert.rejects(store.put('raw/tmp-check', failingAfter(3 << 20)));
    const names = await readdir(path.join(dir, 'raw'));
    assert.deepEqual(names.filter((n) => n.includes('tmp-check')), []);
  });
});

describe('S3BlobStore streamed puts against a real S3 server', () => {
  let s3: S3UnderTest;
  let store: S3BlobStore;
  const run = `t-${process.pid}-${randomBytes(4).toString('hex')}`;
  before(async () => {
    s3 = await realS3();
    store = new S3BlobStore({ endpoint: s3.endpoint, region: 'us-east-1', bucket: s3.bucket, forcePathStyle: true, credentials: s3.credentials });
  });
  after(async () => {
    store?.close();
    await s3?.release();
  });
  sharedCases('s3', () => ({ store, k: (key) => `${run}/${key}` }));

  test('s3: a failed multipart upload is aborted, not left open in the bucket', async () => {
    await assert.rejects(store.put(`${run}/raw/aborted`, failingAfter(2 * S3_PART_BYTES + 5)));
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
    try {
      const open = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: `${run}/` }));
      assert.deepEqual((open.Uploads ?? []).map((u) => u.Key), []);
    } finally {
      client.destroy();
    }
  });
});
