import { crc32 } from 'node:zlib';
import { ReportMergeError, mergeFiles } from '../merge';
import { ColumnSlab } from '../columns';
import { CoverageReport, comparePaths, type Session } from '../report';
import type { FileCoverage } from '../file-coverage';
import { fileTotals, sumTotals, type PathTotals, type ReportTotals } from '../totals';
import { ByteWriter, Fail } from './bytes';
import { decodeFile, encodeFileInto, sessionBitmap, type ExtrasCache } from './file-record';
import { readOptions, type ReadOptions } from './format';
import { fileFrames, readReportHeader, type FileFrame, type ReportHeader } from './frames';
import { writeStart } from './writer';

export interface SerializedMergeResult {
  /** The merged report, serialized (not compressed). */
  bytes: Uint8Array;
  totals: ReportTotals;
  /** Each file's totals in path order (what `serializeFileTotals` stores next to a commit report). */
  files: PathTotals[];
  sessions: Session[];
  fileCount: number;
}

interface IndexedInput {
  header: ReportHeader;
  known: Uint8Array;
  cache: ExtrasCache;
}

/**
 * Merges serialized reports (gzip or not) into a serialized report plus its totals, one path at
 * a time: each input's framing is walked to its checksum and its file records listed, then for
 * every path in order the inputs' records are decoded, merged, totalled and written out. Only
 * one path's files are ever decoded, so memory stays near the size of the inputs and output
 * bytes; the result is byte-identical to `serializeReport(mergeReports(inputs.map(readReport)))`.
 */
export function mergeSerializedReports(inputs: readonly Uint8Array[], options: ReadOptions = {}): SerializedMergeResult {
  const { name: base, maxBytes } = readOptions(options);
  const indexed: IndexedInput[] = [];
  const byPath = new Map<string, Array<{ input: number; frame: FileFrame }>>();
  const sessions = new Map<number, Session>();
  inputs.forEach((input, i) => {
    const header = readReportHeader(input, { name: inputs.length === 1 ? base : `${base}#${i}`, maxBytes });
    for (const s of header.sessions) {
      if (sessions.has(s.id)) throw new ReportMergeError(`session ${s.id} appears in more than one report`);
      sessions.set(s.id, s);
    }
    indexed.push({ header, known: sessionBitmap(header.sessions), cache: new Map() });
    // Every frame is listed (and the checksum checked) before anything is decoded.
    for (const frame of fileFrames(header)) {
      const ref = { input: i, frame };
      const list = byPath.get(frame.path);
      if (list === undefined) byPath.set(frame.path, [ref]);
      else list.push(ref);
    }
  });
  const paths = [...byPath.keys()].sort(comparePaths);
  const fileCount = paths.length;
  // The report constructor validates and normalises the sessions exactly as `serializeReport` sees them.
  const ordered = new CoverageReport([], sessions.values()).sessions;
  const w = new ByteWriter();
  writeStart(w, ordered, fileCount);

  const slab = new ColumnSlab();
  const files: PathTotals[] = [];
  for (const path of paths) {
    const refs = byPath.get(path)!;
    const decoded: FileCoverage[] = [];
    for (const { input, frame } of refs) {
      const { header, known, cache } = indexed[input]!;
      decoded.push(decodeFile(header.bytes, frame, new Fail(header.name, frame.start), known, cache, slab, header.version));
    }
    const merged = decoded.length === 1 ? decoded[0]! : mergeFiles(path, decoded, slab);
    files.push({ path, totals: fileTotals(merged) });
    encodeFileInto(w, merged);
    slab.reset();
  }
  w.u32(crc32(w.take()));
  return { bytes: w.take(), totals: { ...sumTotals(files.map((f) => f.totals)), sessions: ordered.length }, files, sessions: [...ordered], fileCount };
}
