import { crc32, gzipSync } from 'node:zlib';
import type { CoverageReport, Session } from '../report';
import { ByteWriter } from './bytes';
import { encodeFileInto } from './file-record';
import { REPORT_MAGIC, REPORT_VERSION } from './format';

/** Magic, version and the header record: the sessions (in id order) and the file count. */
export function writeStart(w: ByteWriter, sessions: readonly Session[], fileCount: number): void {
  w.bytes(REPORT_MAGIC);
  w.u8(REPORT_VERSION);
  const at = w.beginRecord();
  w.varint(sessions.length);
  for (const s of sessions) {
    w.varint(s.id);
    const { id: _id, ...meta } = s;
    w.string(canonicalJson(meta));
  }
  w.varint(fileCount);
  w.endRecord(at);
}

/** The serialized report as a sequence of chunks: header, one per file, trailer. */
export function* serializeReportChunks(report: CoverageReport): Generator<Uint8Array> {
  const head = new ByteWriter();
  writeStart(head, report.sessions, report.fileCount);
  let crc = crc32(head.take());
  yield head.take();
  for (const f of report) {
    const w = new ByteWriter();
    encodeFileInto(w, f);
    crc = crc32(w.take(), crc);
    yield w.take();
  }
  const tail = new ByteWriter();
  tail.u32(crc);
  yield tail.take();
}

export function serializeReport(report: CoverageReport): Uint8Array {
  const w = new ByteWriter();
  writeStart(w, report.sessions, report.fileCount);
  for (const f of report) encodeFileInto(w, f);
  w.u32(crc32(w.take()));
  return w.take();
}

/**
 * gzip of the serialized report, for storage; a serialized report of at most `plainUpTo` bytes is
 * stored as it is (readers take both), where gzip's set-up would cost more than it saves.
 */
export function compressReport(report: CoverageReport, level = 6, plainUpTo = 0): Uint8Array {
  return compressSerialized(serializeReport(report), level, plainUpTo);
}

/** `compressReport` of a report serialized already (a merge's output, say). */
export function compressSerialized(bytes: Uint8Array, level = 6, plainUpTo = 0): Uint8Array {
  return bytes.byteLength <= plainUpTo ? bytes : gzipSync(bytes, { level });
}

/** JSON with object keys sorted at every level and undefined members left out. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}
