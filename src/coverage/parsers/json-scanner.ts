import { ReportParseError, type ParseErrorCode } from '../errors';
import type { FormatName, ParserContext } from '../types';

/**
 * A streaming JSON syntax checker that keeps the document's significant bytes. It runs as the
 * chunks arrive, so what JSON.parse would pay for is refused before it is held:
 * - nesting deeper than `maxJsonDepth` (`[[[[…` needs no memory here, but gigabytes in V8's
 *   parser), strings and numbers longer than `maxJsonTokenBytes`, documents larger than
 *   `maxJsonBytes`;
 * - every syntax error, named with its line and column as soon as it is seen;
 * - whitespace past the first WS_KEEP bytes of a run is dropped and remembered as a gap (offset,
 *   bytes, newlines), so a document padded with gigabytes of blanks costs nothing while error
 *   positions stay those of the original input. Pretty-printed reports never reach WS_KEEP.
 * The kept bytes (valid JSON by then) go to JSON.parse once, which is much faster than building
 * the values in JavaScript.
 *
 * One module on purpose (just over the 400-line rule): the byte loop is one state machine over
 * the scanner's fields, the hot loop of every JSON format.
 */

/** Whitespace bytes of one run kept verbatim; the rest of the run becomes a gap. */
const WS_KEEP = 64;
/** Estimated heap of one parsed value or key (object slot, boxed number, small string). */
const VALUE_BYTES = 32;
/**
 * Estimated bytes per kept byte until the document is parsed: the kept chunks, their
 * concatenation, and the decoded text (two bytes a character when it is not all ASCII).
 */
const BYTES_PER_KEPT_BYTE = 3;

const enum S {
  Value,
  ArrayFirst,
  ObjectFirst,
  Key,
  Colon,
  After,
  String,
  Escape,
  Unicode,
  Number,
  Literal,
}

const enum N {
  Minus,
  Zero,
  Int,
  Dot,
  Frac,
  E,
  ESign,
  Exp,
}

const LITERALS = [Buffer.from('true'), Buffer.from('false'), Buffer.from('null')];

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `character ${JSON.stringify(String.fromCharCode(c))}` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

export interface ScannedJson {
  /** The kept bytes: the document without the dropped whitespace. */
  bytes: Uint8Array;
  /** Maps an offset in `bytes` to the line, column and offset of the original input. */
  position(keptOffset: number): { line: number; column: number; offset: number };
}

export class JsonScanner {
  private segments: Uint8Array[] = [];
  private kept = 0;
  /** Dropped whitespace, flat: kept offset, bytes dropped, newlines dropped, original offset after the last of them (-1: none). */
  private readonly gaps: number[] = [];

  private state = S.Value;
  private readonly stack: Uint8Array;
  private depth = 0;
  private isKey = false;
  private num = N.Minus;
  private literal = LITERALS[0]!;
  private literalAt = 0;
  private unicodeLeft = 0;
  private tokenBytes = 0;
  private values = 0;
  private charged = 0;

  /** Original offset of the current chunk's first byte. */
  private base = 0;
  private line = 1;
  private lineStart = 0;
  private wsRun = 0;
  private dropping = false;
  private gapBytes = 0;
  private gapNewlines = 0;
  private gapLineStart = -1;

  constructor(
    private readonly format: FormatName,
    private readonly ctx: ParserContext,
  ) {
    this.stack = new Uint8Array(ctx.limits.maxJsonDepth);
  }

