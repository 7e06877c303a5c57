/**
 * A commit report's per-file totals, the companion the finisher stores next to each commit
 * report (`keys.reportTotals`), so the commit page's tree is read from a record per file instead
 * of decoding every line of every session: its cost follows the number of files, not the size of
 * the report. The report's own bytes are untouched; the totals are the ones the serialized merge
 * computed (`fileTotals` of each merged file), so they equal those of the report read back.
 *
 * Layout (integers unsigned LEB128 varints):
 *   "TRBT" u8:version
 *   fileCount, then per file in path order: string(path), hits, misses, partials, branches,
 *   methods, string(coverage)
 *   u32le CRC-32 of every preceding byte
 * `coverage` is stored although it is ratio(hits, lines): Codecov's exact rounding costs a few
 * microseconds a file, tens of milliseconds over 20,000 files, which is what this file saves.
 */
import { crc32 } from 'node:zlib';
import { gunzipCapped } from '../decompress';
import type { PathTotals } from '../totals';
import { isGzip } from '../../shared/gzip-magic';
import { ByteReader, ByteWriter, Fail, readU32 } from './bytes';
import { REPORT_FORMAT, readOptions, type ReadOptions } from './format';

export const FILE_TOTALS_MAGIC = Uint8Array.of(0x54, 0x52, 0x42, 0x54); // "TRBT"
export const FILE_TOTALS_VERSION = 1;

const COVERAGE = /^(?:100|0|\d{1,3}\.\d{5})$/;

/** Serializes per-file totals (uncompressed); `files` must be in path order, as a merge gives them. */
export function serializeFileTotals(files: readonly PathTotals[]): Uint8Array {
  const w = new ByteWriter();
  w.bytes(FILE_TOTALS_MAGIC);
  w.u8(FILE_TOTALS_VERSION);
  w.varint(files.length);
  let prev: string | undefined;
  for (const { path, totals: t } of files) {
    if (prev !== undefined && !(prev < path)) throw new RangeError(`file totals out of path order at ${path}`);
    prev = path;
    w.string(path);
    w.varint(t.hits);
    w.varint(t.misses);
    w.varint(t.partials);
    w.varint(t.branches);
    w.varint(t.methods);
    w.string(t.coverage);
  }
  w.u32(crc32(w.take()));
  return w.take();
}

/**
 * Reads per-file totals (gzip or not), every field checked: magic, version, path order, counts
 * that add up, the coverage string's shape and the checksum. Corrupt input is a ReportParseError.
 */
export function readFileTotals(input: Uint8Array, options: ReadOptions = {}): PathTotals[] {
  const { name, maxBytes } = readOptions(options);
  const raw = isGzip(input) ? gunzipCapped(input, maxBytes, name, REPORT_FORMAT) : input;
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  const fail = new Fail(name, 0);
  if (bytes.length < 5 + 1 + 4) throw fail.error('truncated', 'file totals end before their header', bytes.length);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== FILE_TOTALS_MAGIC[i]) throw fail.error('invalid_syntax', 'not Tributary file totals (bad magic)', 0);
  }
  if (bytes[4] !== FILE_TOTALS_VERSION) throw fail.error('invalid_syntax', `unsupported file totals version ${bytes[4]}`, 4);
  const end = bytes.length - 4;
  if ((crc32(bytes.subarray(0, end)) >>> 0) !== readU32(bytes, end)) throw fail.error('invalid_syntax', 'checksum mismatch', end);
  const r = new ByteReader(bytes.subarray(0, end), fail);
  r.pos = 5;
  const count = r.varint();
  // Each file takes at least 8 bytes (an empty path, five counts, a one-character coverage).
  if (count * 8 > end - r.pos) throw fail.error('invalid_syntax', `file count ${count} exceeds the data`, 5);
  const out: PathTotals[] = new Array<PathTotals>(count);
  let prev: string | undefined;
  for (let i = 0; i < count; i++) {
    const at = r.pos;
    const path = r.string();
    if (prev !== undefined && !(prev < path)) throw fail.error('invalid_syntax', `file ${path} out of order`, at);
    prev = path;
    const hits = r.varint();
    const misses = r.varint();
    const partials = r.varint();
    const branches = r.varint();
    const methods = r.varint();
    const coverage = r.string();
    const lines = hits + misses + partials;
    if (branches + methods > lines) throw fail.error('invalid_number', `${path}: more branch and method lines than lines`, at);
    if (!COVERAGE.test(coverage)) throw fail.error('invalid_syntax', `${path}: bad coverage ${JSON.stringify(coverage)}`, at);
    out[i] = { path, totals: { files: 1, lines, hits, misses, partials, branches, methods, coverage } };
  }
  if (!r.done) throw fail.error('invalid_syntax', 'trailing bytes before the checksum', r.pos);
  return out;
}
