/**
 * Tributary's report format: compact, deterministic and versioned, for intermediate (per-upload)
 * and commit reports. Equal reports serialize to identical bytes: files in path order, lines in
 * number order, entries in session order, session metadata as JSON with sorted keys.
 *
 * Layout (integers are unsigned LEB128 varints unless noted):
 *   "TRBR" u8:version
 *   u32le:length header   header = sessionCount, per session: id, string(JSON of the other
 *                         fields); then fileCount
 *   u32le:length file     x fileCount, in path order; one record per file lets a reader hold
 *                         one file at a time
 *   u32le CRC-32 of every preceding byte
 * file = string(path), lineCount, then per line: line - previousLine, entryCount, and per entry:
 *   session id (first absolute, then minus previous minus 1), u8 tag, value, [extras]
 *   tag bits 0-1 line type, 2-3 kind (0 count, 1 fraction, 2 true, 3 skipped), 4 has extras
 *   value: count -> hits; fraction -> covered, total; true / skipped -> nothing
 *   extras = u8 bits (1 missing branches, 2 partials, 4 complexity n, 8 complexity [a, b],
 *   16 branch scheme), then missing: count, strings; partials: count, (start+1 | 0, end+1 | 0,
 *   hits) each; complexity; scheme: string
 * Version 2 added the branch scheme (bit 16); version 1 reports are still read.
 * string(s) = varint byteLength, UTF-8 bytes.
 *
 * Storage wraps it in gzip (`compressReport`); readers detect gzip by its magic bytes and bound
 * the decompressed size. Corrupt, truncated or oversized input ends in a ReportParseError with
 * format 'tributary-report', never a crash.
 */
import { DEFAULT_LIMITS } from '../limits';

export const REPORT_FORMAT = 'tributary-report';
export const REPORT_MAGIC = Uint8Array.of(0x54, 0x52, 0x42, 0x52); // "TRBR"
export const REPORT_VERSION = 2;
/** Oldest version still read: version 1 has no branch schemes (its lists read as unnamed). */
export const OLDEST_VERSION = 1;

export interface ReadOptions {
  /** Name used in error messages. */
  name?: string;
  /** Bound on the (decompressed) serialized size; defaults to the parse limit maxDecompressedBytes. */
  maxBytes?: number;
}

export function readOptions(options: ReadOptions): { name: string; maxBytes: number } {
  return { name: options.name ?? '<report>', maxBytes: options.maxBytes ?? DEFAULT_LIMITS.maxDecompressedBytes };
}
