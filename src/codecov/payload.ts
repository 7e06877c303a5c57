import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { isGzip } from '../shared/gzip-magic';
import { splitLegacy } from './payload-legacy';
import { ChunkReader, CodecovPayloadError, DEFAULT_PAYLOAD_LIMITS, InflatedBudget, type CodecovPayload, type PayloadLimits, type PayloadSink } from './payload-stream';
import { splitV1 } from './payload-v1';

/**
 * The payloads the Codecov uploaders PUT to the upload location, split into what Tributary
 * registers: one coverage report per file (in payload order), the repository's file list
 * ("network", for path resolution) and Codecov's line fixes. Two encodings exist:
 * - v1 JSON (codecov-cli's default sender): `{"coverage_files": [{"filename", "format":
 *   "base64+compressed", "data"}], "network_files": [...], "report_fixes": {"format": "legacy",
 *   "value": {path: {"eof", "lines"}}}}`, each file zlib-compressed then base64-encoded;
 * - the legacy text (`--legacy`, the bash and Node uploaders): optional `KEY=VALUE` lines closed by
 *   `<<<<<< ENV`, optional file list closed by `<<<<<< network`, then per report a `# path=<file>`
 *   line, its content and `<<<<<< EOF`; a section named `fixes` holds the fixes (src/codecov/fixes.ts).
 *   The Node uploader gzips the whole payload.
 * Streamed: a payload is read once, as it arrives, and each coverage file goes to its sink (the
 * blob store) while it is being read, so memory stays at a few chunks plus the file list and the
 * fixes, whatever the payload's size. Every bound is checked on the way; a payload that breaks the
 * format is a CodecovPayloadError naming what is wrong, and what its sinks stored is discarded.
 */

/**
 * Splits a payload as it streams, told apart by its first significant byte (JSON is an object;
 * the text never starts with `{`), gzip recognised from its magic. The source is read to its end
 * or to the first error; on an error, every file already stored is discarded before it throws.
 */
export async function splitPayload<T>(source: AsyncIterable<Buffer | string>, sink: PayloadSink<T>, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): Promise<CodecovPayload<T>> {
  const stored: T[] = [];
  const tracked: PayloadSink<T> = {
    store: async (content) => {
      const body = await sink.store(content);
      stored.push(body);
      return body;
    },
    discard: sink.discard,
  };
  try {
    // The gunzipped text and the files inside it are bounded apart, as each was before streaming.
    const text = await inflated(source, new InflatedBudget(limits.maxInflatedBytes));
    const budget = new InflatedBudget(limits.maxInflatedBytes);
    const first = await firstSignificantByte(text);
    if (first === undefined) throw new CodecovPayloadError('the payload is empty');
    return first === 0x7b ? await splitV1(text, tracked, limits, budget) : await splitLegacy(text, tracked, limits, budget);
  } catch (err) {
    await sink.discard(stored).catch(() => undefined);
    throw err;
  }
}


/** The payload's text: the source itself, or its gunzipped form (bounded) when it starts with gzip's magic. */
async function inflated(source: AsyncIterable<Buffer | string>, budget: InflatedBudget): Promise<ChunkReader> {
  const raw = new ChunkReader(source);
  let head: Buffer = Buffer.alloc(0);
  while (head.byteLength < 2) {
    const c = await raw.next();
    if (c === undefined) break;
    head = Buffer.concat([head, c]);
  }
  raw.unshift(head);
  if (!isGzip(head)) return raw;
  const gunzip = createGunzip();
  const feed = Readable.from(raw);
  let sourceError: unknown;
  feed.on('error', (err) => {
    sourceError = err;
    gunzip.destroy(err);
  });
  feed.pipe(gunzip);
  return new ChunkReader(
    (async function* () {
      try {
        for await (const chunk of gunzip as AsyncIterable<Buffer>) {
          budget.take(chunk.byteLength, 'the gzip payload');
          yield chunk;
        }
      } catch (err) {
        // The source's own failures (a size limit, a broken connection) pass as they are.
        if (sourceError !== undefined) throw sourceError;
        if (err instanceof CodecovPayloadError) throw err;
        throw new CodecovPayloadError(`the gzip payload is not valid compressed data: ${(err as Error).message}`);
      } finally {
        feed.unpipe(gunzip);
        gunzip.destroy();
      }
    })(),
  );
}

async function firstSignificantByte(text: ChunkReader): Promise<number | undefined> {
  const seen: Buffer[] = [];
  let found: number | undefined;
  for (let c = await text.next(); c !== undefined; c = await text.next()) {
    seen.push(c);
    const i = c.findIndex((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    if (i !== -1) {
      found = c[i];
      break;
    }
  }
  for (let i = seen.length - 1; i >= 0; i--) text.unshift(seen[i]!);
  return found;
}
