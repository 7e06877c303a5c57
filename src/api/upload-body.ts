import type { Readable } from 'node:stream';
import { payloadTooLarge } from './errors';

/**
 * Reads a stream into memory, refusing (413) as soon as it passes `limit` bytes, so a body never
 * costs more than the limit however much the client sends. The rest of an oversized body is
 * discarded rather than the stream destroyed: destroying a request also destroys its socket, and
 * the client would never see the 413 (the error answer closes the connection instead).
 */
export function readBounded(stream: Readable, limit: number, reportedLimit = limit): Promise<Buffer> {
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

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
