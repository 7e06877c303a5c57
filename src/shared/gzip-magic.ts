/**
 * Whether the bytes start with the gzip magic (uploads, raw bodies and stored reports alike).
 * A module of its own, without zod, so the parse path does not load the vocabulary's schemas.
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
