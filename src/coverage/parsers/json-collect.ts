import { ReportParseError } from '../errors';
import type { FormatName, ParserContext, PushParser } from '../types';
import { JsonShapeError, locateJsonPath } from './json-shape';
import { JsonScanner, type ScannedJson } from './json-scanner';

/**
 * JSON coverage formats are small next to LCOV or XML and their shapes need random access
 * (Istanbul's `s` is keyed by ids from `statementMap`), so they are parsed as one document. The
 * chunks go through a streaming scanner first (json-scanner.ts): nesting, token and size limits
 * and syntax are checked as the bytes arrive, long whitespace runs are dropped, and only a valid,
 * bounded document reaches JSON.parse. That is what keeps a hostile upload from costing
 * unbounded memory.
 */
export function createJsonCollector(
  format: FormatName,
  ctx: ParserContext,
  onDocument: (doc: unknown) => void,
): PushParser {
  const scanner = new JsonScanner(format, ctx);
  let ended = false;
  return {
    write(chunk: Uint8Array): void {
      if (ended) throw new Error('write() after end()');
      scanner.write(chunk);
    },
    end(): void {
      if (ended) return;
      ended = true;
      const scanned = scanner.end();
      const text = decodeJson(scanned, format, ctx.fileName);
      let doc: unknown;
      try {
        doc = JSON.parse(text) as unknown;
      } catch (err) {
        // The scanner accepted the text, so this is not the input's syntax.
        throw new Error(`JSON.parse rejected a document the scanner accepted: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      try {
        onDocument(doc);
      } catch (err) {
        if (!(err instanceof JsonShapeError)) throw err;
        // Name the line of the offending value, as the text formats do.
        const index = locateJsonPath(text, err.jsonPath);
        const { line, column } = scanned.position(Buffer.byteLength(text.slice(0, index)));
        throw new ReportParseError({ ...err.init, line, column });
      }
    },
  };
}

function decodeJson(scanned: ScannedJson, format: string, fileName: string): string {
  try {
    // fatal: invalid UTF-8 is an error rather than silently becoming U+FFFD in file paths.
    return new TextDecoder('utf-8', { fatal: true }).decode(scanned.bytes);
  } catch {
    const pos = scanned.position(firstInvalidUtf8Offset(scanned.bytes));
    throw new ReportParseError({
      code: 'invalid_utf8',
      file: fileName,
      format,
      ...pos,
      reason: 'invalid UTF-8 byte sequence',
    });
  }
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
