import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { keys, type BlobStore } from '../storage/blob-store';
import type { PayloadSink } from '../codecov/payload-stream';
import type { StoredRawBody } from '../services/register-upload';
import { payloadTooLarge, requestTimeout } from './errors';

/** How many first bytes of a body are kept to recognise its format (gzip's magic is two). */
const HEAD_BYTES = 16;

export interface StreamBodyOptions {
  /** Bytes this body may still have; past it the write fails with 413. */
  limit: number;
  /** The limit the 413 names (the whole request's, when several parts share it). */
  reportedLimit?: number;
  /** Touched on every chunk; its abort (408) fails the write. */
  idle?: BodyIdleTimer;
}

/**
 * Streams one upload body to a new raw blob under a fresh upload id (keys.raw), counting and
 * hashing it on the way: the one path from a request body to storage (raw bodies, multipart
 * parts, and any route that takes reports). Memory stays at a few chunks whatever the size. Past
 * `limit` it fails with 413 and the rest of the body is discarded unread, as readBounded does; on
 * any failure nothing is left under the key. The blob is not registered: the caller hands it to
 * registerUploads, or deletes it (discardRawBody) when it refuses the body after all.
 */
export async function streamToRawBlob(blobs: BlobStore, source: Readable, opts: StreamBodyOptions): Promise<StoredRawBody> {
  const uploadId = randomUUID();
  const rawKey = keys.raw(uploadId);
  const hash = createHash('sha256');
  const headChunks: Buffer[] = [];
  let headBytes = 0;
  let bytes = 0;
  let failure: Error | undefined;
  const sink = new PassThrough();

  const detach = () => {
    source.removeListener('data', onData);
    source.removeListener('end', onEnd);
    source.removeListener('error', fail);
    opts.idle?.signal.removeEventListener('abort', onIdle);
  };
  const fail = (err: Error) => {
    if (failure !== undefined) return;
    failure = err;
    detach();
    // Drain instead of destroying: destroying a request destroys its socket before the answer.
    source.on('error', () => undefined);
    source.resume();
    sink.destroy(err);
  };
  const onData = (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    opts.idle?.touch();
    bytes += buf.byteLength;
    if (bytes > opts.limit) return fail(payloadTooLarge(opts.reportedLimit ?? opts.limit));
    hash.update(buf);
    if (headBytes < HEAD_BYTES) {
      const piece = buf.subarray(0, HEAD_BYTES - headBytes);
      headChunks.push(Buffer.from(piece));
      headBytes += piece.byteLength;
    }
    // Backpressure: the request is read no faster than the store writes.
    if (!sink.write(buf)) {
      source.pause();
      sink.once('drain', () => {
        if (failure === undefined) source.resume();
      });
    }
  };
  const onEnd = () => {
    detach();
    sink.end();
  };
  const onIdle = () => fail(opts.idle?.signal.reason as Error);

  if (opts.idle?.signal.aborted) throw opts.idle.signal.reason as Error;
  opts.idle?.signal.addEventListener('abort', onIdle, { once: true });
  source.on('data', onData);
  source.on('end', onEnd);
  source.on('error', fail);
  try {
    await blobs.put(rawKey, sink);
  } catch (err) {
    fail(err as Error);
    // The store leaves nothing behind a failed put; this is for a store that could not tell.
    await blobs.delete(rawKey).catch(() => undefined);
    throw failure ?? err;
  }
  if (failure !== undefined) {
    await blobs.delete(rawKey).catch(() => undefined);
    throw failure;
  }
  return { uploadId, rawKey, bytes, digest: hash.digest('hex'), head: Buffer.concat(headChunks, headBytes) };
}

/** Where a split payload's coverage files go: each to its own raw blob, as streamToRawBlob writes them. */
export function rawBlobSink(blobs: BlobStore): PayloadSink<StoredRawBody> {
  return {
    // The payload's own bounds apply upstream; this one only keeps a runaway stream finite.
    store: (content) => streamToRawBlob(blobs, content, { limit: Number.MAX_SAFE_INTEGER }),
    discard: (stored) => discardRawBodies(blobs, stored),
  };
}

