import { ReportParseError, type ParseErrorCode } from '../errors';
import { resized } from '../columns';

/**
 * Receives each complete line as a byte range of a buffer that is only valid during the call
 * (it is the caller's chunk or the splitter's reusable carry buffer). The range excludes the
 * line terminator (`\n`, or `\r\n`).
 */
export interface LineHandler {
  line(bytes: Uint8Array, start: number, end: number): void;
  /**
   * Optional: reads the complete lines of `bytes[start, end)` it recognises itself, from `start`
   * on, and returns the start of the first line it leaves to `line` (or `end`). A parser's
   * commonest records can then be read in one pass that finds their ends as it goes, where the
   * splitter would search each line's end first and make a call per line. Every line it consumes
   * must be one `line` would accept without an error or a warning, no longer than the splitter's
   * limit (see `maxLineBytes`); it adds the lines it consumed to the splitter's `lineNumber`.
   */
  scan?(bytes: Buffer, start: number, end: number): number;
}

export interface LineSplitterOptions {
  /** Longest line accepted, in bytes without its terminator (`ParseLimits.maxLineBytes`). */
  maxLineBytes: number;
  /** For error messages. */
  fileName: string;
  format: string;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits pushed byte chunks into lines without decoding them. Chunks may end anywhere, even
 * inside a UTF-8 sequence: only the tail after the last newline of a chunk is copied (into a
 * carry buffer reused from line to line), so a line is never held more than once and lines that
 * lie wholly inside a chunk are handed over without any copy.
 *
 * A line longer than `maxLineBytes` is an error as soon as it is known to be too long, so a
 * newline-free stream cannot grow memory past the limit. A UTF-8 byte order mark at the very
 * start is dropped.
 */
export class LineSplitter {
  /** 1-based number of the line being handed to the handler (0 before the first). */
  lineNumber = 0;
  /** Bytes of input seen so far. */
  bytesSeen = 0;

  // A Buffer, as the chunks are (see push): the handler then sees one kind of byte array.
  private carry: Buffer = Buffer.alloc(256);
  private carryLength = 0;
  private atStart = true;
  private readonly maxLineBytes: number;
  private finished = false;

  constructor(
    private readonly handler: LineHandler,
    private readonly options: LineSplitterOptions,
  ) {
    this.maxLineBytes = options.maxLineBytes;
  }

  push(input: Uint8Array): void {
    if (this.finished) throw new Error(`${this.options.format} parser: write() after end()`);
    // Every chunk as a Buffer (files and blobs arrive as Buffers already; a plain Uint8Array gets
    // a Buffer view, no copy): Buffer#indexOf is the fastest newline search here, and a handler
    // that meets both kinds of array is deoptimised (wrong map) and recompiled polymorphic.
    const chunk = input instanceof Buffer ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const length = chunk.length;
    if (length === 0) return;
    let pos = 0;
    if (this.atStart) pos = this.skipBom(chunk);
    this.bytesSeen += length;
    const handler = this.handler;
    const max = this.maxLineBytes;

    if (this.carryLength > 0) {
      const nl = chunk.indexOf(LF, pos);
      const headEnd = nl < 0 ? length : nl;
      this.appendCarry(chunk, pos, headEnd);
      if (nl < 0) return;
      this.lineNumber++;
      const carry = this.carry;
      let end = this.carryLength;
      if (end > 0 && carry[end - 1] === CR) end--;
      if (end > max) this.tooLong();
      this.carryLength = 0;
      handler.line(carry, 0, end);
      pos = nl + 1;
    }

    const scans = handler.scan !== undefined;
    for (;;) {
      if (scans) {
        pos = handler.scan!(chunk, pos, length);
        if (pos === length) break;
      }
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) break;
      this.lineNumber++;
      let end = nl;
      if (end > pos && chunk[end - 1] === CR) end--;
      if (end - pos > max) this.tooLong();
      handler.line(chunk, pos, end);
      pos = nl + 1;
    }
    if (pos < length) this.appendCarry(chunk, pos, length);
  }

  /** Hands over the last line when the input does not end with a newline. */
  /** Hands over the last line; false when the input was finished already (a parser's end() is idempotent). */
  finish(): boolean {
    if (this.finished) return false;
    this.finished = true;
    if (this.carryLength === 0) return true;
    this.lineNumber++;
    let end = this.carryLength;
    if (this.carry[end - 1] === CR) end--;
    if (end > this.maxLineBytes) this.tooLong();
    this.carryLength = 0;
    this.handler.line(this.carry, 0, end);
    return true;
  }

  /** A parse error at the line being handed over (none before the first line). */
  errorAt(code: ParseErrorCode, reason: string, column: number | undefined, limit?: string): ReportParseError {
    return new ReportParseError({
      code,
      file: this.options.fileName,
      format: this.options.format,
      line: this.lineNumber > 0 ? this.lineNumber : undefined,
      column,
      reason,
      limit,
    });
  }

  private appendCarry(chunk: Uint8Array, start: number, end: number): void {
    const add = end - start;
    if (add === 0) return;
    const needed = this.carryLength + add;
    // One byte of slack: a trailing CR is not part of the line.
    if (needed > this.maxLineBytes + 1) {
      // The line is not complete yet; it will be the next one handed over.
      this.lineNumber++;
      this.tooLong();
    }
    if (needed > this.carry.length) {
      let size = this.carry.length * 2;
      while (size < needed) size *= 2;
      this.carry = resized(this.carry, Math.min(size, this.maxLineBytes + 1));
    }
    this.carry.set(chunk.subarray(start, end), this.carryLength);
    this.carryLength = needed;
  }

  /** Returns where the content starts, skipping a UTF-8 BOM (EF BB BF) at the input's start. */
  private skipBom(chunk: Uint8Array): number {
    // Bytes of a possible BOM already seen in earlier (tiny) chunks sit in the carry buffer.
    let seen = this.carryLength;
    const bom = [0xef, 0xbb, 0xbf];
    let i = 0;
    while (seen < 3 && i < chunk.length) {
      if (chunk[i] !== bom[seen]) {
        this.atStart = false;
        return 0;
      }
      seen++;
      i++;
    }
    if (seen < 3) {
      // The whole chunk was a BOM prefix: keep it in the carry until we know.
      this.carry.set(chunk.subarray(0, i), this.carryLength);
      this.carryLength = seen;
      return chunk.length;
    }
    this.atStart = false;
    this.carryLength = 0;
    return i;
  }

  private tooLong(): never {
    throw this.errorAt('limit_exceeded', `line longer than ${this.maxLineBytes} bytes`, undefined, 'maxLineBytes');
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes bytes[start, end) of a line as UTF-8, or returns null when they are not valid UTF-8
 * (the caller raises `invalid_utf8` naming its own position). Short ASCII fields skip the decoder.
 */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string | null {
  const length = end - start;
  if (length <= 24) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let text = '';
      for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
      return text;
    }
  }
  try {
    return utf8.decode(bytes.subarray(start, end));
  } catch {
    return null;
  }
}
