import type { ParseErrorCode } from '../../errors';
import type { ParseWarningCode } from '../../warnings';
import { decodeReferences, EntityError } from './entities';

/** Raises a typed error positioned at byte `index` of the scanner's current buffer. */
export type Fail = (code: ParseErrorCode, reason: string, index: number, limit?: string) => never;

/** Counts a per-line anomaly positioned at byte `index` of the scanner's current buffer. */
export type Warn = (code: ParseWarningCode, index: number, field: string) => void;

/** `countOrBad` answers for a value that is not a count. */
export const BAD_COUNT = -1;
export const NEGATIVE_COUNT = -2;

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const DOT = 46;

/**
 * The attributes of the start tag being reported, as byte ranges into the scanner's buffer. One
 * instance is reused for every tag, so reading an attribute allocates nothing unless its text is
 * asked for; numbers are parsed straight from the bytes. Valid only during `XmlHandler.open`.
 */
export class XmlAttributes {
  length = 0;
  /** Interned attribute names: compare with `===` against string constants. */
  readonly names: string[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  /** 1 when the raw value holds a reference or whitespace that XML normalises. */
  private rawFlags: number[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private tagStart = 0;

  constructor(
    private readonly fail: Fail,
    private readonly warn: Warn,
  ) {}

  reset(buf: Buffer, tagStart: number): void {
    this.buf = buf;
    this.tagStart = tagStart;
    this.length = 0;
  }

  /** Raises a typed error positioned at attribute `i`'s value. */
  failAt(i: number, code: ParseErrorCode, reason: string, limit?: string): never {
    return this.fail(code, reason, this.starts[i], limit);
  }

  /** Counts a per-line anomaly positioned at attribute `i`'s value; `what` names the field. */
  warnAt(i: number, code: ParseWarningCode, what: string): void {
    this.warn(code, this.starts[i], what);
  }

  /** Raises a typed error positioned at the start of the tag. */
  failTag(code: ParseErrorCode, reason: string): never {
    return this.fail(code, reason, this.tagStart);
  }

  /** Returns false when `name` is already present (a well-formedness error for the caller). */
  add(name: string, start: number, end: number, flags: number): boolean {
    const n = this.length;
    for (let i = 0; i < n; i++) if (this.names[i] === name) return false;
    this.names[n] = name;
    this.starts[n] = start;
    this.ends[n] = end;
    this.rawFlags[n] = flags;
    this.length = n + 1;
    return true;
  }

  /** Index of the attribute called `name`, or -1. */
  indexOf(name: string): number {
    const n = this.length;
    for (let i = 0; i < n; i++) if (this.names[i] === name) return i;
    return -1;
  }

  /** The attribute's value with references resolved and whitespace normalised as XML requires. */
  text(i: number): string {
    const raw = this.buf.toString('utf8', this.starts[i], this.ends[i]);
    if (this.rawFlags[i] === 0) return raw;
    // Attribute-value normalisation: CR LF, CR, LF and TAB each become one space.
    const spaced = raw.replace(/\r\n|[\r\n\t]/g, ' ');
    if (spaced.indexOf('&') < 0) return spaced;
    try {
      return decodeReferences(spaced);
    } catch (err) {
      if (err instanceof EntityError) return this.fail('invalid_syntax', err.reason, this.starts[i]);
      throw err;
    }
  }

  /** `text()` of the attribute called `name`, or undefined when absent. */
  get(name: string): string | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.text(i);
  }

  /** True when the value equals `expected`; plain values are compared as bytes, without decoding. */
  equals(i: number, expected: string): boolean {
    if (this.rawFlags[i] !== 0) return this.text(i) === expected;
    const s = this.starts[i];
    if (this.ends[i] - s !== expected.length) return false;
    for (let k = 0; k < expected.length; k++) {
      if (this.buf[s + k] !== expected.charCodeAt(k)) return false;
    }
    return true;
  }

  /** Like `equals`, ignoring ASCII case; `expected` must be lower case. */
  equalsIgnoreCase(i: number, expected: string): boolean {
    if (this.rawFlags[i] !== 0) return this.text(i).toLowerCase() === expected;
    const s = this.starts[i];
    if (this.ends[i] - s !== expected.length) return false;
    for (let k = 0; k < expected.length; k++) {
      if ((this.buf[s + k] | 0x20) !== expected.charCodeAt(k)) return false;
    }
    return true;
  }

  /** True when the value is empty. */
  isEmpty(i: number): boolean {
    return this.ends[i] === this.starts[i];
  }

  /**
   * A non-negative count. Digits with an optional fractional part (truncated, as `int(float(x))`
   * does for "1.0"); signs, exponents, NaN, blanks and values past 2^53 are typed errors naming
   * the attribute and its position.
   */
  count(i: number, what: string): number {
    const value = this.countOrBad(i);
    if (value < 0) return this.badNumber(i, what);
    if (value > Number.MAX_SAFE_INTEGER) {
      return this.fail('invalid_number', `${what} "${preview(this.text(i))}" is too large`, this.starts[i]);
    }
    return value;
  }

  /**
   * `count` without the errors, for fields where a bad value skips one record: the value (which
   * may exceed 2^53: the caller clamps), `NEGATIVE_COUNT` for a negative number, `BAD_COUNT` for
   * anything else.
   */
  countOrBad(i: number): number {
    // Rare: a number written with character references ("&#49;"); decode, then apply the same rule.
    if (this.rawFlags[i] !== 0) return this.countDecoded(i);
    const buf = this.buf;
    const s = this.starts[i];
    const e = this.ends[i];
    let value = 0;
    let p = s;
    for (; p < e; p++) {
      const c = buf[p];
      if (c < DIGIT_0 || c > DIGIT_9) break;
      value = value * 10 + (c - DIGIT_0);
    }
    if (p === s) return this.notCount(i);
    if (p < e) {
      if (buf[p] !== DOT || p + 1 === e) return this.notCount(i);
      for (let q = p + 1; q < e; q++) {
        const c = buf[q];
        if (c < DIGIT_0 || c > DIGIT_9) return this.notCount(i);
      }
    }
    return value;
  }

  private countDecoded(i: number): number {
    const text = this.text(i);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(text)) return this.notCount(i);
    return Math.trunc(Number(text));
  }

  private notCount(i: number): number {
    return /^\s*-\s*[0-9]/.test(this.text(i)) ? NEGATIVE_COUNT : BAD_COUNT;
  }

  private badNumber(i: number, what: string): never {
    return this.fail('invalid_number', `${what} "${preview(this.text(i))}" is not a non-negative integer`, this.starts[i]);
  }
}

function preview(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}...` : value;
}
