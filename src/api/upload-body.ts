import { Transform, type Readable } from 'node:stream';
import { payloadTooLarge, requestTimeout } from './errors';

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