  write(chunk: Uint8Array): void {
    const n = chunk.length;
    const { maxJsonDepth, maxJsonTokenBytes } = this.ctx.limits;
    let segStart = 0;
    let i = 0;
    while (i < n) {
      const c = chunk[i]!;
      switch (this.state) {
        case S.String: {
          const from = i;
          // The bulk of a JSON report is strings: skip their plain bytes in one tight loop.
          while (i < n) {
            const d = chunk[i]!;
            if (d === 0x22 || d === 0x5c || d < 0x20) break;
            i++;
          }
          this.tokenBytes += i - from;
          if (this.tokenBytes > maxJsonTokenBytes) this.tooLong(i);
          if (i === n) continue;
          const d = chunk[i]!;
          if (d === 0x22) {
            this.state = this.isKey ? S.Colon : S.After;
          } else if (d === 0x5c) {
            this.state = S.Escape;
          } else {
            this.fail('invalid_syntax', 'control character in string', i);
          }
          this.tokenBytes++;
          i++;
          continue;
        }
        case S.Escape:
          if (c === 0x75) {
            this.state = S.Unicode;
            this.unicodeLeft = 4;
          } else if (c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74) {
            this.state = S.String;
          } else {
            this.fail('invalid_syntax', 'bad escape in string', i);
          }
          this.tokenBytes++;
          i++;
          continue;
        case S.Unicode:
          if (!isHex(c)) this.fail('invalid_syntax', 'bad \\u escape', i);
          if (--this.unicodeLeft === 0) this.state = S.String;
          this.tokenBytes++;
          i++;
          continue;
        case S.Number: {
          const from = i;
          let ended = false;
          while (i < n) {
            const d = chunk[i]!;
            const digit = d >= 0x30 && d <= 0x39;
            switch (this.num) {
              case N.Minus:
                if (!digit) this.fail('invalid_syntax', 'malformed number', i);
                this.num = d === 0x30 ? N.Zero : N.Int;
                break;
              case N.Zero:
              case N.Int:
                if (digit && this.num === N.Int) break;
                if (d === 0x2e) this.num = N.Dot;
                else if (d === 0x65 || d === 0x45) this.num = N.E;
                else ended = true;
                break;
              case N.Dot:
                if (!digit) this.fail('invalid_syntax', 'malformed number', i);
                this.num = N.Frac;
                break;
              case N.Frac:
                if (digit) break;
                if (d === 0x65 || d === 0x45) this.num = N.E;
                else ended = true;
                break;
              case N.E:
                if (d === 0x2b || d === 0x2d) this.num = N.ESign;
                else if (digit) this.num = N.Exp;
                else this.fail('invalid_syntax', 'malformed number', i);
                break;
              case N.ESign:
                if (!digit) this.fail('invalid_syntax', 'malformed number', i);
                this.num = N.Exp;
                break;
              case N.Exp:
                if (!digit) ended = true;
                break;
            }
            if (ended) break;
            i++;
          }
          this.tokenBytes += i - from;
          if (this.tokenBytes > maxJsonTokenBytes) this.tooLong(i);
          // The byte that ended the number is read again as what follows a value.
          if (ended) this.state = S.After;
          continue;
        }
        case S.Literal:
          if (c !== this.literal[this.literalAt]) this.fail('invalid_syntax', `unexpected ${describeByte(c)}`, i);
          if (++this.literalAt === this.literal.length) this.state = S.After;
          i++;
          continue;
        default:
          break;
      }

      // Between tokens.
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        this.wsRun++;
        if (this.wsRun > WS_KEEP) {
          if (!this.dropping) {
            this.keep(chunk, segStart, i);
            this.dropping = true;
            this.gapBytes = 0;
            this.gapNewlines = 0;
            this.gapLineStart = -1;
          }
          this.gapBytes++;
          if (c === 0x0a) {
            this.gapNewlines++;
            this.gapLineStart = this.base + i + 1;
          }
        }
        if (c === 0x0a) {
          this.line++;
          this.lineStart = this.base + i + 1;
        }
        i++;
        continue;
      }
      this.wsRun = 0;
      if (this.dropping) {
        this.gaps.push(this.kept, this.gapBytes, this.gapNewlines, this.gapLineStart);
        this.dropping = false;
        segStart = i;
      }

      switch (this.state) {
        case S.Value:
        case S.ArrayFirst:
          if (c === 0x5d && this.state === S.ArrayFirst) {
            this.close();
            break;
          }
          this.values++;
          if (c === 0x7b || c === 0x5b) {
            if (this.depth >= maxJsonDepth) {
              this.fail('limit_exceeded', `JSON nesting deeper than ${maxJsonDepth} (maxJsonDepth)`, i, 'maxJsonDepth');
            }
            this.stack[this.depth++] = c === 0x7b ? 1 : 0;
            this.state = c === 0x7b ? S.ObjectFirst : S.ArrayFirst;
          } else if (c === 0x22) {
            this.startString(false);
          } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
            this.state = S.Number;
            this.tokenBytes = 1;
            this.num = c === 0x2d ? N.Minus : c === 0x30 ? N.Zero : N.Int;
          } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
            this.state = S.Literal;
            this.literal = LITERALS[c === 0x74 ? 0 : c === 0x66 ? 1 : 2]!;
            this.literalAt = 1;
          } else {
            this.fail('invalid_syntax', `unexpected ${describeByte(c)}`, i);
          }
          break;
        case S.ObjectFirst:
        case S.Key:
          if (c === 0x7d && this.state === S.ObjectFirst) {
            this.close();
            break;
          }
          if (c !== 0x22) this.fail('invalid_syntax', `expected a property name, found ${describeByte(c)}`, i);
          this.values++;
          this.startString(true);
          break;
        case S.Colon:
          if (c !== 0x3a) this.fail('invalid_syntax', `expected ':', found ${describeByte(c)}`, i);
          this.state = S.Value;
          break;
        case S.After: {
          if (this.depth === 0) this.fail('invalid_syntax', `unexpected ${describeByte(c)} after the document`, i);
          const inObject = this.stack[this.depth - 1] === 1;
          if (c === 0x2c) this.state = inObject ? S.Key : S.Value;
          else if (c === (inObject ? 0x7d : 0x5d)) this.close();
          else this.fail('invalid_syntax', `expected ',' or '${inObject ? '}' : ']'}', found ${describeByte(c)}`, i);
          break;
        }
        default:
          break;
      }
      i++;
    }
    if (!this.dropping) this.keep(chunk, segStart, n);
    this.base += n;
    this.charge();
  }

  /** Checks the document is complete and returns its kept bytes. */
  end(): ScannedJson {
    const complete =
      this.depth === 0 &&
      (this.state === S.After || (this.state === S.Number && (this.num === N.Zero || this.num === N.Int || this.num === N.Frac || this.num === N.Exp)));
    if (!complete) this.fail('truncated', 'unexpected end of JSON input', 0);
    const bytes = this.segments.length === 1 ? this.segments[0]! : Buffer.concat(this.segments, this.kept);
    this.segments = [];
    const gaps = this.gaps;
    return { bytes, position: (k) => positionOf(bytes, gaps, k) };
  }

  private startString(isKey: boolean): void {
    this.state = S.String;
    this.isKey = isKey;
    this.tokenBytes = 1;
  }

  private close(): void {
    this.depth--;
    this.state = S.After;
  }

  private keep(chunk: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    const size = to - from;
    if (this.kept + size > this.ctx.limits.maxJsonBytes) {
      this.segments = [];
      throw new ReportParseError({
        code: 'limit_exceeded',
        file: this.ctx.fileName,
        format: this.format,
        offset: this.ctx.limits.maxJsonBytes,
        reason: `JSON document larger than maxJsonBytes (${this.ctx.limits.maxJsonBytes} bytes)`,
        limit: 'maxJsonBytes',
      });
    }
    // Always a copy: the input's chunk is only valid during write() (its source may reuse the
    // buffer, see parseReport), and a view would keep a whole chunk alive for a small part.
    this.segments.push(Uint8Array.prototype.slice.call(chunk, from, to));
    this.kept += size;
  }

  private charge(): void {
    const budget = this.ctx.budget;
    if (budget === undefined) return;
    const estimate = this.kept * BYTES_PER_KEPT_BYTE + this.values * VALUE_BYTES;
    if (estimate > this.charged) {
      budget.charge(estimate - this.charged, 'the JSON document');
      this.charged = estimate;
    }
  }

  private tooLong(i: number): never {
    const max = this.ctx.limits.maxJsonTokenBytes;
    this.fail('limit_exceeded', `JSON string or number longer than maxJsonTokenBytes (${max} bytes)`, i, 'maxJsonTokenBytes');
  }

  private fail(code: ParseErrorCode, reason: string, i: number, limit?: string): never {
    const offset = this.base + i;
    this.segments = [];
    throw new ReportParseError({
      code,
      file: this.ctx.fileName,
      format: this.format,
      line: this.line,
      column: offset - this.lineStart + 1,
      offset,
      reason,
      limit,
    });
  }
}

/** Original position of kept offset `k`: the kept bytes' newlines plus the gaps before `k`. */
function positionOf(bytes: Uint8Array, gaps: number[], k: number): { line: number; column: number; offset: number } {
  const end = Math.min(Math.max(0, k), bytes.length);
  let line = 1;
  let dropped = 0;
  // Original offset where the line holding `k` starts.
  let lineStart = 0;
  let g = 0;
  const applyGapsUpTo = (at: number): void => {
    while (g < gaps.length && gaps[g]! <= at) {
      dropped += gaps[g + 1]!;
      if (gaps[g + 2]! > 0) {
        line += gaps[g + 2]!;
        lineStart = gaps[g + 3]!;
      }
      g += 4;
    }
  };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = text.indexOf(0x0a); i !== -1 && i < end; i = text.indexOf(0x0a, i + 1)) {
    applyGapsUpTo(i);
    line++;
    lineStart = i + 1 + dropped;
  }
  applyGapsUpTo(end);
  const offset = end + dropped;
  return { line, column: offset - lineStart + 1, offset };
}
