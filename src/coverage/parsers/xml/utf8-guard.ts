import { isUtf8 } from 'node:buffer';

/**
 * Validates a byte stream as UTF-8 chunk by chunk. Chunks may split a multi-byte sequence, so the
 * incomplete tail of one chunk is held back and checked together with the head of the next. The
 * bulk of every chunk goes through Node's native validator; the byte-by-byte scan below only runs
 * to locate an error that has already been found.
 */
export class Utf8Guard {
  private readonly pending = new Uint8Array(4);
  private pendingLength = 0;

  /**
   * Returns null when `chunk` is valid so far, else the index in `chunk` where the first bad
   * sequence starts; that index is negative when the sequence began in the previous chunk.
   */
  check(chunk: Uint8Array): number | null {
    let start = 0;
    if (this.pendingLength > 0) {
      const lead = -this.pendingLength;
      const need = sequenceLength(this.pending[0]) - this.pendingLength;
      const take = Math.min(need, chunk.length);
      for (let i = 0; i < take; i++) this.pending[this.pendingLength + i] = chunk[i];
      if (take < need) {
        this.pendingLength += take;
        // A continuation byte is checked as soon as it arrives, not only when the sequence ends.
        return firstInvalid(this.pending, 0, this.pendingLength, true) >= 0 ? lead : null;
      }
      const sequence = this.pending.subarray(0, this.pendingLength + take);
      this.pendingLength = 0;
      if (!isUtf8(sequence)) return lead;
      start = take;
    }
    let cut = chunk.length;
    for (let k = chunk.length - 1; k >= start && k >= chunk.length - 3; k--) {
      const b = chunk[k];
      if ((b & 0xc0) !== 0x80) {
        if (b >= 0xc0 && k + sequenceLength(b) > chunk.length) cut = k;
        break;
      }
    }
    if (cut > start && !isUtf8(chunk.subarray(start, cut))) {
      const bad = firstInvalid(chunk, start, cut, false);
      return bad < 0 ? start : bad;
    }
    for (let i = cut; i < chunk.length; i++) this.pending[this.pendingLength++] = chunk[i];
    return null;
  }

  /** Bytes of a sequence the stream ended in the middle of (0 when the stream ended cleanly). */
  get danglingBytes(): number {
    return this.pendingLength;
  }
}

function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/**
 * Index of the first byte that starts an invalid sequence in [from, to), or -1. With
 * `allowIncompleteTail`, a correct but unfinished sequence at the end is not an error.
 */
export function firstInvalid(
  bytes: Uint8Array,
  from: number,
  to: number,
  allowIncompleteTail: boolean,
): number {
  let i = from;
  while (i < to) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const length = sequenceLength(b);
    if (length === 1) return i;
    // Second-byte ranges exclude overlongs (E0, F0), surrogates (ED) and code points past U+10FFFF (F4).
    let lo = 0x80;
    let hi = 0xbf;
    if (b === 0xe0) lo = 0xa0;
    else if (b === 0xed) hi = 0x9f;
    else if (b === 0xf0) lo = 0x90;
    else if (b === 0xf4) hi = 0x8f;
    for (let k = 1; k < length; k++) {
      if (i + k >= to) return allowIncompleteTail ? -1 : i;
      const c = bytes[i + k];
      if (k === 1 ? c < lo || c > hi : (c & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return -1;
}
