/**
 * Every malformed input ends in one of these: never a crash, a hang or a bare `Error`. The
 * pipeline turns it into an upload error with `code` and `message`; the CLI prints `message`.
 */
export type ParseErrorCode =
  | 'unknown_format'
  | 'report_empty'
  | 'invalid_syntax'
  | 'invalid_number'
  | 'invalid_utf8'
  | 'unsafe_xml'
  | 'truncated'
  | 'limit_exceeded';

export interface ParsePosition {
  /** 1-based line of the input where the problem was found. */
  line?: number;
  /** 1-based column, when known. */
  column?: number;
  /** 0-based byte offset, when known. */
  offset?: number;
}

export interface ReportParseErrorInit extends ParsePosition {
  code: ParseErrorCode;
  /** The input's name as the user gave it (upload name or CLI argument). */
  file: string;
  /** The format being parsed, or 'unknown' before detection. */
  format: string;
  reason: string;
  /** Name of the `ParseLimits` key that was exceeded, for `limit_exceeded`. */
  limit?: string;
}

export class ReportParseError extends Error {
  readonly code: ParseErrorCode;
  readonly file: string;
  readonly format: string;
  readonly reason: string;
  readonly line?: number;
  readonly column?: number;
  readonly offset?: number;
  readonly limit?: string;

  constructor(init: ReportParseErrorInit) {
    super(formatMessage(init));
    this.name = 'ReportParseError';
    this.code = init.code;
    this.file = init.file;
    this.format = init.format;
    this.reason = init.reason;
    this.line = init.line;
    this.column = init.column;
    this.offset = init.offset;
    this.limit = init.limit;
  }
}

function formatMessage(e: ReportParseErrorInit): string {
  const where =
    e.line !== undefined
      ? `:${e.line}${e.column !== undefined ? `:${e.column}` : ''}`
      : e.offset !== undefined
        ? ` (byte ${e.offset})`
        : '';
  return `${e.file}${where}: ${e.format}: ${e.reason}`;
}

export function isReportParseError(err: unknown): err is ReportParseError {
  return err instanceof ReportParseError;
}
