/** What the modules of the session builder share: its settings, sizes and the sealed records' shapes. */
import type { PackedExtras } from './packed-extras';

export const MAX_U32 = 0xffffffff;

export interface BuilderContext {
  readonly sessionId: number;
  readonly fileName: string;
  readonly format: string;
  /** Hit counts above this are clamped; they only ever mean "hit". */
  readonly maxHits: number;
  readonly maxLineNumber: number;
}

/** Records kept in the log before it is sealed (about 1.4 MB of columns). */
export const LOG_CHUNK = 1 << 16;
/** First size of the log, so a small report does not pay for a whole chunk. */
export const LOG_START = 256;

/**
 * Memory estimates charged to the budget: a record's columns (line 4, value 8, denominator 4,
 * flags 1, offset and session views rounded in), an extras entry (packed key and value, the
 * objects of partials), a file (accumulator, report file, column views, map entries), a dropped
 * path's map entry; strings at two bytes a character.
 */
export const RECORD_BYTES = 20;
export const EXTRAS_BYTES = 96;
export const FILE_BYTES = 640;
export const MAP_ENTRY_BYTES = 80;

/** Distinct extras shared per builder (as many as the report reader's cache keeps). */
export const EXTRAS_CACHE_LIMIT = 65536;

/**
 * Records of one sealed log, grouped by file (stable), exactly sized. Columns that are uniform
 * across the chunk (every value a hit count, every line a plain line) are not stored.
 */
export interface Chunk {
  readonly lines: Uint32Array;
  readonly nums: Float64Array;
  /** null: every record is a hit count (DEN_INT). */
  readonly dens: Int32Array | null;
  /** null: every flag is 0. */
  readonly flags: Uint8Array | null;
}

/** A run of one file's records in a chunk. */
export interface Segment {
  readonly chunk: Chunk;
  readonly start: number;
  readonly length: number;
  /**
   * Keyed by index in the run, null when no record has extras: for a file of one segment this
   * is its extras map as is.
   */
  readonly extras: PackedExtras | null;
}
