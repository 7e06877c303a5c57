/**
 * The pieces both encodings' splitters share (./payload-v1, ./payload-legacy): the result, the
 * sink and the limits, the one inflated-bytes budget, the chunk reader and the writer that streams
 * one coverage file to its sink.
 */
import { once } from 'node:events';
import { PassThrough, Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { createInflate } from 'node:zlib';
import type { StoredFixes } from './fixes';

export interface CodecovPayload<T> {
  /** In payload order. */
  files: Array<{ filename: string; body: T }>;
  /** Repository-relative paths, empty entries dropped. */
  network: string[];
  /** By source path as the uploader computed them, with the warnings for entries ignored. */
  fixes: StoredFixes;
  /** The environment section (legacy text) or none. */
  env: Record<string, string>;
  encoding: 'v1-json' | 'legacy-text';
}

/** Where coverage files go as they stream: the blob store in production, memory in tests. */
export interface PayloadSink<T> {
  /** Stores one file's content, read from `content` to its end; rejects with the stream's error. */
  store(content: Readable): Promise<T>;
  /** Removes what `store` kept, when the payload fails after all (best effort). */
  discard(stored: readonly T[]): Promise<void>;
}

export class CodecovPayloadError extends Error {
  constructor(
    message: string,
    /** True when a size bound was crossed (answered 413), false for a malformed payload (400). */
    readonly tooLarge = false,
  ) {
    super(message);
    this.name = 'CodecovPayloadError';
  }
}

export interface PayloadLimits {
  /** Largest payload or report once inflated, in bytes. */
  maxInflatedBytes: number;
  /** Most coverage files one payload may carry. */
  maxFiles: number;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = { maxInflatedBytes: 1024 * 1024 * 1024, maxFiles: 1000 };


/** Counts inflated bytes across the whole payload (one bound for the sum, as before streaming). */
export class InflatedBudget {
  private used = 0;
  constructor(readonly limit: number) {}
  take(n: number, what: string): void {
    this.used += n;
    if (this.used > this.limit) throw new CodecovPayloadError(`${what} inflates past ${this.limit} bytes`, true);
  }
}

/** A readable of chunks that can be peeked at and pushed back. */
export class ChunkReader {
  private readonly iterator: AsyncIterator<Buffer | string>;
  private readonly pending: Buffer[] = [];
  constructor(source: AsyncIterable<Buffer | string>) {
    this.iterator = source[Symbol.asyncIterator]();
  }
  async next(): Promise<Buffer | undefined> {
    const held = this.pending.pop();
    if (held !== undefined) return held;
    for (;;) {
      const { value, done } = await this.iterator.next();
      if (done === true) return undefined;
      const buf = typeof value === 'string' ? Buffer.from(value) : value;
      if (buf.byteLength > 0) return buf;
    }
  }
  unshift(chunk: Buffer): void {
    if (chunk.byteLength > 0) this.pending.push(chunk);
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (let c = await this.next(); c !== undefined; c = await this.next()) yield c;
  }
}


/**
 * One coverage file on its way to the sink: bytes written here are counted against the budget
 * and reach `sink.store`'s stream, with backpressure (a write waits while the store is behind).
 */
export class FileWriter<T> {
  readonly done: Promise<T>;
  bytes = 0;
  private readonly entry: Writable;
  private readonly out = new PassThrough();
  private failure: Error | undefined;

  constructor(sink: PayloadSink<T>, budget: InflatedBudget, what: string, decompress: boolean) {
    const counter = new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) => {
        try {
          budget.take(chunk.byteLength, what);
          this.bytes += chunk.byteLength;
          done(null, chunk);
        } catch (err) {
          done(err as Error);
        }
      },
    });
    counter.on('error', (err) => this.fail(err));
    counter.pipe(this.out);
    if (decompress) {
      const inflate = createInflate();
      inflate.on('error', (err) => this.fail(new CodecovPayloadError(`${what} is not valid compressed data: ${err.message}`)));
      inflate.pipe(counter);
      this.entry = inflate;
    } else {
      this.entry = counter;
    }
    this.done = sink.store(this.out).then(
      (body) => {
        if (this.failure !== undefined) throw this.failure;
        return body;
      },
      (err: unknown) => {
        throw this.failure ?? err;
      },
    );
    // Awaited by `end` or `abort`; until then a rejection must not count as unhandled.
    this.done.catch(() => undefined);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.out.destroy(this.failure);
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.entry.write(chunk)) return;
    await Promise.race([once(this.entry, 'drain'), this.done]);
    if (this.failure !== undefined) throw this.failure;
  }

  async end(): Promise<T> {
    this.entry.end();
    return this.done;
  }

  async abort(): Promise<void> {
    this.fail(new CodecovPayloadError('the payload ended in error'));
    await this.done.catch(() => undefined);
  }
}

/** A file list as stored: entries trimmed, blank ones dropped. */
export function cleanNetwork(paths: readonly string[]): string[] {
  return paths.map((p) => p.trim()).filter((p) => p !== '');
}

