/** Tributary's serialized report format (the layout is described in `format.ts`). */
export { REPORT_FORMAT, REPORT_MAGIC, REPORT_VERSION, type ReadOptions } from './format';
export { canonicalJson, compressReport, compressSerialized, serializeReport, serializeReportChunks } from './writer';
export { readReportHeader, type ReportHeader } from './frames';
export { readReport } from './reader';
export { mergeSerializedReports, type SerializedMergeResult } from './merge';
export { FILE_TOTALS_MAGIC, FILE_TOTALS_VERSION, readFileTotals, serializeFileTotals } from './file-totals';