/**
 * A request body as chunks, refused (413) past `limit` bytes, hashed on the way (sha256 of the
 * bytes as received, for idempotency). Reading stops early on a refusal; `drain` then discards
 * the rest, since destroying a request would destroy its socket before the answer.
 */
export function meteredBody(source: Readable, limit: number): { chunks: AsyncIterable<Buffer>; digest(): string } {
  const hash = createHash('sha256');
  let bytes = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buf.byteLength;
      if (bytes > limit) throw payloadTooLarge(limit);
      hash.update(buf);
      yield buf;
    }
  }
  return { chunks: chunks(), digest: () => hash.digest('hex') };
}

/** Discards what is left of a request body that was not read to its end, keeping the socket usable. */
export function drain(source: Readable): void {
  if (source.readableEnded || source.destroyed) return;
  source.on('error', () => undefined);
  source.resume();
}

/** Best effort: a raw blob left behind is unreferenced garbage, never a wrong answer. */
export async function discardRawBodies(blobs: BlobStore, bodies: readonly StoredRawBody[]): Promise<void> {
  await Promise.allSettled(bodies.map((b) => blobs.delete(b.rawKey)));
}

/**
 * Reads a stream into memory, refusing (413) as soon as it passes `limit` bytes, so a body never
 * costs more than the limit however much the client sends. The rest of an oversized body is
 * discarded rather than the stream destroyed: destroying a request also destroys its socket, and
 * the client would never see the 413 (the error answer closes the connection instead).
 */
export function readBounded(stream: Readable, limit: number, reportedLimit = limit, idle?: BodyIdleTimer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = () => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      idle?.touch();
      total += buf.byteLength;
      if (total > limit) {
        cleanup();
        chunks.length = 0;
        stream.on('error', () => undefined);
        stream.resume();
        reject(payloadTooLarge(reportedLimit));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, total));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/**
 * A timer that fires when a body has sent nothing for `idleMs`: `touch()` on every chunk, `race()`
 * a read against it. Idle, not total: a large body arriving slowly but steadily is never cut.
 */
export class BodyIdleTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly idleMs: number) {
    this.touch();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    if (this.controller.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(requestTimeout(this.idleMs)), this.idleMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** `work`, or a 408 once the body has been idle too long. */
  race<T>(work: Promise<T>): Promise<T> {
    const { signal } = this.controller;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}

/**
 * The body of a request as it arrives, failing with 408 once it has been idle for `idleMs`. The
 * request itself is left alone (destroying it would destroy the socket before the 408 is sent);
 * the error answer closes the connection instead. `stop()` once the answer is sent: a body the
 * route never read (refused early) is not timed any longer.
 */
export function idleGuardedBody(payload: Readable, idleMs: number): { body: Readable; stop(): void } {
  const idle = new BodyIdleTimer(idleMs);
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      idle.touch();
      callback(null, chunk);
    },
    flush(callback) {
      idle.stop();
      callback();
    },
  });
  // Readers listen for errors themselves; a body nobody reads must not fail the process.
  guard.on('error', () => undefined);
  idle.signal.addEventListener('abort', () => {
    payload.unpipe(guard);
    guard.destroy(idle.signal.reason as Error);
  });
  guard.once('close', () => idle.stop());
  // pipe() forwards neither errors nor an abort: a client that leaves fails the read at once.
  payload.once('error', (err) => guard.destroy(err));
  payload.once('close', () => {
    if (!payload.readableEnded) guard.destroy(new Error('the client closed the request before its body ended'));
  });
  payload.pipe(guard);
  return {
    body: guard,
    stop() {
      idle.stop();
      payload.unpipe(guard);
      guard.destroy();
    },
  };
}
