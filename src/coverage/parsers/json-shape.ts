import { ReportParseError, type ParseErrorCode, type ReportParseErrorInit } from '../errors';
import type { FormatName, ParserContext } from '../types';
import { ParseWarnings, type ParseWarningCode } from '../warnings';

/** A JSON path as segments; rendered to text only when an error is raised. */
export type JsonPath = readonly (string | number)[];

export function formatJsonPath(path: JsonPath): string {
  let out = '$';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg.length > 200 ? `${seg.slice(0, 200)}…` : seg)}]`;
  }
  return out;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}

export type JsonObject = Record<string, unknown>;

/**
 * A shape error before its position is known: the JSON collector, which still has the text,
 * locates `jsonPath` in it and rethrows with line and column (see locateJsonPath).
 */
export class JsonShapeError extends ReportParseError {
  constructor(
    readonly init: ReportParseErrorInit,
    readonly jsonPath: JsonPath,
  ) {
    super(init);
  }
}

/** Reads own properties only: report keys such as "__proto__" or "constructor" must stay data. */
export function own(obj: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Shape checks for parsed JSON documents. Every failure is a ReportParseError whose reason starts
 * with the JSON path of the offending value, since a parsed document no longer has line numbers.
 * A number of the right type but an impossible value (a negative or fractional count or line
 * number) is a per-line anomaly instead: a warning at its JSON path, and the caller skips the
 * entry (`null`).
 */
export class JsonShape {
  private readonly warnings: ParseWarnings;

  constructor(
    private readonly format: FormatName,
    private readonly ctx: ParserContext,
  ) {
    this.warnings = ctx.warnings ?? new ParseWarnings();
  }

  /** Counts a per-line anomaly at `path`. */
  warn(code: ParseWarningCode, path: JsonPath): void {
    if (!this.warnings.wantsPosition(code)) return this.warnings.add(code);
    this.warnings.add(code, { path: formatJsonPath(path) });
  }

  fail(path: JsonPath, reason: string, code: ParseErrorCode = 'invalid_syntax', limit?: string): never {
    throw new JsonShapeError(
      { code, file: this.ctx.fileName, format: this.format, reason: `${formatJsonPath(path)}: ${reason}`, limit },
      [...path],
    );
  }

  object(v: unknown, path: JsonPath): JsonObject {
    if (!isObject(v)) this.fail(path, `expected an object, got ${describeValue(v)}`);
    return v;
  }

  /** Like object(), but a missing or null value reads as empty (optional maps such as branchMap). */
  optionalObject(v: unknown, path: JsonPath): JsonObject {
    return v === undefined || v === null ? {} : this.object(v, path);
  }

  array(v: unknown, path: JsonPath): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${describeValue(v)}`);
    return v;
  }

  string(v: unknown, path: JsonPath): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${describeValue(v)}`);
    return v;
  }

  /**
   * A hit count: a non-negative integer. Counts beyond maxHits (or infinite) are clamped, since a
   * huge count only ever means "hit"; a negative or fractional count is a warning and null (skip
   * the entry); anything but a number is an error.
   */
  hits(v: unknown, path: JsonPath): number | null {
    if (typeof v !== 'number' || Number.isNaN(v)) {
      this.fail(path, `expected a non-negative integer hit count, got ${describeValue(v)}`, 'invalid_number');
    }
    if (v < 0) return this.skip('negative_count', path);
    if (v > this.ctx.limits.maxHits) {
      this.warn('count_clamped', path);
      return this.ctx.limits.maxHits;
    }
    return Number.isInteger(v) ? v : this.skip('non_integer_count', path);
  }

  /**
   * A 1-based line number; 0 means "no line" in several tools and reads as null. A negative or
   * fractional number, or one past maxLineNumber, is a warning and null; a non-number is an error.
   */
  lineNumber(v: unknown, path: JsonPath): number | null {
    if (typeof v !== 'number') this.fail(path, `expected a line number, got ${describeValue(v)}`, 'invalid_number');
    if (!Number.isInteger(v) || v < 0) return this.skip('invalid_line_number', path);
    return this.checkLine(v, path);
  }

  /**
   * A line number written as an object key or string ("12"); a key that is a malformed number
   * ("-3", "1.5") is a warning and null, other text an error.
   */
  lineKey(key: string, path: JsonPath): number | null {
    if (!/^[0-9]{1,16}$/.test(key)) {
      if (/^[0-9]+$/.test(key)) return this.skip('line_number_out_of_range', path);
      if (/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(key)) return this.skip('invalid_line_number', path);
      this.fail(path, `expected a line number key, got ${describeValue(key)}`, 'invalid_number');
    }
    return this.checkLine(Number(key), path);
  }

  private checkLine(n: number, path: JsonPath): number | null {
    if (n === 0) return null;
    if (n > this.ctx.limits.maxLineNumber) return this.skip('line_number_out_of_range', path);
    return n;
  }

  private skip(code: ParseWarningCode, path: JsonPath): null {
    this.warn(code, path);
    return null;
  }
}

/**
 * Index in `text` (valid JSON) of the value at `path`, or of its deepest ancestor present in the
 * document when the path leads to a missing key. Only run on the error path; linear in the text.
 */
export function locateJsonPath(text: string, path: JsonPath): number {
  const n = text.length;
  let i = 0;
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const skipString = (): void => {
    i++;
    while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const skipValue = (): void => {
    const c = text[i];
    if (c === '"') return skipString();
    if (c === '{' || c === '[') {
      let depth = 0;
      while (i < n) {
        const d = text[i];
        if (d === '"') {
          skipString();
          continue;
        }
        if (d === '{' || d === '[') depth++;
        else if (d === '}' || d === ']') {
          depth--;
          if (depth === 0) {
            i++;
            return;
          }
        }
        i++;
      }
      return;
    }
    while (i < n && !',}] \n\r\t'.includes(text[i]!)) i++;
  };
  ws();
  for (const seg of path) {
    const at = i;
    const open = text[i];
    if ((open === '{' && typeof seg === 'string') || (open === '[' && typeof seg === 'number')) {
      i++;
      let found = false;
      for (let index = 0; ; index++) {
        ws();
        if (text[i] === '}' || text[i] === ']' || i >= n) break;
        let key: string | number = index;
        if (open === '{') {
          const start = i;
          skipString();
          key = JSON.parse(text.slice(start, i)) as string;
          ws();
          i++; // ':'
          ws();
        }
        if (key === seg) {
          found = true;
          break;
        }
        skipValue();
        ws();
        if (text[i] === ',') i++;
      }
      if (!found) return at;
    } else {
      return at;
    }
  }
  return i;
}
