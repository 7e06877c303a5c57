import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { S3Config } from '../config';
import { DEFAULT_LIST_LIMIT, type BlobBody, type BlobPage, type BlobStore, type ListPage } from './blob-store';

/**
 * Part size of a streamed put: S3's minimum is 5 MiB (but for the last part), and 8 MiB keeps a
 * streamed upload's memory at one part while 256 MiB still takes only 32 parts of the 10,000.
 */
export const S3_PART_BYTES = 8 * 1024 * 1024;

export const S3BlobStoreOptions = z.object({
  endpoint: z.url().optional(),
  region: z.string().min(1),
  bucket: z.string().min(1),
  forcePathStyle: z.boolean(),
  credentials: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) }).optional(),
});

/**
 * The production blob store: one object per key in an S3 bucket (AWS, or an S3-compatible store
 * such as SeaweedFS through `endpoint` and path-style addressing). A put replaces the whole object,
 * so retried writes are harmless, as with the folder store.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(config: S3Config) {
    const c = S3BlobStoreOptions.parse(config);
    this.bucket = c.bucket;
    this.client = new S3Client({
      endpoint: c.endpoint,
      region: c.region,
      forcePathStyle: c.forcePathStyle,
      credentials: c.credentials,
      // Checksums only where S3 demands them: many S3-compatible stores reject or mishandle the
      // SDK's default flexible-checksum headers and trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: BlobBody): Promise<void> {
    if (body instanceof Uint8Array) return this.putBytes(key, body);
    return this.putStream(key, body);
  }

  private async putBytes(key: string, body: Uint8Array): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.byteLength }),
    );
  }

  /**
   * A stream goes up one part at a time (a body shorter than a part as one PutObject). Parts are
   * held as bytes rather than piped into the SDK, so each request can be signed with its length
   * and retried by the SDK; @aws-sdk/lib-storage does the same with several parts in flight, which
   * buys bandwidth we do not need for the memory we do. An object appears only at the complete
   * call: a failed stream aborts the multipart upload and leaves nothing under the key.
   */
  private async putStream(key: string, body: Readable): Promise<void> {
    let uploadId: string | undefined;
    const parts: CompletedPart[] = [];
    try {
      for await (const part of inParts(body, S3_PART_BYTES)) {
        if (uploadId === undefined) {
          if (part.last) return await this.putBytes(key, part.bytes);
          const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
          if (created.UploadId === undefined) throw new Error('the S3 store started a multipart upload without an id');
          uploadId = created.UploadId;
        }
        // A stream that ended on a part boundary has nothing more to send.
        if (part.last && part.bytes.byteLength === 0) break;
        const PartNumber = parts.length + 1;
        const out = await this.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber, Body: part.bytes, ContentLength: part.bytes.byteLength }),
        );
        parts.push({ PartNumber, ETag: out.ETag });
      }
      if (uploadId === undefined) throw new Error('a stream always ends with its last part');
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (err) {
      if (uploadId !== undefined) {
        const abort = new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId });
        await this.client.send(abort).catch(() => undefined);
      }
      // A consumer that stops early must not leave the producer waiting on a full buffer.
      body.destroy();
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (out.Body === undefined) return new Uint8Array(0);
      return await out.Body.transformToByteArray();
    } catch (err) {
      if (isMissingObject(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 for a key that does not exist, so deleting twice is fine.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (!isMissingObject(err)) throw err;
    }
    // A HEAD answer has no body, so a missing bucket is the same bare 404 as a missing object: ask
    // the bucket before calling the object absent (rare: a lost blob, or the readiness probe).
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (isMissingObject(err)) throw Object.assign(new Error(`the S3 bucket ${this.bucket} does not exist`), { name: 'NoSuchBucket' });
      throw err;
    }
    return false;
  }

  /** One ListObjectsV2 request: S3 answers in key order and pages by StartAfter. */
  async list(prefix: string, page: ListPage = {}): Promise<BlobPage> {
    const out = await this.client.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix,
        StartAfter: page.after,
        MaxKeys: Math.min(DEFAULT_LIST_LIMIT, Math.max(1, page.limit ?? DEFAULT_LIST_LIMIT)),
      }),
    );
    const blobs = (out.Contents ?? [])
      .filter((o) => o.Key !== undefined)
      .map((o) => ({ key: o.Key!, size: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) }));
    return { blobs, next: out.IsTruncated && blobs.length > 0 ? blobs[blobs.length - 1]!.key : null };
  }

  /** Releases the client's sockets. */
  close(): void {
    this.client.destroy();
  }
}

/**
 * The stream cut into parts of `size` bytes, then what is left at its end (`last`, shorter; empty
 * only when the stream is empty or ended on a part boundary).
 */
async function* inParts(body: Readable, size: number): AsyncGenerator<{ bytes: Buffer; last: boolean }> {
  let chunks: Buffer[] = [];
  let held = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    while (buf.byteLength > 0) {
      const take = Math.min(size - held, buf.byteLength);
      chunks.push(buf.subarray(0, take));
      held += take;
      buf = buf.subarray(take);
      if (held === size) {
        const full = Buffer.concat(chunks, size);
        chunks = [];
        held = 0;
        yield { bytes: full, last: false };
      }
    }
  }
  yield { bytes: Buffer.concat(chunks, held), last: true };
}

/**
 * A missing object, not a missing bucket or a refused request: those are configuration errors
 * that must surface instead of looking like an absent blob.
 */
function isMissingObject(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (e.name === 'NoSuchKey' || e.name === 'NotFound') return true;
  return e.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket';
}
