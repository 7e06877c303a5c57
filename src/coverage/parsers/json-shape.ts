import { ReportParseError, type ParseErrorCode, type ReportParseErrorInit } from '../errors';
import type { FormatName, ParserContext } from '../types';

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
 */
export class JsonShape {
  constructor(
    private readonly format: FormatName,
    private readonly ctx: ParserContext,
  ) {}

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
   * A hit count: a non-negative integer. Counts beyond maxHits are clamped, since a huge count only
   * ever means "hit"; negative, fractional and non-numeric counts are errors.
   */
  hits(v: unknown, path: JsonPath): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || !Number.isInteger(v)) {
      this.fail(path, `expected a non-negative integer hit count, got ${describeValue(v)}`, 'invalid_number');
    }
    return v > this.ctx.limits.maxHits ? this.ctx.limits.maxHits : v;
  }

  /** A 1-based line number; 0 means "no line" in several tools and reads as null. */
  lineNumber(v: unknown, path: JsonPath): number | null {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      this.fail(path, `expected a line number, got ${describeValue(v)}`, 'invalid_number');
    }
    return this.checkLine(v, path);
  }

  /** A line number written as an object key or string ("12"). */
  lineKey(key: string, path: JsonPath): number | null {
    if (!/^[0-9]{1,16}$/.test(key)) this.fail(path, `expected a line number key, got ${describeValue(key)}`, 'invalid_number');
    return this.checkLine(Number(key), path);
  }

  private checkLine(n: number, path: JsonPath): number | null {
    if (n === 0) return null;
    if (n > this.ctx.limits.maxLineNumber) {
      this.fail(path, `line number ${n} exceeds maxLineNumber (${this.ctx.limits.maxLineNumber})`, 'limit_exceeded', 'maxLineNumber');
    }
    return n;
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
