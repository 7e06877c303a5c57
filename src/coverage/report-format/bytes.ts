/** Byte-level primitives of the report format: varints, strings, length-prefixed records. */
import { ReportParseError, type ParseErrorCode } from '../errors';
import { REPORT_FORMAT } from './format';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export class ByteWriter {
  buf = new Uint8Array(4096);
  len = 0;

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }

  varint(v: number): void {
    this.ensure(8);
    this.len = putVarint(this.buf, this.len, v);
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  string(s: string): void {
    const n = s.length;
    if (n < 128) {
      // Short ASCII strings (branch ids, most paths) skip the encoder.
      this.ensure(n + 1);
      const buf = this.buf;
      const start = this.len;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + 1 + i] = c;
      }
      if (i === n) {
        buf[start] = n;
        this.len = start + 1 + n;
        return;
      }
    }
    const b = textEncoder.encode(s);
    this.varint(b.length);
    this.bytes(b);
  }

  /** Reserves a u32 length prefix; `endRecord` fills it in. */
  beginRecord(): number {
    this.ensure(4);
    const at = this.len;
    this.len += 4;
    return at;
  }

  endRecord(at: number): void {
    const n = this.len - at - 4;
    const b = this.buf;
    b[at] = n & 0xff;
    b[at + 1] = (n >>> 8) & 0xff;
    b[at + 2] = (n >>> 16) & 0xff;
    b[at + 3] = (n >>> 24) & 0xff;
  }

  u32(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setUint32(this.len, v >>> 0, true);
    this.len += 4;
  }

  take(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** Writes v (a non-negative safe integer) at p; returns the next position. */
export function putVarint(buf: Uint8Array, p: number, v: number): number {
  if (v < 0x80) {
    buf[p] = v;
    return p + 1;
  }
  if (v < 0x80000000) {
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
  } else {
    // Beyond 31 bits bitwise operators truncate; divide instead.
    while (v >= 0x80) {
      buf[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
  }
  buf[p] = v;
  return p + 1;
}

export function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

/** Errors of one report, at offsets relative to `base` (where the bytes being read start). */
export class Fail {
  constructor(
    readonly name: string,
    readonly base: number,
  ) {}

  error(code: ParseErrorCode, reason: string, offset: number, limit?: string): ReportParseError {
    return new ReportParseError({ code, file: this.name, format: REPORT_FORMAT, reason, offset: this.base + offset, limit });
  }
}

/** Reads one complete record's payload. Every read is bounds-checked: corrupt input throws. */
export class ByteReader {
  pos = 0;
  readonly end: number;
  constructor(
    readonly buf: Uint8Array,
    readonly fail: Fail,
  ) {
    this.end = buf.length;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw this.fail.error('truncated', 'record ends early', this.pos);
    return this.buf[this.pos++]!;
  }

  varint(): number {
    const p = this.pos;
    if (p < this.end) {
      const b = this.buf[p]!;
      if (b < 0x80) {
        this.pos = p + 1;
        return b;
      }
    }
    return this.varintSlow();
  }

  private varintSlow(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(result)) break;
        return result;
      }
      scale *= 128;
    }
    throw this.fail.error('invalid_number', 'integer out of range', this.pos);
  }

  string(): string {
    const n = this.varint();
    const start = this.pos;
    if (n > this.end - start) throw this.fail.error('truncated', 'string runs past its record', start);
    this.pos = start + n;
    const buf = this.buf;
    if (n <= 16) {
      let ascii = true;
      for (let i = start; i < start + n; i++) if (buf[i]! >= 0x80) ascii = false;
      if (ascii) return String.fromCharCode.apply(null, buf.subarray(start, start + n) as unknown as number[]);
    }
    try {
      return textDecoder.decode(buf.subarray(start, start + n));
    } catch {
      throw this.fail.error('invalid_utf8', 'string is not valid UTF-8', start);
    }
  }
}
