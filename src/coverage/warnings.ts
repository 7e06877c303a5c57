/**
 * Per-line anomalies a parser recovered from. A report whose structure is sound keeps its good
 * lines when a few lines carry impossible numbers (gcov counter overflows, hand-edited files):
 * the line is skipped or its value clamped (docs/coverage-semantics.md has the rule per format
 * and field), and the anomaly is counted here. Damage to the structure stays a ReportParseError.
 */
export const PARSE_WARNING_CODES = [
  /** A hit count below zero (gcov counter overflow, hand edits): the line or entry is skipped. */
  'negative_count',
  /** A hit count that is not an integer (fraction, exponent, NaN, empty, text): skipped. */
  'non_integer_count',
  /** A hit count above `maxHits` (or past 2^53): clamped to `maxHits`, the line is kept. */
  'count_clamped',
  /** A line number that is not a positive integer (negative, 0 where lines start at 1, text): skipped. */
  'invalid_line_number',
  /** A line number above `maxLineNumber`: skipped. */
  'line_number_out_of_range',
  /** Branch counts that cannot be (more taken than exist, absurdly many): the line is skipped. */
  'invalid_branch_count',
  /** A line of the Codecov uploader's fixes that is none of its forms (or a bad number in them): ignored. */
  'invalid_fix',
] as const;
export type ParseWarningCode = (typeof PARSE_WARNING_CODES)[number];

/** Positions kept per code; the count goes on, so memory stays bounded whatever the input. */
export const MAX_WARNING_POSITIONS = 5;

/**
 * Where in the uploaded input an anomaly was found; which fields are set depends on the format.
 * The shapes' zod schemas (stored warnings, the API) are in warnings-schema.ts, checked against
 * these types there, so that parsing does not load zod.
 */
export interface ParseWarningPosition {
  /** 1-based line of the input (text formats, XML). */
  line?: number;
  /** 1-based column of the input, when known. */
  column?: number;
  /** 0-based byte offset in the decompressed input (XML). */
  offset?: number;
  /** JSON path of the value (JSON formats), e.g. `$.coverage["a.js"]["12"]`; at most 1000 characters. */
  path?: string;
  /** The source file the record belongs to, as the report names it, when known; at most 1000 characters. */
  source?: string;
  /** The record or attribute that held the value (`DA`, `hits`, `count`), when known; at most 100 characters. */
  field?: string;
}

export interface ParseWarning {
  code: ParseWarningCode;
  /** Positive. */
  count: number;
  /** At most MAX_WARNING_POSITIONS. */
  positions: ParseWarningPosition[];
}

const MAX_TEXT = 1000;

/**
 * Collects one input's warnings. Parsers call `add` only on the anomaly path; `wantsPosition`
 * lets them skip working out a position (which may scan a buffer) once enough are kept.
 */
export class ParseWarnings {
  private readonly byCode = new Map<ParseWarningCode, ParseWarning>();
  private total = 0;

  /** Counts one anomaly, keeping its position while fewer than MAX_WARNING_POSITIONS are kept. */
  add(code: ParseWarningCode, position?: ParseWarningPosition): void {
    this.total++;
    let w = this.byCode.get(code);
    if (w === undefined) this.byCode.set(code, (w = { code, count: 0, positions: [] }));
    w.count++;
    if (position !== undefined && w.positions.length < MAX_WARNING_POSITIONS) w.positions.push(clipPosition(position));
  }

  wantsPosition(code: ParseWarningCode): boolean {
    const w = this.byCode.get(code);
    return w === undefined || w.positions.length < MAX_WARNING_POSITIONS;
  }

  /** Anomalies counted so far, all codes together. */
  get count(): number {
    return this.total;
  }

  /** The warnings, one per code, in the order of PARSE_WARNING_CODES. */
  list(): ParseWarning[] {
    const out: ParseWarning[] = [];
    for (const code of PARSE_WARNING_CODES) {
      const w = this.byCode.get(code);
      if (w !== undefined) out.push({ code, count: w.count, positions: w.positions.map((p) => ({ ...p })) });
    }
    return out;
  }
}

function clipPosition(p: ParseWarningPosition): ParseWarningPosition {
  const out: ParseWarningPosition = {};
  if (p.line !== undefined) out.line = p.line;
  if (p.column !== undefined) out.column = p.column;
  if (p.offset !== undefined) out.offset = p.offset;
  if (p.path !== undefined) out.path = clip(p.path);
  if (p.source !== undefined) out.source = clip(p.source);
  if (p.field !== undefined) out.field = p.field.slice(0, 100);
  return out;
}

function clip(s: string): string {
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s;
}

/** A warning as clients read it: codes they do not know yet still print. */
export interface WarningLike {
  code: string;
  count: number;
  positions?: readonly ParseWarningPosition[];
}

/** Total anomalies of a warnings list. */
export function warningCount(warnings: readonly WarningLike[]): number {
  let n = 0;
  for (const w of warnings) n += w.count;
  return n;
}

/** `negative_count: 2 (line 4:6 DA in a.c, line 9:6 DA in a.c)`: the code, the count, the positions kept. */
export function describeWarning(w: WarningLike): string {
  const positions = w.positions ?? [];
  const at = positions.map(formatPosition).filter((s) => s !== '');
  const more = w.count > positions.length && at.length > 0 ? ', …' : '';
  return `${w.code}: ${w.count}${at.length > 0 ? ` (${at.join(', ')}${more})` : ''}`;
}

/** One line per code, `<where>: warning: <describeWarning>`, for terminals and logs. */
export function formatWarnings(warnings: readonly WarningLike[], where?: string): string[] {
  return warnings.map((w) => `${where === undefined ? '' : `${where}: `}warning: ${describeWarning(w)}`);
}

function formatPosition(p: ParseWarningPosition): string {
  const parts: string[] = [];
  if (p.line !== undefined) parts.push(`line ${p.line}${p.column !== undefined ? `:${p.column}` : ''}`);
  else if (p.offset !== undefined) parts.push(`byte ${p.offset}`);
  if (p.path !== undefined) parts.push(p.path);
  if (p.field !== undefined) parts.push(p.field);
  if (p.source !== undefined) parts.push(`in ${p.source}`);
  return parts.join(' ');
}
