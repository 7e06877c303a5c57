import { ColumnSlab } from '../columns';
import { CoverageReport } from '../report';
import type { FileCoverage } from '../file-coverage';
import { Fail } from './bytes';
import { decodeFile, sessionBitmap, type ExtrasCache } from './file-record';
import type { ReadOptions } from './format';
import { fileFrames, readReportHeader } from './frames';

/** Reads a whole serialized report (gzip-compressed or not). */
export function readReport(input: Uint8Array, options: ReadOptions = {}): CoverageReport {
  const header = readReportHeader(input, options);
  const { bytes, name, version } = header;
  const known = sessionBitmap(header.sessions);
  const cache: ExtrasCache = new Map();
  const slab = new ColumnSlab();
  const files: FileCoverage[] = [];
  for (const frame of fileFrames(header)) {
    files.push(decodeFile(bytes, frame, new Fail(name, frame.start), known, cache, slab, version));
  }
  return new CoverageReport(files, header.sessions);
}
