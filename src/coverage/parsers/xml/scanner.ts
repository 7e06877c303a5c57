import { ReportParseError, type ParseErrorCode } from '../../errors';
import type { ParseLimits } from '../../limits';
import { ParseWarnings } from '../../warnings';
import { XmlAttributes } from './attributes';
import { decodeReferences, EntityError } from './entities';
import { Utf8Guard } from './utf8-guard';

/**
 * A streaming XML tokenizer over bytes, limited to what coverage reports use: elements,
 * attributes, the predefined entities and character references, CDATA, comments, processing
 * instructions and a DOCTYPE. Chunks may end anywhere; an incomplete token is carried over to the
 * next chunk.
 *
 * Safety: a DOCTYPE's external identifiers are never fetched, an internal subset that declares
 * entities is rejected as `unsafe_xml`, and no reference other than XML's own is ever expanded.
 * Nesting depth is bounded by `limits.maxXmlDepth`; one markup token (or captured text) by
 * `limits.maxLineBytes`, since that is what the carry-over buffer may have to hold.
 *
 * Character data is only decoded for elements whose handler asks for it (`captureText`); the rest
 * is skipped without allocation, which is where most of the speed comes from.
 *
 * One module on purpose (over the 400-line rule): the token loop and the start-tag, end-tag and
 * carry-over paths share the scanner's buffer and position state and are the parsers' hot loop;
 * what is not on that path lives beside it (attributes, entities, the UTF-8 guard).
 */
export interface XmlHandler {
  /** A start tag. For `<x/>`, `close` follows at once. `attrs` is only valid during this call. */
  open(name: string, attrs: XmlAttributes, selfClosing: boolean): void;
  close(name: string): void;
}

export interface XmlScannerOptions {
  fileName: string;
  format: string;
  limits: ParseLimits;
  /** Element and attribute names the handler compares against; they are interned up front. */
  names: readonly string[];
  /** Receives the per-line anomalies handlers skip or clamp; a private collector when absent. */
  warnings?: ParseWarnings;
}

const LT = 60;
const GT = 62;
const SLASH = 47;
const BANG = 33;
const QM = 63;
const EQ = 61;
const DQ = 34;
const SQ = 39;
const AMP = 38;
const LBRACKET = 91;
const RBRACKET = 93;
const DASH = 45;
const NL = 10;
const CR = 13;
const TAB = 9;
const SP = 32;

const NAME_START = new Uint8Array(256);
const NAME_CHAR = new Uint8Array(256);
const WHITESPACE = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58 || c >= 0x80;
  NAME_START[c] = letter ? 1 : 0;
  NAME_CHAR[c] = letter || (c >= 48 && c <= 57) || c === DASH || c === 46 ? 1 : 0;
}
WHITESPACE[SP] = WHITESPACE[NL] = WHITESPACE[CR] = WHITESPACE[TAB] = 1;

const COMMENT_OPEN = ascii('<!--');
const CDATA_OPEN = ascii('<![CDATA[');
const DOCTYPE_OPEN = ascii('<!DOCTYPE');
const ENTITY_DECL = ascii('<!ENTITY');
const BOM = Uint8Array.of(0xef, 0xbb, 0xbf);

const INTERN_SLOTS = 4096;
const EMPTY = Buffer.alloc(0);

export class XmlScanner {
  /** Set by a handler in `open` to receive the element's character data via `takeText()`. */
  captureText = false;

  private readonly attrs: XmlAttributes;
  private readonly utf8 = new Utf8Guard();
  private readonly maxDepth: number;
  private readonly maxToken: number;

  // The bytes being scanned: the carry-over from earlier chunks followed by the newest chunk.
  private buf: Buffer = EMPTY;
  private carry: Buffer = Buffer.allocUnsafe(4096);
  private carryLength = 0;
  // Position bookkeeping for buf[0], so errors can name line and column without keeping the input.
  private baseOffset = 0;
  private baseLine = 1;
  private baseLineStart = 0;

