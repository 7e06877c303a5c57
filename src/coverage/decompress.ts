import { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { ReportParseError } from './errors';
import type { ParseLimits } from './limits';
import { isGzip } from '../shared/gzip-magic';

/**
 * The capped gunzip, in the two forms its callers need: `decompressInput` streams untrusted
 * uploads (larger than memory should hold, so never inflated whole, and bounded by ratio too);
 * `gunzipCapped` inflates a stored report that is read whole anyway, in one native call that
 * stops at the cap. Both name the limit and classify corrupt data the same way.
 */

export interface DecompressContext {
  fileName: string;
  limits: ParseLimits;
}

function decompressedTooLarge(file: string, format: string, maxBytes: number): ReportParseError {
  return new ReportParseError({
    code: 'limit_exceeded',
    file,
    format,
    offset: maxBytes,
    reason: `decompressed input larger than maxDecompressedBytes (${maxBytes} bytes)`,
    limit: 'maxDecompressedBytes',
  });
}

function errorCode(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}

function corruptGzip(err: unknown, file: string, format: string, offset?: number): ReportParseError {
  const message = err instanceof Error ? err.message : String(err);
  const truncated = errorCode(err) === 'Z_BUF_ERROR' || /unexpected end/i.test(message);
  return new ReportParseError({
    code: truncated ? 'truncated' : 'invalid_syntax',
    file,
    format,
    offset,
    reason: `corrupt gzip data: ${message}`,
  });
}

/**
 * Gunzips a whole buffer, inflating at most `maxBytes`. `format` is the one errors name: the
 * caller knows what the compressed bytes were meant to be.
 */
export function gunzipCapped(bytes: Uint8Array, maxBytes: number, file: string, format: string): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    if (errorCode(err) === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw decompressedTooLarge(file, format, maxBytes);
    throw corruptGzip(err, file, format);
  }
}

/**
 * Passes the input through, gunzipping it when it starts with the gzip magic bytes. Counts raw
 * bytes against `maxInputBytes`, inflated bytes against `maxDecompressedBytes`, and, past
 * `compressionRatioFloorBytes`, inflated bytes per compressed byte consumed against
 * `maxCompressionRatio`. The inflater is stopped as soon as a limit is crossed, so a gzip bomb
 * costs at most one output chunk beyond it, and is refused after the floor rather than at the cap.
 */
export async function* decompressInput(
  input: AsyncIterable<Uint8Array>,
  ctx: DecompressContext,
): AsyncGenerator<Uint8Array> {
  const source = countInput(input, ctx);
  // Two bytes decide; gather them even if the first chunks are tiny.
  const buffered: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < 2) {
    const r = await source.next();
    if (r.done) {
      done = true;
      break;
    }
    // Copied: held across the next read, and the source may reuse its buffer (see parseReport).
    buffered.push(Uint8Array.prototype.slice.call(r.value));
    size += r.value.byteLength;
  }
  if (size === 0) return;
  const head = buffered.length === 1 ? buffered[0] : Buffer.concat(buffered);
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield head;
    if (!done) yield* source;
  }
  if (!isGzip(head)) {
    yield* rest();
    return;
  }
  yield* gunzip(rest(), ctx);
}

async function* countInput(input: AsyncIterable<Uint8Array>, ctx: DecompressContext): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of input) {
    total += chunk.byteLength;
    if (total > ctx.limits.maxInputBytes) {
      throw new ReportParseError({
        code: 'limit_exceeded',
        file: ctx.fileName,
        format: 'unknown',
        offset: ctx.limits.maxInputBytes,
        reason: `input larger than maxInputBytes (${ctx.limits.maxInputBytes} bytes)`,
        limit: 'maxInputBytes',
      });
    }
    if (chunk.byteLength > 0) yield chunk;
  }
}

async function* gunzip(input: AsyncGenerator<Uint8Array>, ctx: DecompressContext): AsyncGenerator<Uint8Array> {
  const inflater = createGunzip();
  let sourceError: unknown = null;
  const readable = Readable.from(
    (async function* () {
      try {
        // The inflater reads its input later than the source moves on: each chunk is copied,
        // because the source may reuse its buffer (see parseReport).
        for await (const chunk of input) yield Uint8Array.prototype.slice.call(chunk);
      } catch (err) {
        sourceError = err;
        throw err;
      }
    })(),
    { objectMode: false },
  );
  readable.on('error', (err) => inflater.destroy(err));
  readable.pipe(inflater);
  const { maxCompressionRatio, compressionRatioFloorBytes, maxDecompressedBytes } = ctx.limits;
  let total = 0;
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      // bytesWritten is what the engine has consumed, not what was queued: the input may be one
      // large buffer written at once, and the ratio must compare output with the input behind it.
      if (total > compressionRatioFloorBytes && total > maxCompressionRatio * Math.max(1, inflater.bytesWritten)) {
        throw new ReportParseError({
          code: 'limit_exceeded',
          file: ctx.fileName,
          format: 'gzip',
          offset: inflater.bytesWritten,
          reason: `gzip data inflates more than maxCompressionRatio (${maxCompressionRatio}x: ${total} bytes from ${inflater.bytesWritten})`,
          limit: 'maxCompressionRatio',
        });
      }
      if (total > maxDecompressedBytes) throw decompressedTooLarge(ctx.fileName, 'gzip', maxDecompressedBytes);
      yield chunk;
    }
  } catch (err) {
    if (sourceError) throw sourceError;
    if (err instanceof ReportParseError) throw err;
    throw corruptGzip(err, ctx.fileName, 'gzip', total);
  } finally {
    readable.unpipe(inflater);
    readable.destroy();
    inflater.destroy();
  }
}
