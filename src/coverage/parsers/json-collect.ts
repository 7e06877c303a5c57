import { ReportParseError } from '../errors';
import type { FormatName, ParserContext, PushParser } from '../types';
import { JsonShapeError, locateJsonPath } from './json-shape';

/**
 * JSON coverage formats are small next to LCOV or XML and their shapes need random access
 * (Istanbul's `s` is keyed by ids from `statementMap`), so they are buffered and parsed in one go.
 * The buffer is bounded by `maxJsonBytes`, which is what keeps a hostile upload from costing
 * unbounded memory.
 */
export function createJsonCollector(
  format: FormatName,
  ctx: ParserContext,
  onDocument: (doc: unknown) => void,
): PushParser {
  let chunks: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  return {
    write(chunk: Uint8Array): void {
      if (ended) throw new Error('write() after end()');
      size += chunk.byteLength;
      if (size > ctx.limits.maxJsonBytes) {
        chunks = [];
        throw new ReportParseError({
          code: 'limit_exceeded',
          file: ctx.fileName,
          format,
          offset: ctx.limits.maxJsonBytes,
          reason: `JSON document larger than maxJsonBytes (${ctx.limits.maxJsonBytes} bytes)`,
          limit: 'maxJsonBytes',
        });
      }
      if (chunk.byteLength > 0) chunks.push(chunk);
    },
    end(): void {
      if (ended) return;
      ended = true;
      const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      chunks = [];
      const text = decodeJson(bytes, format, ctx.fileName);
      const doc = parseJsonText(text, format, ctx.fileName);
      try {
        onDocument(doc);
      } catch (err) {
        if (!(err instanceof JsonShapeError)) throw err;
        // Name the line of the offending value, as the text formats do.
        throw new ReportParseError({ ...err.init, ...positionInText(text, locateJsonPath(text, err.jsonPath)) });
      }
    },
  };
}

/** Decodes strict UTF-8 and parses JSON, turning every failure into a positioned ReportParseError. */
export function parseJsonBytes(bytes: Uint8Array, format: string, fileName: string): unknown {
  return parseJsonText(decodeJson(bytes, format, fileName), format, fileName);
}

function decodeJson(bytes: Uint8Array, format: string, fileName: string): string {
  try {
    // fatal: invalid UTF-8 is an error rather than silently becoming U+FFFD in file paths.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8Offset(bytes);
    const pos = positionOfByte(bytes, offset);
    throw new ReportParseError({
      code: 'invalid_utf8',
      file: fileName,
      format,
      ...pos,
      offset,
      reason: 'invalid UTF-8 byte sequence',
    });
  }
}

function parseJsonText(text: string, format: string, fileName: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw jsonSyntaxError(err, text, format, fileName);
  }
}

function jsonSyntaxError(err: unknown, text: string, format: string, fileName: string): ReportParseError {
  // V8's messages do not always carry a position (and quote the input), so locate the error ourselves.
  const found = findJsonSyntaxError(text);
  const message = err instanceof Error ? err.message : String(err);
  const index = found ? found.index : text.length;
  const atEnd = found ? found.index >= text.length : /end of JSON input/i.test(message);
  return new ReportParseError({
    code: atEnd ? 'truncated' : 'invalid_syntax',
    file: fileName,
    format,
    ...positionInText(text, index),
    reason: atEnd ? 'unexpected end of JSON input' : `invalid JSON: ${found ? found.reason : 'syntax error'}`,
  });
}

const enum Mode {
  Value,
  Key,
  After,
}

/**
 * A minimal JSON syntax checker, run only after JSON.parse has failed, to name the line and
 * column of the problem. Iterative, so deeply nested garbage cannot overflow the stack.
 */
export function findJsonSyntaxError(t: string): { index: number; reason: string } | null {
  const n = t.length;
  const stack: boolean[] = []; // true = object
  let i = 0;
  let mode = Mode.Value;
  const ws = (): void => {
    while (i < n) {
      const c = t.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const describe = (at: number): string =>
    at >= n ? 'end of input' : `character ${JSON.stringify(t[at])}`;
  const string = (): { index: number; reason: string } | null => {
    i++;
    while (i < n) {
      const c = t.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c < 0x20) return { index: i, reason: 'control character in string' };
      if (c === 0x5c) {
        const e = t[i + 1];
        if (e === undefined) return { index: n, reason: 'unterminated string' };
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) return { index: i, reason: 'bad \\u escape' };
          i += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) return { index: i, reason: 'bad escape in string' };
        i += 2;
        continue;
      }
      i++;
    }
    return { index: n, reason: 'unterminated string' };
  };
  const numberRe = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  for (;;) {
    ws();
    if (mode === Mode.Value) {
      if (i >= n) return { index: n, reason: 'unexpected end of input' };
      const c = t[i];
      if (c === '{' || c === '[') {
        stack.push(c === '{');
        i++;
        ws();
        if (t[i] === (c === '{' ? '}' : ']')) {
          stack.pop();
          i++;
          mode = Mode.After;
        } else mode = c === '{' ? Mode.Key : Mode.Value;
        continue;
      }
      if (c === '"') {
        const e = string();
        if (e) return e;
        mode = Mode.After;
        continue;
      }
      if (c === '-' || (c >= '0' && c <= '9')) {
        numberRe.lastIndex = i;
        const m = numberRe.exec(t);
        if (!m) return { index: i, reason: 'malformed number' };
        i += m[0].length;
        mode = Mode.After;
        continue;
      }
      const lit = t.startsWith('true', i) ? 4 : t.startsWith('null', i) ? 4 : t.startsWith('false', i) ? 5 : 0;
      if (lit === 0) return { index: i, reason: `unexpected ${describe(i)}` };
      i += lit;
      mode = Mode.After;
      continue;
    }
    if (mode === Mode.Key) {
      if (t[i] !== '"') return { index: i, reason: `expected a property name, found ${describe(i)}` };
      const e = string();
      if (e) return e;
      ws();
      if (t[i] !== ':') return { index: i, reason: `expected ':', found ${describe(i)}` };
      i++;
      mode = Mode.Value;
      continue;
    }
    if (stack.length === 0) return i < n ? { index: i, reason: `unexpected ${describe(i)} after the document` } : null;
    const isObject = stack[stack.length - 1];
    if (t[i] === ',') {
      i++;
      mode = isObject ? Mode.Key : Mode.Value;
      continue;
    }
    if (t[i] === (isObject ? '}' : ']')) {
      stack.pop();
      i++;
      continue;
    }
    return { index: i, reason: `expected ',' or '${isObject ? '}' : ']'}', found ${describe(i)}` };
  }
}

function positionInText(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(index, text.length);
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}

function positionOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (only used on the error path). */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    if (i + need >= n) return i;
    let cp = b & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return n;
}
