/**
 * The one walk over a serialized report's framing: decompression (capped), magic and version,
 * the header record, then each file record's length prefix, path and order, then the checksum
 * trailer. Readers and the serialized merge decode what it hands them; nothing else frames.
 */
import { z } from 'zod';
import { crc32 } from 'node:zlib';
import { gunzipCapped } from '../decompress';
import { isGzip } from '../../shared/gzip-magic';
import type { Session } from '../report';
import { ByteReader, Fail, readU32 } from './bytes';
import { OLDEST_VERSION, REPORT_FORMAT, REPORT_MAGIC, REPORT_VERSION, readOptions, type ReadOptions } from './format';

/** An opened report: decompressed, its magic, version and header record checked and read. */
export interface ReportHeader {
  /** Name used in error messages. */
  readonly name: string;
  /** The serialized report, decompressed, as a plain Uint8Array view. */
  readonly bytes: Uint8Array;
  readonly version: number;
  readonly sessions: Session[];
  readonly fileCount: number;
  /** Offset of the first file record's length prefix. */
  readonly filesAt: number;
}

/** One file record: its payload is `bytes[start, end)`, which begins with its path. */
export interface FileFrame {
  readonly path: string;
  readonly start: number;
  readonly end: number;
  /** Offset of the first byte after the path. */
  readonly body: number;
}

/**
 * Opens a serialized report (gzip detected from its magic bytes) up to its header, without
 * walking the file records or the checksum: `fileFrames` does. The decompressed bytes come back
 * in `bytes`, so a caller that goes on to read or merge the report inflates it only once.
 */
export function readReportHeader(input: Uint8Array, options: ReadOptions = {}): ReportHeader {
  const { name, maxBytes } = readOptions(options);
  const raw = isGzip(input) ? gunzipCapped(input, maxBytes, name, REPORT_FORMAT) : input;
  // A plain view: Buffer#subarray is much slower than Uint8Array#subarray, and we take many.
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  const fail = new Fail(name, 0);
  if (bytes.length > maxBytes) throw fail.error('limit_exceeded', `report exceeds ${maxBytes} bytes`, 0, 'maxDecompressedBytes');
  if (bytes.length < 5) throw fail.error('truncated', 'report ends before its header', bytes.length);
  const version = checkMagic(bytes, fail);
  const [start, end] = record(bytes, 5, fail);
  const { sessions, fileCount } = decodeHeader(bytes.subarray(start, end), new Fail(name, start));
  return { name, bytes, version, sessions, fileCount, filesAt: end };
}

/**
 * The report's file records in order, each with its path read and checked to follow the last;
 * after the last one the trailer must be exactly the CRC-32 of everything before it. Nothing is
 * decoded beyond paths, so a caller that gathers every frame first decodes only checked bytes.
 */
export function* fileFrames(header: ReportHeader): Generator<FileFrame> {
  const { bytes, name, fileCount } = header;
  const fail = new Fail(name, 0);
  let pos = header.filesAt;
  let prev: string | undefined;
  for (let i = 0; i < fileCount; i++) {
    if (pos >= bytes.length) throw fail.error('truncated', `report ends after ${i} of ${fileCount} files`, pos);
    const [start, end] = record(bytes, pos, fail);
    const r = new ByteReader(bytes.subarray(start, end), new Fail(name, start));
    const path = r.string();
    if (prev !== undefined && !(prev < path)) throw fail.error('invalid_syntax', `file ${path} out of order`, start);
    prev = path;
    pos = end;
    yield { path, start, end, body: start + r.pos };
  }
  if (bytes.length - pos < 4) throw fail.error('truncated', 'report ends before its checksum', pos);
  if (bytes.length - pos > 4) throw fail.error('invalid_syntax', 'trailing bytes after the checksum', pos + 4);
  if ((crc32(bytes.subarray(0, pos)) >>> 0) !== readU32(bytes, pos)) throw fail.error('invalid_syntax', 'checksum mismatch', pos);
}

/** The payload extent of the length-prefixed record at `pos`. */
function record(bytes: Uint8Array, pos: number, fail: Fail): [number, number] {
  if (bytes.length - pos < 4) throw fail.error('truncated', 'report ends inside a record length', pos);
  const len = readU32(bytes, pos);
  const start = pos + 4;
  if (len > bytes.length - start) throw fail.error('truncated', 'record runs past the end of the report', pos);
  return [start, start + len];
}

/** Checks the magic bytes; returns the report's version. */
function checkMagic(b: Uint8Array, fail: Fail): number {
  for (let i = 0; i < 4; i++) {
    if (b[i] !== REPORT_MAGIC[i]) throw fail.error('invalid_syntax', 'not a Tributary report (bad magic)', 0);
  }
  const v = b[4]!;
  if (v < OLDEST_VERSION || v > REPORT_VERSION) throw fail.error('invalid_syntax', `unsupported report version ${v}`, 4);
  return v;
}

const SessionMetaSchema = z
  .object({
    format: z.string().optional(),
    file: z.string().optional(),
    name: z.string().optional(),
    flags: z.array(z.string()).optional(),
    build: z.string().optional(),
    job: z.string().optional(),
    provider: z.string().optional(),
    ciUrl: z.string().optional(),
    time: z.string().optional(),
    state: z.string().optional(),
    type: z.enum(['uploaded', 'carriedforward']).optional(),
    carriedFrom: z.string().optional(),
  })
  .strict();

function decodeHeader(payload: Uint8Array, fail: Fail): { sessions: Session[]; fileCount: number } {
  const r = new ByteReader(payload, fail);
  const count = r.varint();
  if (count > payload.length) throw fail.error('invalid_syntax', `session count ${count} exceeds the record`, 0);
  const sessions: Session[] = [];
  let prev = -1;
  for (let i = 0; i < count; i++) {
    const at = r.pos;
    const id = r.varint();
    if (id <= prev || id > 0xffffffff) throw fail.error('invalid_syntax', `session id ${id} out of order`, at);
    prev = id;
    const text = r.string();
    let meta: unknown;
    try {
      meta = JSON.parse(text);
    } catch {
      throw fail.error('invalid_syntax', `session ${id} metadata is not JSON`, at);
    }
    const parsed = SessionMetaSchema.safeParse(meta);
    if (!parsed.success) throw fail.error('invalid_syntax', `session ${id} metadata is malformed`, at);
    sessions.push({ ...dropUndefined(parsed.data), id });
  }
  const fileCount = r.varint();
  if (!r.done) throw fail.error('invalid_syntax', 'header record has trailing bytes', r.pos);
  return { sessions, fileCount };
}

function dropUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
