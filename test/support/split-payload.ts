import { Readable } from 'node:stream';
import { splitPayload } from '../../src/codecov/payload';
import type { CodecovPayload, PayloadLimits, PayloadSink } from '../../src/codecov/payload-stream';

/** A sink keeping each coverage file in memory, and what it was asked to discard. */
export function memorySink(): PayloadSink<Buffer> & { discarded: Buffer[] } {
  const discarded: Buffer[] = [];
  return {
    discarded,
    async store(content) {
      const chunks: Buffer[] = [];
      for await (const c of content) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    async discard(stored) {
      discarded.push(...stored);
    },
  };
}

/**
 * Splits a payload held in memory through the streaming splitter, fed in chunks of `chunkSize`
 * bytes (1 puts every boundary, markers and base64 groups included, across two chunks).
 */
export function splitBuffered(body: Buffer, limits?: PayloadLimits, chunkSize = 64 * 1024): Promise<CodecovPayload<Buffer>> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += chunkSize) chunks.push(body.subarray(i, i + chunkSize));
  return splitPayload(Readable.from(chunks), memorySink(), limits);
}
