/**
 * Public API of the coverage engine: parse uploads into single-session reports, merge them, total
 * them and print or store them. Pure TypeScript with no workflow-engine imports, so activities,
 * the CLI and tests share it.
 */
export * from './types';
export * from './errors';
export * from './limits';
export * from './warnings';
export { parseReport, type ParseReportOptions, type ParseReportResult } from './parse';
export { detectFormat, sniffFormat, DETECT_BYTES } from './detect';
export { decompressInput, isGzip, type DecompressContext } from './decompress';
export { createPathResolver, normalizePath, type PathResolverOptions, type ConfiguredPathResolver } from './paths';
export { PARSERS, parserFor } from './parsers';
export { createSessionBuilder, type SessionBuilder, type SessionBuilderOptions } from './builder';
export { CoverageReport, FileCoverage, emptyReport, type Session, type SessionMeta } from './report';
export { mergeReports, ReportMergeError } from './merge';
export { fileTotals, reportTotals, sumTotals, type CoverageTotals, type ReportTotals } from './totals';
export { addSessionWarnings, toParseJson, toSummaryJson, type ParseJson, type SummaryJson, type FileJson, type SessionJson } from './json-output';
export {
  REPORT_FORMAT,
  REPORT_MAGIC,
  REPORT_VERSION,
  serializeReport,
  serializeReportChunks,
  compressReport,
  readReport,
  readReportHeader,
  type ReadOptions,
  type ReportHeader,
} from './report-format';