  private readonly stack: string[] = [];
  private depth = 0;
  private rootSeen = false;
  private rootClosed = false;
  private doctypeSeen = false;
  private anyBytes = false;
  private sawMarkup = false;
  /** The byte that must arrive before the carried-over token can be complete (0: unknown). */
  private waitFor = 0;
  private bomChecked = false;
  private text = '';
  private failed: ReportParseError | null = null;
  private ended = false;

  private readonly internBytes: (Uint8Array | undefined)[] = new Array(INTERN_SLOTS);
  private readonly internStrings: string[] = new Array(INTERN_SLOTS);

  constructor(
    private readonly handler: XmlHandler,
    private readonly options: XmlScannerOptions,
  ) {
    this.maxDepth = options.limits.maxXmlDepth;
    this.maxToken = options.limits.maxLineBytes;
    const warnings = options.warnings ?? new ParseWarnings();
    this.attrs = new XmlAttributes(
      (code, reason, index, limit) => this.fail(code, reason, index, limit),
      (code, index, field) => {
        if (!warnings.wantsPosition(code)) return warnings.add(code);
        warnings.add(code, { ...this.position(index), field });
      },
    );
    for (const name of options.names) {
      const bytes = Buffer.from(name, 'utf8');
      const slot = hashBytes(bytes, 0, bytes.length) & (INTERN_SLOTS - 1);
      if (this.internBytes[slot] === undefined) {
        this.internBytes[slot] = bytes;
        this.internStrings[slot] = name;
      }
    }
  }

  write(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (this.ended) throw new Error('XmlScanner.write after end');
    if (chunk.length === 0) return;
    try {
      this.accept(chunk);
    } catch (err) {
      if (err instanceof ReportParseError) this.failed = err;
      throw err;
    }
  }

  end(): void {
    if (this.failed) throw this.failed;
    if (this.ended) return;
    this.ended = true;
    try {
      this.finish();
    } catch (err) {
      if (err instanceof ReportParseError) this.failed = err;
      throw err;
    }
  }

  /** The character data captured since `captureText` was set; stops capturing. */
  takeText(): string {
    const text = this.text;
    this.text = '';
    this.captureText = false;
    return text;
  }

  /** Raises a typed error for the current document, positioned at byte `index` of the buffer. */
  fail(code: ParseErrorCode, reason: string, index: number, limit?: string): never {
    const position = this.position(index);
    throw new ReportParseError({
      code,
      file: this.options.fileName,
      format: this.options.format,
      reason,
      limit,
      ...position,
    });
  }

