/**
 * Strict integer parsing straight from bytes, for the line-based parsers.
 *
 * Coverage counts and line numbers are plain unsigned decimals. Anything else a tool or a broken
 * upload may write (a sign, a fraction, an exponent, `NaN`, `undefined`) is rejected rather than
 * guessed at, so the caller can skip the line with a warning (or raise a `ReportParseError`) that
 * says what was wrong.
 *
 * Values beyond `Number.MAX_SAFE_INTEGER` are clamped to it instead of rejected: for a hit count a
 * huge number still only means "hit", and for a line number the caller's `maxLineNumber` check
 * rejects it anyway. Parsing never loses that distinction silently: `UINT_CLAMPED` tells callers
 * the clamp happened if they care.
 */

/** Returned by the parse functions when the field is not an unsigned decimal integer. */
export const NOT_A_UINT = -1;

/** Largest value the parse functions return; longer digit strings are clamped to it. */
export const UINT_CLAMPED = Number.MAX_SAFE_INTEGER;

const ZERO = 0x30;
const NINE = 0x39;

/**
 * Parses bytes[start, end) as an unsigned decimal integer (ASCII digits only, leading zeros
 * allowed). Returns `NOT_A_UINT` for an empty field or any other byte.
 */
export function parseUint(bytes: Uint8Array, start: number, end: number): number {
  if (start >= end) return NOT_A_UINT;
  let value = 0;
  let i = start;
  // Up to 15 digits cannot exceed 2^53, so the common case needs no overflow check.
  const fastEnd = end - start > 15 ? start + 15 : end;
  for (; i < fastEnd; i++) {
    const c = bytes[i]! - ZERO;
    if (c < 0 || c > 9) return NOT_A_UINT;
    value = value * 10 + c;
  }
  for (; i < end; i++) {
    const c = bytes[i]!;
    if (c < ZERO || c > NINE) return NOT_A_UINT;
    if (value !== UINT_CLAMPED) {
      value = value * 10 + (c - ZERO);
      if (value > UINT_CLAMPED) value = UINT_CLAMPED;
    }
  }
  return value;
}

/** `parseUint` over a JS string (for fields already decoded). */
export function parseUintString(text: string): number {
  const n = text.length;
  if (n === 0) return NOT_A_UINT;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return NOT_A_UINT;
    if (value !== UINT_CLAMPED) {
      value = value * 10 + (c - ZERO);
      if (value > UINT_CLAMPED) value = UINT_CLAMPED;
    }
  }
  return value;
}

/**
 * Says in words why bytes[start, end) is not an unsigned integer, for error messages. Only called
 * on the error path, so it may allocate.
 */
export function describeBadUint(bytes: Uint8Array, start: number, end: number): string {
  if (start >= end) return 'empty number';
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.min(end - start, 40)).toString('latin1');
  const shown = JSON.stringify(end - start > 40 ? `${text}...` : text);
  if (bytes[start] === 0x2d /* - */) {
    return /^-\d+$/.test(text) ? `negative number ${shown}` : `not a number ${shown}`;
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$/.test(text)) return `scientific notation ${shown}`;
  if (/^[+-]?\d*\.\d+$|^[+-]?\d+\.$/.test(text)) return `non-integer ${shown}`;
  if (/^[+-]?(nan|inf(inity)?)$/i.test(text)) return `not a number ${shown}`;
  return `not an unsigned integer ${shown}`;
}

/**
 * The warning code for a count field that is not an unsigned integer: `negative_count` for a
 * minus sign followed by a digit, else `non_integer_count`. Anomaly path only.
 */
export function badCountCode(bytes: Uint8Array, start: number, end: number): 'negative_count' | 'non_integer_count' {
  return end - start >= 2 && bytes[start] === 0x2d /* - */ && bytes[start + 1]! >= ZERO && bytes[start + 1]! <= NINE
    ? 'negative_count'
    : 'non_integer_count';
}

const MALFORMED_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf(inity)?)$|^(undefined|null)$/i;

/**
 * Whether bytes[start, end) is a number a tool may write where an unsigned integer belongs (a
 * sign, a fraction, an exponent, NaN, Infinity, or `undefined`/`null` from a JavaScript tool), or
 * is empty: a per-line anomaly. Other text means the line itself is damaged (interleaved writes,
 * another format). Anomaly path only.
 */
export function isMalformedNumber(bytes: Uint8Array, start: number, end: number): boolean {
  if (start >= end) return true;
  if (end - start > 64) return false;
  return MALFORMED_NUMBER.test(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1'));
}
