import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { badRequest, payloadTooLarge, unsupportedMediaType } from './errors';
import { IdempotencyKeySchema } from './idempotency';
import { BodyIdleTimer, discardRawBodies, readBounded, streamToRawBlob } from './upload-body';
import { isGzip } from '../shared/gzip-magic';
import { addField, type RawFields } from './upload-metadata';
import type { BlobStore } from '../storage/blob-store';
import type { StoredRawBody } from '../services/register-upload';

/** One report as received: written to its raw blob as sent, and its part's file name for multipart. */
export interface ReceivedFile {
  body: StoredRawBody;
  filename?: string;
}

export interface ReceivedUpload {
  multipart: boolean;
  files: ReceivedFile[];
  /** The query parameters, then the form fields of a multipart body. */
  fields: RawFields;
}

export interface BodyLimits {
  /** TRIBUTARY_MAX_UPLOAD_BYTES, for the whole request. */
  maxBytes: number;
  /** TRIBUTARY_API_BODY_IDLE_TIMEOUT. */
  idleMs: number;
}

const ACCEPTED_ENCODINGS = new Set(['identity', 'gzip', 'x-gzip']);

/** The request's Idempotency-Key, or undefined; 400 when it is empty or too long. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  const parsed = IdempotencyKeySchema.safeParse(Array.isArray(header) ? header.join(',') : header);
  if (!parsed.success) throw badRequest('Idempotency-Key', 'Idempotency-Key must be 1 to 400 characters');
  return parsed.data;
}

/**
 * The reports of an upload request, raw or multipart, with its metadata fields (`fields` holds
 * the query's). Each report is streamed to a raw blob as it arrives; the caller registers them
 * (registerUploads deletes those it refuses). A request refused here leaves no blob behind.
 */
export async function readUploadBody(request: FastifyRequest, fields: RawFields, limits: BodyLimits, blobs: BlobStore): Promise<ReceivedUpload> {
  if (!request.isMultipart()) return { multipart: false, files: [{ body: await readRawBody(request, limits.maxBytes, blobs) }], fields };
  const files = await readMultipart(request, fields, limits, blobs);
  if (files.length === 0) throw badRequest('file', 'the multipart body has no file part');
  return { multipart: true, files, fields };
}

async function readRawBody(request: FastifyRequest, limit: number, blobs: BlobStore): Promise<StoredRawBody> {
  const type = request.headers['content-type'] ?? '';
  if (/^\s*multipart\//i.test(type)) {
    throw unsupportedMediaType(`${type.split(';')[0]} is not supported: send multipart/form-data or a raw body`);
  }
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (!ACCEPTED_ENCODINGS.has(encoding)) {
    throw unsupportedMediaType(`Content-Encoding ${encoding} is not supported: send gzip or plain bytes`);
  }
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw payloadTooLarge(limit);
  const stream = (request.body as Readable | undefined) ?? request.raw;
  const body = await streamToRawBlob(blobs, stream, { limit });
  const refusal =
    body.bytes === 0
      ? badRequest('body', 'the upload is empty')
      : // Stored as sent (the parser decompresses); only a body claiming gzip must look like it.
        encoding !== 'identity' && !isGzip(body.head)
        ? badRequest('body', 'Content-Encoding is gzip but the body is not gzip data')
        : undefined;
  if (refusal !== undefined) {
    await discardRawBodies(blobs, [body]);
    throw refusal;
  }
  return body;
}

async function readMultipart(request: FastifyRequest, fields: RawFields, { maxBytes: limit, idleMs }: BodyLimits, blobs: BlobStore): Promise<ReceivedFile[]> {
  // Multipart reads the request itself, past the server's idle guard: it gets a timer of its own.
  const idle = new BodyIdleTimer(idleMs);
  const parts = request.parts()[Symbol.asyncIterator]();
  const files: ReceivedFile[] = [];
  let total = 0;
  try {
    for (let next = await idle.race(parts.next()); next.done !== true; next = await idle.race(parts.next())) {
      const part = next.value;
      idle.touch();
      if (part.type === 'field') {
        if (typeof part.value !== 'string') throw badRequest(part.fieldname, `${part.fieldname}: expected text`);
        total += Buffer.byteLength(part.value);
        if (total > limit) throw payloadTooLarge(limit);
        addField(fields, part.fieldname, part.value);
        continue;
      }
      // The whole request counts against the limit, not each part alone.
      if (part.fieldname === 'files') {
        // The repository's file list is text the route parses: read, not stored as a report.
        const list = await idle.race(readBounded(part.file, limit - total, limit, idle));
        total += list.byteLength;
        addField(fields, 'files', list.toString('utf8'));
        continue;
      }
      const body = await streamToRawBlob(blobs, part.file, { limit: limit - total, reportedLimit: limit, idle });
      total += body.bytes;
      files.push({ body, filename: part.filename || undefined });
      if (body.bytes === 0) throw badRequest(part.fieldname, `${part.fieldname}: the file part is empty`);
    }
  } catch (err) {
    await discardRawBodies(blobs, files.map((f) => f.body));
    // As `for await` would: let the parser release the request (not awaited: a part may still
    // be waiting on a stalled client).
    void parts.return?.(undefined).catch(() => undefined);
    throw err;
  } finally {
    idle.stop();
  }
  return files;
}