  private accept(chunk: Uint8Array): void {
    this.anyBytes = true;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.carryLength === 0) {
      this.buf = bytes;
    } else {
      this.appendToCarry(bytes);
      this.buf = this.carry.subarray(0, this.carryLength);
    }
    const bad = this.utf8.check(bytes);
    if (bad !== null) this.fail('invalid_utf8', 'invalid UTF-8 byte sequence', this.buf.length - bytes.length + bad);
    if (!this.bomChecked && !this.skipBom()) {
      this.keep(0);
      return;
    }
    // A carried token cannot have completed unless its terminator arrived: skip the rescan, so a
    // long token fed in small chunks costs linear rather than quadratic time.
    if (this.carryLength > 0 && this.waitFor !== 0 && bytes.indexOf(this.waitFor) < 0) {
      this.keep(0);
      return;
    }
    const consumed = this.scan();
    this.keep(consumed);
  }

  private finish(): void {
    if (this.utf8.danglingBytes > 0) {
      this.fail('invalid_utf8', 'input ends inside a UTF-8 sequence', this.buf.length - this.utf8.danglingBytes);
    }
    if (this.carryLength > 0) {
      this.buf = this.carry.subarray(0, this.carryLength);
      const consumed = this.scan();
      if (consumed < this.buf.length) {
        const inside = this.depth > 0 ? ` inside <${this.stack[this.depth - 1]}>` : ' inside markup';
        this.fail('truncated', `document ends${inside}`, consumed);
      }
    }
    const endIndex = this.buf.length;
    if (!this.rootSeen) {
      if (!this.sawMarkup) this.fail('report_empty', 'empty document: no XML root element', endIndex);
      this.fail('truncated', 'document ends before its root element', endIndex);
    }
    if (this.depth > 0) {
      this.fail('truncated', `document ends inside <${this.stack[this.depth - 1]}>`, endIndex);
    }
  }

  /** Drops a UTF-8 byte order mark; returns false while too few bytes have arrived to tell. */
  private skipBom(): boolean {
    const b = this.buf;
    if (b.length < BOM.length && isPrefix(b, 0, b.length, BOM)) return false;
    if (startsWith(b, 0, b.length, BOM)) {
      this.buf = b.subarray(BOM.length);
      this.baseOffset = BOM.length;
      this.baseLineStart = BOM.length;
    }
    this.bomChecked = true;
    return true;
  }

  /** Keeps buf[consumed..] for the next chunk and advances the position bookkeeping past the rest. */
  private keep(consumed: number): void {
    const buf = this.buf;
    this.advance(buf, consumed);
    const rest = buf.length - consumed;
    if (rest > this.maxToken) this.tokenTooLong(consumed);
    if (rest === 0) {
      this.carryLength = 0;
    } else if (buf.buffer === this.carry.buffer && buf.byteOffset === this.carry.byteOffset) {
      this.carry.copyWithin(0, consumed, buf.length);
      this.carryLength = rest;
    } else {
      this.carryLength = 0;
      this.appendToCarry(buf.subarray(consumed));
    }
    this.buf = this.carry.subarray(0, this.carryLength);
    // Keep the bookkeeping relative to the new buf[0].
  }

  private tokenTooLong(index: number): never {
    return this.fail(
      'limit_exceeded',
      `XML markup or captured text longer than ${this.maxToken} bytes (maxLineBytes)`,
      index,
      'maxLineBytes',
    );
  }

  private advance(buf: Buffer, consumed: number): void {
    let line = this.baseLine;
    let lastNl = -1;
    for (let i = buf.indexOf(NL, 0); i >= 0 && i < consumed; i = buf.indexOf(NL, i + 1)) {
      line++;
      lastNl = i;
    }
    if (lastNl >= 0) this.baseLineStart = this.baseOffset + lastNl + 1;
    this.baseLine = line;
    this.baseOffset += consumed;
  }

  private appendToCarry(bytes: Uint8Array): void {
    const needed = this.carryLength + bytes.length;
    if (needed > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.carry.length * 2));
      this.carry.copy(grown, 0, 0, this.carryLength);
      this.carry = grown;
    }
    this.carry.set(bytes, this.carryLength);
    this.carryLength = needed;
  }

  private position(index: number): { line: number; column: number; offset: number } {
    const buf = this.buf;
    let line = this.baseLine;
    let lineStart = this.baseLineStart;
    const stop = Math.min(index, buf.length);
    for (let i = buf.indexOf(NL, 0); i >= 0 && i < stop; i = buf.indexOf(NL, i + 1)) {
      line++;
      lineStart = this.baseOffset + i + 1;
    }
    const offset = this.baseOffset + index;
    return { line, column: offset - lineStart + 1, offset };
  }

  /** Scans buf from 0; returns how many bytes were fully consumed. */
  private scan(): number {
    const buf = this.buf;
    const end = buf.length;
    let pos = 0;
    while (pos < end) {
      if (buf[pos] !== LT) {
        let next = buf.indexOf(LT, pos);
        if (next < 0) next = end;
        if (this.depth === 0) {
          this.checkOutsideText(buf, pos, next);
        } else if (this.captureText) {
          // Text running into the end of the buffer may end in a split reference: wait for more.
          if (next === end) {
            this.waitFor = LT;
            break;
          }
          this.captureRange(buf, pos, next);
        }
        pos = next;
        continue;
      }
      const after = this.markup(buf, pos, end);
      if (after < 0) {
        // Every markup token ends in '>'; until the "<!..." prefix is known, just retry.
        this.waitFor = end - pos >= DOCTYPE_OPEN.length ? GT : 0;
        break;
      }
      // Checked here as well as on the carry-over, so the outcome cannot depend on chunking.
      if (after - pos > this.maxToken) this.tokenTooLong(pos);
      pos = after;
    }
    return pos;
  }

  private checkOutsideText(buf: Buffer, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      if (WHITESPACE[buf[i]] === 0) {
        const reason = this.rootClosed
          ? 'text after the root element'
          : this.sawMarkup
            ? 'text outside the root element'
            : 'not XML: expected "<" at the start of the document';
        this.fail('invalid_syntax', reason, i);
      }
    }
  }

  private captureRange(buf: Buffer, from: number, to: number): void {
    let raw = buf.toString('utf8', from, to);
    if (raw.indexOf('\r') >= 0) raw = raw.replace(/\r\n?/g, '\n');
    if (raw.indexOf('&') >= 0) {
      try {
        raw = decodeReferences(raw);
      } catch (err) {
        if (err instanceof EntityError) this.fail('invalid_syntax', err.reason, from);
        throw err;
      }
    }
    this.appendText(raw, from);
  }

  private appendText(text: string, index: number): void {
    if (this.text.length + text.length > this.maxToken) {
      this.tokenTooLong(index);
    }
    this.text += text;
  }

  /** Handles the markup token at `pos` ('<'); returns the index after it, or -1 if incomplete. */
  private markup(buf: Buffer, pos: number, end: number): number {
    this.sawMarkup = true;
    if (pos + 1 >= end) return -1;
    const c1 = buf[pos + 1];
    if (c1 === SLASH) return this.endTag(buf, pos, end);
    if (c1 === QM) return this.processingInstruction(buf, pos, end);
    if (c1 === BANG) {
      if (startsWith(buf, pos, end, COMMENT_OPEN)) return this.comment(buf, pos, end);
      if (startsWith(buf, pos, end, CDATA_OPEN)) return this.cdata(buf, pos, end);
      if (startsWith(buf, pos, end, DOCTYPE_OPEN)) return this.doctype(buf, pos, end);
      const available = end - pos;
      if (
        (available < COMMENT_OPEN.length && isPrefix(buf, pos, end, COMMENT_OPEN)) ||
        (available < CDATA_OPEN.length && isPrefix(buf, pos, end, CDATA_OPEN)) ||
        (available < DOCTYPE_OPEN.length && isPrefix(buf, pos, end, DOCTYPE_OPEN))
      ) {
        return -1;
      }
      this.fail('invalid_syntax', 'unsupported markup declaration after "<!"', pos);
    }
    return this.startTag(buf, pos, end);
  }

  private startTag(buf: Buffer, pos: number, end: number): number {
    let p = pos + 1;
    if (NAME_START[buf[p]] === 0) this.fail('invalid_syntax', 'invalid element name after "<"', p);
    if (this.rootClosed) this.fail('invalid_syntax', 'second root element', pos);
    const nameStart = p;
    p = nameEnd(buf, p, end);
    if (p >= end) return -1;
    const name = this.intern(buf, nameStart, p);
    const attrs = this.attrs;
    attrs.reset(buf, pos);
    let selfClosing = false;
    for (;;) {
      let c = buf[p];
      const beforeSpace = p;
      while (c === SP || c === NL || c === TAB || c === CR) {
        if (++p >= end) return -1;
        c = buf[p];
      }
      if (c === GT) {
        p++;
        break;
      }
      if (c === SLASH) {
        if (p + 1 >= end) return -1;
        if (buf[p + 1] !== GT) this.fail('invalid_syntax', 'expected ">" after "/" in a tag', p + 1);
        p += 2;
        selfClosing = true;
        break;
      }
      if (NAME_START[c] === 0) this.fail('invalid_syntax', `unexpected character in <${name}> tag`, p);
      if (p === beforeSpace) this.fail('invalid_syntax', 'missing whitespace between attributes', p);
      const attrStart = p;
      p = nameEnd(buf, p, end);
      if (p >= end) return -1;
      c = buf[p];
      const attrName = this.intern(buf, attrStart, p);
      while (c === SP || c === NL || c === TAB || c === CR) {
        if (++p >= end) return -1;
        c = buf[p];
      }
      if (c !== EQ) this.fail('invalid_syntax', `expected "=" after attribute ${attrName}`, p);
      if (++p >= end) return -1;
      c = buf[p];
      while (c === SP || c === NL || c === TAB || c === CR) {
        if (++p >= end) return -1;
        c = buf[p];
      }
      if (c !== DQ && c !== SQ) this.fail('invalid_syntax', `expected a quoted value for attribute ${attrName}`, p);
      const quote = c;
      const valueStart = ++p;
      let flags = 0;
      for (;;) {
        if (p >= end) return -1;
        c = buf[p];
        if (c === quote) break;
        if (c === LT) this.fail('invalid_syntax', `"<" inside the value of attribute ${attrName}`, p);
        if (c === AMP || c === NL || c === TAB || c === CR) flags = 1;
        p++;
      }
      if (!attrs.add(attrName, valueStart, p, flags)) {
        this.fail('invalid_syntax', `duplicate attribute ${attrName}`, attrStart);
      }
      p++;
      if (p >= end) return -1;
    }
    if (this.depth >= this.maxDepth) {
      this.fail(
        'limit_exceeded',
        `XML nesting deeper than ${this.maxDepth} elements (maxXmlDepth)`,
        pos,
        'maxXmlDepth',
      );
    }
    this.stack[this.depth++] = name;
    this.rootSeen = true;
    this.handler.open(name, attrs, selfClosing);
    if (selfClosing) this.closeElement(name);
    return p;
  }

  private closeElement(name: string): void {
    this.depth--;
    if (this.depth === 0) this.rootClosed = true;
    this.handler.close(name);
  }

  private endTag(buf: Buffer, pos: number, end: number): number {
    let p = pos + 2;
    if (p >= end) return -1;
    if (NAME_START[buf[p]] === 0) this.fail('invalid_syntax', 'invalid element name after "</"', p);
    const nameStart = p;
    p = nameEnd(buf, p, end);
    const nameStop = p;
    while (p < end && WHITESPACE[buf[p]] === 1) p++;
    if (p >= end) return -1;
    if (buf[p] !== GT) this.fail('invalid_syntax', 'expected ">" to end the closing tag', p);
    const name = this.intern(buf, nameStart, nameStop);
    if (this.depth === 0) this.fail('invalid_syntax', `closing tag </${name}> without an open element`, pos);
    const open = this.stack[this.depth - 1];
    if (open !== name) this.fail('invalid_syntax', `closing tag </${name}> does not match <${open}>`, pos);
    this.closeElement(name);
    return p + 1;
  }

  private comment(buf: Buffer, pos: number, end: number): number {
    for (let i = buf.indexOf(DASH, pos + 4); i >= 0; i = buf.indexOf(DASH, i + 1)) {
      if (i + 2 >= end) return -1;
      if (buf[i + 1] === DASH && buf[i + 2] === GT) return i + 3;
    }
    return -1;
  }

  private cdata(buf: Buffer, pos: number, end: number): number {
    if (this.depth === 0) this.fail('invalid_syntax', 'CDATA section outside the root element', pos);
    const from = pos + CDATA_OPEN.length;
    for (let i = buf.indexOf(RBRACKET, from); i >= 0; i = buf.indexOf(RBRACKET, i + 1)) {
      if (i + 2 >= end) return -1;
      if (buf[i + 1] === RBRACKET && buf[i + 2] === GT) {
        if (this.captureText) this.appendText(buf.toString('utf8', from, i), from);
        return i + 3;
      }
    }
    return -1;
  }

  private processingInstruction(buf: Buffer, pos: number, end: number): number {
    if (pos + 2 < end && NAME_START[buf[pos + 2]] === 0) {
      this.fail('invalid_syntax', 'invalid processing instruction target after "<?"', pos + 2);
    }
    for (let i = buf.indexOf(GT, pos + 2); i >= 0; i = buf.indexOf(GT, i + 1)) {
      if (buf[i - 1] === QM && i - 1 >= pos + 2) return i + 1;
    }
    return -1;
  }

  /**
   * Skips a DOCTYPE without acting on it. External identifiers (SYSTEM/PUBLIC) are just text here,
   * so nothing is ever fetched; an internal subset may hold comments, ATTLIST and ELEMENT
   * declarations, but an ENTITY declaration makes the document unsafe and it is rejected.
   */
  private doctype(buf: Buffer, pos: number, end: number): number {
    if (this.rootSeen || this.doctypeSeen) this.fail('invalid_syntax', 'DOCTYPE in the wrong place', pos);
    let p = pos + DOCTYPE_OPEN.length;
    let inSubset = false;
    while (p < end) {
      const c = buf[p];
      if (c === DQ || c === SQ) {
        const close = buf.indexOf(c, p + 1);
        if (close < 0) return -1;
        p = close + 1;
      } else if (inSubset && c === LT) {
        if (end - p < ENTITY_DECL.length) return -1;
        if (startsWith(buf, p, end, ENTITY_DECL)) {
          this.fail('unsafe_xml', 'DOCTYPE declares entities (entity expansion is not allowed)', p);
        }
        if (startsWith(buf, p, end, COMMENT_OPEN)) {
          const after = this.comment(buf, p, end);
          if (after < 0) return -1;
          p = after;
        } else if (buf[p + 1] === QM) {
          const after = this.processingInstruction(buf, p, end);
          if (after < 0) return -1;
          p = after;
        } else {
          p++;
        }
      } else if (c === LBRACKET && !inSubset) {
        inSubset = true;
        p++;
      } else if (c === RBRACKET && inSubset) {
        inSubset = false;
        p++;
      } else if (c === GT && !inSubset) {
        this.doctypeSeen = true;
        return p + 1;
      } else {
        p++;
      }
    }
    return -1;
  }

  /** The name in buf[start, end), which `nameEnd` just scanned. */
  private intern(buf: Buffer, start: number, end: number): string {
    const slot = scannedHash & (INTERN_SLOTS - 1);
    const known = this.internBytes[slot];
    const length = end - start;
    if (known !== undefined && known.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (known[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.internStrings[slot];
    }
    const name = buf.toString('utf8', start, end);
    if (known === undefined) {
      this.internBytes[slot] = Uint8Array.prototype.slice.call(buf, start, end);
      this.internStrings[slot] = name;
    }
    return name;
  }
}

/** The hash of the name `nameEnd` scanned last, for `intern` (one pass over a name's bytes). */
let scannedHash = 0;

/** The end of the XML name that starts at `p` (the first byte that cannot be in a name), or `end`. */
function nameEnd(buf: Buffer, p: number, end: number): number {
  let h = 0;
  while (p < end) {
    const c = buf[p];
    if (NAME_CHAR[c] === 0) break;
    h = (Math.imul(h, 31) + c) | 0;
    p++;
  }
  scannedHash = h;
  return p;
}

function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + bytes[i]) | 0;
  return h;
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

function startsWith(buf: Buffer, pos: number, end: number, prefix: Uint8Array): boolean {
  if (end - pos < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[pos + i] !== prefix[i]) return false;
  return true;
}

/** True when the bytes available at `pos` could still become `prefix` once more arrive. */
function isPrefix(buf: Buffer, pos: number, end: number, prefix: Uint8Array): boolean {
  for (let i = 0; pos + i < end && i < prefix.length; i++) if (buf[pos + i] !== prefix[i]) return false;
  return true;
}
