/**
 * Tributary's report format: compact, deterministic and versioned, for intermediate (per-upload)
 * and commit reports. Equal reports serialize to identical bytes: files in path order, lines in
 * number order, entries in session order, session metadata as JSON with sorted keys.
 *
 * Layout (integers are unsigned LEB128 varints unless noted):
 *   "TRBR" u8:version
 *   u32le:length header   header = sessionCount, per session: id, string(JSON of the other
 *                         fields); then fileCount
 *   u32le:length file     x fileCount, in path order; one record per file lets a reader hold
 *                         one file at a time
 *   u32le CRC-32 of every preceding byte
 * file = string(path), lineCount, then per line: line - previousLine, entryCount, and per entry:
 *   session id (first absolute, then minus previous minus 1), u8 tag, value, [extras]
 *   tag bits 0-1 line type, 2-3 kind (0 count, 1 fraction, 2 true, 3 skipped), 4 has extras
 *   value: count -> hits; fraction -> covered, total; true / skipped -> nothing
 *   extras = u8 bits (1 missing branches, 2 partials, 4 complexity n, 8 complexity [a, b],
 *   16 branch scheme), then missing: count, strings; partials: count, (start+1 | 0, end+1 | 0,
 *   hits) each; complexity; scheme: string
 * Version 2 added the branch scheme (bit 16); version 1 reports are still read.
 * string(s) = varint byteLength, UTF-8 bytes.
 *
 * Storage wraps it in gzip (`compressReport`); readers detect gzip by its magic bytes and bound
 * the decompressed size. Corrupt, truncated or oversized input ends in a ReportParseError with
 * format 'tributary-report', never a crash.
 */
import { Readable } from 'node:stream';
import { createGunzip, crc32, gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { ReportParseError, type ParseErrorCode } from './errors';
import { isGzip } from '../vocabulary';
import { DEFAULT_LIMITS } from './limits';
import {
  ColumnSlab,
  CoverageReport,
  FLAG_EXTRAS,
  FLAG_TYPE_MASK,
  FileCoverage,
  NO_EXTRAS,
  comparePaths,
  type FileColumns,
  type Session,
} from './report';
import type { LineExtras, PartialSpan } from './types';
import { DEN_INT, DEN_TRUE, MAX_BRANCHES } from './values';
import { ReportMergeError, mergeFiles } from './merge';
import { fileTotals, sumTotals, type CoverageTotals, type ReportTotals } from './totals';

export const REPORT_FORMAT = 'tributary-report';
export const REPORT_MAGIC = Uint8Array.of(0x54, 0x52, 0x42, 0x52); // "TRBR"
export const REPORT_VERSION = 2;
/** Oldest version still read: version 1 has no branch schemes (its lists read as unnamed). */
const OLDEST_VERSION = 1;

const KIND_COUNT = 0;
const KIND_FRACTION = 1;
const KIND_TRUE = 2;
const KIND_SKIPPED = 3;
const TAG_EXTRAS = 16;

export interface ReadOptions {
  /** Name used in error messages. */
  name?: string;
  /** Bound on the (decompressed) serialized size; defaults to the parse limit maxDecompressedBytes. */
  maxBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// Writing

class ByteWriter {
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

  take(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** Writes v (a non-negative safe integer) at p; returns the next position. */
function putVarint(buf: Uint8Array, p: number, v: number): number {
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

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function writeStart(w: ByteWriter, sessions: readonly Session[], fileCount: number): void {
  w.bytes(REPORT_MAGIC);
  w.u8(REPORT_VERSION);
  const at = w.beginRecord();
  w.varint(sessions.length);
  for (const s of sessions) {
    w.varint(s.id);
    const { id: _id, ...meta } = s;
    w.string(canonicalJson(meta));
  }
  w.varint(fileCount);
  w.endRecord(at);
}

function writeTrailer(w: ByteWriter, crc: number): void {
  w.ensure(4);
  new DataView(w.buf.buffer, w.buf.byteOffset).setUint32(w.len, crc >>> 0, true);
  w.len += 4;
}

/** The serialized report as a sequence of chunks: header, one per file, trailer. */
export function* serializeReportChunks(report: CoverageReport): Generator<Uint8Array> {
  const head = new ByteWriter();
  writeStart(head, report.sessions, report.fileCount);
  let crc = crc32(head.take());
  yield head.take();
  for (const f of report) {
    const w = new ByteWriter();
    encodeFileInto(w, f);
    crc = crc32(w.take(), crc);
    yield w.take();
  }
  const tail = new ByteWriter();
  writeTrailer(tail, crc);
  yield tail.take();
}

export function serializeReport(report: CoverageReport): Uint8Array {
  const w = new ByteWriter();
  writeStart(w, report.sessions, report.fileCount);
  for (const f of report) encodeFileInto(w, f);
  writeTrailer(w, crc32(w.take()));
  return w.take();
}

/** Worst-case bytes of one entry without extras: id, tag, two values. */
const MAX_ENTRY_BYTES = 5 + 1 + 8 + 5;

function encodeFileInto(w: ByteWriter, f: FileCoverage): void {
  const at = w.beginRecord();
  w.string(f.path);
  const { lines, offsets, sessionIds, nums, dens, flags, extras } = f;
  const nLines = lines.length;
  const nEntries = sessionIds.length;
  w.varint(nLines);
  w.ensure(nLines * 10 + nEntries * MAX_ENTRY_BYTES);
  let buf = w.buf;
  let p = w.len;
  let prevLine = 0;
  for (let i = 0; i < nLines; i++) {
    const line = lines[i]!;
    p = putVarint(buf, p, line - prevLine);
    prevLine = line;
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    p = putVarint(buf, p, end - start);
    let prevSid = -1;
    for (let k = start; k < end; k++) {
      const sid = sessionIds[k]!;
      p = putVarint(buf, p, sid - prevSid - 1);
      prevSid = sid;
      const fl = flags[k]!;
      const den = dens[k]!;
      const num = nums[k]!;
      const hasX = (fl & F_EXTRAS) !== 0;
      if (den === D_INT) {
        if (num === -1) buf[p++] = (fl & F_TYPE) | (KIND_SKIPPED << 2) | (hasX ? TAG_EXTRAS : 0);
        else {
          buf[p++] = (fl & F_TYPE) | (KIND_COUNT << 2) | (hasX ? TAG_EXTRAS : 0);
          p = putVarint(buf, p, num);
        }
      } else if (den === D_TRUE) {
        buf[p++] = (fl & F_TYPE) | (KIND_TRUE << 2) | (hasX ? TAG_EXTRAS : 0);
      } else {
        buf[p++] = (fl & F_TYPE) | (KIND_FRACTION << 2) | (hasX ? TAG_EXTRAS : 0);
        p = putVarint(buf, p, num);
        p = putVarint(buf, p, den);
      }
      if (hasX) {
        w.len = p;
        encodeExtras(w, extras.get(k)!);
        w.ensure((nLines - i) * 10 + (nEntries - k) * MAX_ENTRY_BYTES);
        buf = w.buf;
        p = w.len;
      }
    }
  }
  w.len = p;
  w.endRecord(at);
}

function checkCount(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`cannot serialize ${what} ${v}`);
  return v;
}

function encodeExtras(w: ByteWriter, x: LineExtras): void {
  const c = x.complexity;
  // A scheme only names a list's ids; alone it means nothing.
  const scheme = x.missingBranches !== undefined ? x.branchScheme : undefined;
  w.u8(
    (x.missingBranches !== undefined ? 1 : 0) |
      (x.partials !== undefined ? 2 : 0) |
      (typeof c === 'number' ? 4 : 0) |
      (Array.isArray(c) ? 8 : 0) |
      (scheme !== undefined ? 16 : 0),
  );
  if (x.missingBranches !== undefined) {
    w.varint(x.missingBranches.length);
    for (const b of x.missingBranches) w.string(b);
  }
  if (x.partials !== undefined) {
    w.varint(x.partials.length);
    for (const [s, e, h] of x.partials) {
      w.varint(s === null ? 0 : checkCount(s, 'partial start') + 1);
      w.varint(e === null ? 0 : checkCount(e, 'partial end') + 1);
      w.varint(checkCount(h, 'partial hits'));
    }
  }
  if (typeof c === 'number') w.varint(checkCount(c, 'complexity'));
  else if (Array.isArray(c)) {
    w.varint(checkCount(c[0], 'complexity'));
    w.varint(checkCount(c[1], 'complexity'));
  }
  if (scheme !== undefined) w.string(scheme);
}

/** JSON with object keys sorted at every level and undefined members left out. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** gzip of the serialized report, for storage. */
export function compressReport(report: CoverageReport, level = 6): Uint8Array {
  return gzipSync(serializeReport(report), { level });
}

// ---------------------------------------------------------------------------------------------
// Reading

class Fail {
  constructor(
    readonly name: string,
    readonly base: number,
  ) {}

  error(code: ParseErrorCode, reason: string, offset: number, limit?: string): ReportParseError {
    return new ReportParseError({ code, file: this.name, format: REPORT_FORMAT, reason, offset: this.base + offset, limit });
  }
}

/** Reads one complete record's payload. Every read is bounds-checked: corrupt input throws. */
class ByteReader {
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

const SessionMetaSchema = z
  .object({
    format: z.string().optional(),
    file: z.string().optional(),
    name: z.string().optional(),
    flags: z.array(z.string()).optional(),
    build: z.string().optional(),
    job: z.string().optional(),
    provider: z.string().optional(),
    ciUrl: z.string().optional(),
    time: z.string().optional(),
    state: z.string().optional(),
    type: z.enum(['uploaded', 'carriedforward']).optional(),
  })
  .strict();

interface Header {
  sessions: Session[];
  fileCount: number;
}

function decodeHeader(payload: Uint8Array, fail: Fail): Header {
  const r = new ByteReader(payload, fail);
  const count = r.varint();
  if (count > payload.length) throw fail.error('invalid_syntax', `session count ${count} exceeds the record`, 0);
  const sessions: Session[] = [];
  let prev = -1;
  for (let i = 0; i < count; i++) {
    const at = r.pos;
    const id = r.varint();
    if (id <= prev || id > 0xffffffff) throw fail.error('invalid_syntax', `session id ${id} out of order`, at);
    prev = id;
    const text = r.string();
    let meta: unknown;
    try {
      meta = JSON.parse(text);
    } catch {
      throw fail.error('invalid_syntax', `session ${id} metadata is not JSON`, at);
    }
    const parsed = SessionMetaSchema.safeParse(meta);
    if (!parsed.success) throw fail.error('invalid_syntax', `session ${id} metadata is malformed`, at);
    sessions.push({ ...dropUndefined(parsed.data), id });
  }
  const fileCount = r.varint();
  if (!r.done) throw fail.error('invalid_syntax', 'header record has trailing bytes', r.pos);
  return { sessions, fileCount };
}

function dropUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** Session ids of a report as a bitmap, for a cheap per-entry membership check. */
function sessionBitmap(sessions: readonly Session[]): Uint8Array {
  let max = -1;
  for (const s of sessions) if (s.id > max) max = s.id;
  const known = new Uint8Array(max + 1);
  for (const s of sessions) known[s.id] = 1;
  return known;
}

/** Identical extras (the same missing branches on many lines) decode to one shared object. */
type ExtrasCache = Map<string, LineExtras>;
const EXTRAS_CACHE_LIMIT = 65536;

// Module-local copies: in CommonJS output each use of an imported binding is a property read (a
// getter call under tsx), which shows in the per-entry loops.
const D_INT = DEN_INT;
const D_TRUE = DEN_TRUE;
const F_EXTRAS = FLAG_EXTRAS;
const F_TYPE = FLAG_TYPE_MASK;

/** Decoding scratch columns, reused across files (decoding is synchronous). */
let scratchSids = new Uint32Array(1024);
let scratchNums = new Float64Array(1024);
let scratchDens = new Int32Array(1024);
let scratchFlags = new Uint8Array(1024);

function decodeFile(
  payload: Uint8Array,
  fail: Fail,
  known: Uint8Array,
  cache: ExtrasCache,
  slab: ColumnSlab,
  version: number,
): FileCoverage {
  const r = new ByteReader(payload, fail);
  const path = r.string();
  const lineCount = r.varint();
  // Each line takes at least 4 bytes (delta, count, id, tag): bounds allocation by the record.
  if (lineCount * 4 > payload.length) throw fail.error('invalid_syntax', `line count ${lineCount} exceeds the record`, r.pos);
  const lines = slab.u32(lineCount);
  const offsets = slab.u32(lineCount + 1);
  offsets[0] = 0;
  let sids = scratchSids;
  let nums = scratchNums;
  let dens = scratchDens;
  let flags = scratchFlags;
  let extras: Map<number, LineExtras> | undefined;
  let k = 0;
  let line = 0;
  for (let i = 0; i < lineCount; i++) {
    const at = r.pos;
    const delta = r.varint();
    if (delta === 0 && i > 0) throw fail.error('invalid_syntax', `line ${line} repeated in ${path}`, at);
    line += delta;
    if (line < 1 || line > 0xffffffff) throw fail.error('invalid_syntax', `line number ${line} out of range in ${path}`, at);
    lines[i] = line;
    const n = r.varint();
    if (n === 0 || n * 2 > r.end - r.pos) throw fail.error('invalid_syntax', `bad entry count ${n} for ${path}:${line}`, at);
    if (k + n > sids.length) {
      let cap = sids.length * 2;
      while (k + n > cap) cap *= 2;
      scratchSids = sids = grow(sids, new Uint32Array(cap));
      scratchNums = nums = grow(nums, new Float64Array(cap));
      scratchDens = dens = grow(dens, new Int32Array(cap));
      scratchFlags = flags = grow(flags, new Uint8Array(cap));
    }
    let sid = -1;
    for (let j = 0; j < n; j++, k++) {
      const eat = r.pos;
      sid = sid + 1 + r.varint();
      if (sid >= known.length || known[sid] === 0) {
        throw fail.error('invalid_syntax', `unknown session ${sid} at ${path}:${line}`, eat);
      }
      sids[k] = sid;
      const tag = r.u8();
      const type = tag & 3;
      if (type === 3 || tag > 31) throw fail.error('invalid_syntax', `bad entry tag ${tag}`, eat);
      const kind = (tag >> 2) & 3;
      if (kind === KIND_COUNT) {
        nums[k] = r.varint();
        dens[k] = D_INT;
      } else if (kind === KIND_FRACTION) {
        nums[k] = r.varint();
        const den = r.varint();
        if (den > MAX_BRANCHES) throw fail.error('invalid_number', `branch count ${den} too large`, eat);
        dens[k] = den;
      } else if (kind === KIND_TRUE) {
        nums[k] = 0;
        dens[k] = D_TRUE;
      } else {
        nums[k] = -1;
        dens[k] = D_INT;
      }
      if (tag & TAG_EXTRAS) {
        (extras ??= new Map()).set(k, decodeExtras(r, cache, version));
        flags[k] = (type & F_TYPE) | F_EXTRAS;
      } else {
        flags[k] = type;
      }
    }
    offsets[i + 1] = k;
  }
  if (!r.done) throw fail.error('invalid_syntax', `file record ${path} has trailing bytes`, r.pos);
  const cols: FileColumns = {
    lines,
    offsets,
    sessionIds: copyInto(slab.u32(k), sids, k),
    nums: copyInto(slab.f64(k), nums, k),
    dens: copyInto(slab.i32(k), dens, k),
    flags: copyInto(slab.u8(k), flags, k),
    extras: extras ?? NO_EXTRAS,
  };
  return new FileCoverage(path, cols, slab);
}

function copyInto<T extends Uint32Array | Float64Array | Int32Array | Uint8Array>(dst: T, src: T, n: number): T {
  dst.set(src.subarray(0, n) as ArrayLike<number>);
  return dst;
}

function grow<T extends Uint32Array | Float64Array | Int32Array | Uint8Array>(old: T, fresh: T): T {
  fresh.set(old as ArrayLike<number>);
  return fresh;
}

/**
 * Extras repeat a lot (the same missing branches on many lines and uploads): the blob is first
 * skipped to find its extent, then looked up by its bytes, and only decoded when new.
 */
function decodeExtras(r: ByteReader, cache: ExtrasCache, version: number): LineExtras {
  const start = r.pos;
  skipExtras(r, version);
  const end = r.pos;
  let key: string | undefined;
  if (end - start <= 48) {
    key = String.fromCharCode.apply(null, r.buf.subarray(start, end) as unknown as number[]);
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
  }
  r.pos = start;
  const x = readExtras(r, version);
  if (key !== undefined && cache.size < EXTRAS_CACHE_LIMIT) cache.set(key, x);
  return x;
}

function extrasBits(r: ByteReader, version: number): number {
  const at = r.pos;
  const bits = r.u8();
  const max = version === 1 ? 15 : 31;
  // A scheme names the ids of a missing-branch list: never without one.
  if (bits === 0 || bits > max || (bits & 12) === 12 || (bits & 17) === 16) {
    throw r.fail.error('invalid_syntax', `bad extras bits ${bits}`, at);
  }
  return bits;
}

function skipExtras(r: ByteReader, version: number): void {
  const at = r.pos;
  const bits = extrasBits(r, version);
  if (bits & 1) {
    const n = r.varint();
    if (n > r.end - r.pos) throw r.fail.error('invalid_syntax', `bad missing-branch count ${n}`, at);
    for (let i = 0; i < n; i++) {
      const len = r.varint();
      if (len > r.end - r.pos) throw r.fail.error('truncated', 'string runs past its record', r.pos);
      r.pos += len;
    }
  }
  if (bits & 2) {
    const n = r.varint();
    if (n * 3 > r.end - r.pos) throw r.fail.error('invalid_syntax', `bad partial count ${n}`, at);
    for (let i = 0; i < n * 3; i++) r.varint();
  }
  if (bits & 4) r.varint();
  else if (bits & 8) {
    r.varint();
    r.varint();
  }
  if (bits & 16) {
    const len = r.varint();
    if (len > r.end - r.pos) throw r.fail.error('truncated', 'string runs past its record', r.pos);
    r.pos += len;
  }
}

function readExtras(r: ByteReader, version: number): LineExtras {
  const bits = extrasBits(r, version);
  const x: LineExtras = {};
  if (bits & 1) {
    const n = r.varint();
    const m: string[] = new Array<string>(n);
    for (let i = 0; i < n; i++) m[i] = r.string();
    x.missingBranches = m;
  }
  if (bits & 2) {
    const n = r.varint();
    const p: PartialSpan[] = new Array<PartialSpan>(n);
    for (let i = 0; i < n; i++) {
      const s = r.varint();
      const e = r.varint();
      p[i] = [s === 0 ? null : s - 1, e === 0 ? null : e - 1, r.varint()];
    }
    x.partials = p;
  }
  if (bits & 4) x.complexity = r.varint();
  else if (bits & 8) x.complexity = [r.varint(), r.varint()];
  if (bits & 16) x.branchScheme = r.string();
  return x;
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

/** Checks the magic bytes; returns the report's version. */
function checkMagic(b: Uint8Array, fail: Fail): number {
  for (let i = 0; i < 4; i++) {
    if (b[i] !== REPORT_MAGIC[i]) throw fail.error('invalid_syntax', 'not a Tributary report (bad magic)', 0);
  }
  const v = b[4]!;
  if (v < OLDEST_VERSION || v > REPORT_VERSION) throw fail.error('invalid_syntax', `unsupported report version ${v}`, 4);
  return v;
}

/** Gunzips with a bound on the output; the bound's error names maxDecompressedBytes. */
export function gunzipBounded(bytes: Uint8Array, maxBytes: number, name = '<report>'): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new ReportParseError({
        code: 'limit_exceeded',
        file: name,
        format: REPORT_FORMAT,
        reason: `decompressed report exceeds ${maxBytes} bytes`,
        limit: 'maxDecompressedBytes',
      });
    }
    throw new ReportParseError({
      code: code === 'Z_BUF_ERROR' ? 'truncated' : 'invalid_syntax',
      file: name,
      format: REPORT_FORMAT,
      reason: `gzip: ${(err as Error).message}`,
    });
  }
}

/** Reads a whole serialized report (gzip-compressed or not). */
export function readReport(input: Uint8Array, options: ReadOptions = {}): CoverageReport {
  const name = options.name ?? '<report>';
  const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxDecompressedBytes;
  const raw = isGzip(input) ? gunzipBounded(input, maxBytes, name) : input;
  // A plain view: Buffer#subarray is much slower than Uint8Array#subarray, and we take many.
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  if (bytes.length > maxBytes) {
    throw new ReportParseError({
      code: 'limit_exceeded',
      file: name,
      format: REPORT_FORMAT,
      reason: `report exceeds ${maxBytes} bytes`,
      limit: 'maxDecompressedBytes',
    });
  }
  const fail = new Fail(name, 0);
  if (bytes.length < 5) throw fail.error('truncated', 'report ends before its header', bytes.length);
  const version = checkMagic(bytes, fail);
  let pos = 5;
  const nextRecord = (): { payload: Uint8Array; at: number } => {
    if (bytes.length - pos < 4) throw fail.error('truncated', 'report ends inside a record length', pos);
    const len = readU32(bytes, pos);
    const start = pos + 4;
    if (len > bytes.length - start) throw fail.error('truncated', 'record runs past the end of the report', pos);
    pos = start + len;
    return { payload: bytes.subarray(start, start + len), at: start };
  };
  const h = nextRecord();
  const header = decodeHeader(h.payload, new Fail(name, h.at));
  const known = sessionBitmap(header.sessions);
  const cache: ExtrasCache = new Map();
  const slab = new ColumnSlab();
  const files: FileCoverage[] = [];
  let prevPath: string | undefined;
  for (let i = 0; i < header.fileCount; i++) {
    if (pos >= bytes.length) throw fail.error('truncated', `report ends after ${i} of ${header.fileCount} files`, pos);
    const rec = nextRecord();
    const f = decodeFile(rec.payload, new Fail(name, rec.at), known, cache, slab, version);
    if (prevPath !== undefined && !(prevPath < f.path)) throw fail.error('invalid_syntax', `file ${f.path} out of order`, rec.at);
    prevPath = f.path;
    files.push(f);
  }
  if (bytes.length - pos < 4) throw fail.error('truncated', 'report ends before its checksum', pos);
  if (bytes.length - pos > 4) throw fail.error('invalid_syntax', 'trailing bytes after the checksum', pos + 4);
  const expected = new DataView(bytes.buffer, bytes.byteOffset + pos, 4).getUint32(0, true);
  if ((crc32(bytes.subarray(0, pos)) >>> 0) !== expected) throw fail.error('invalid_syntax', 'checksum mismatch', pos);
  return new CoverageReport(files, header.sessions);
}

/** An open serialized report: its sessions now, its files one at a time. */
export interface ReportStream {
  readonly sessions: readonly Session[];
  readonly fileCount: number;
  /** Yields files in path order; verifies the checksum at the end. Iterate once. */
  files(): AsyncGenerator<FileCoverage>;
}

/**
 * Opens a serialized report from a byte stream (gzip detected from the magic bytes) and reads
 * it file by file, holding only the current record in memory.
 */
export async function openReportStream(
  source: AsyncIterable<Uint8Array>,
  options: ReadOptions = {},
): Promise<ReportStream> {
  const name = options.name ?? '<report>';
  const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxDecompressedBytes;
  const q = new ByteQueue(await maybeGunzip(source, maxBytes, name), name, maxBytes);
  const fail = new Fail(name, 0);
  const head = await q.take(5, 'report ends before its header');
  const version = checkMagic(head, fail);
  const h = await q.record();
  const header = decodeHeader(h.payload, new Fail(name, h.at));
  const known = sessionBitmap(header.sessions);
  const cache: ExtrasCache = new Map();
  const slab = new ColumnSlab();
  let used = false;
  return {
    sessions: header.sessions,
    fileCount: header.fileCount,
    async *files(): AsyncGenerator<FileCoverage> {
      if (used) throw new Error('report stream already consumed');
      used = true;
      let prevPath: string | undefined;
      for (let i = 0; i < header.fileCount; i++) {
        const rec = await q.record();
        const f = decodeFile(rec.payload, new Fail(name, rec.at), known, cache, slab, version);
        if (prevPath !== undefined && !(prevPath < f.path)) throw fail.error('invalid_syntax', `file ${f.path} out of order`, rec.at);
        prevPath = f.path;
        yield f;
      }
      const crc = q.crc >>> 0;
      const trailer = await q.take(4, 'report ends before its checksum', false);
      const expected = new DataView(trailer.buffer, trailer.byteOffset, 4).getUint32(0, true);
      if (crc !== expected) throw fail.error('invalid_syntax', 'checksum mismatch', q.offset - 4);
      if (!(await q.atEnd())) throw fail.error('invalid_syntax', 'trailing bytes after the checksum', q.offset);
    },
  };
}

/** Reads a whole report from a stream. */
export async function readReportStream(source: AsyncIterable<Uint8Array>, options: ReadOptions = {}): Promise<CoverageReport> {
  const s = await openReportStream(source, options);
  const files: FileCoverage[] = [];
  for await (const f of s.files()) files.push(f);
  return new CoverageReport(files, s.sessions);
}

async function maybeGunzip(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
  name: string,
): Promise<AsyncIterator<Uint8Array>> {
  const it = source[Symbol.asyncIterator]();
  // Peek at least the two magic bytes, however small the first chunks are.
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (headBytes < 2) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    headBytes += r.value.length;
  }
  const replayed: AsyncIterator<Uint8Array> = {
    next: async (): Promise<IteratorResult<Uint8Array>> => {
      const h = head.shift();
      return h !== undefined ? { done: false, value: h } : it.next();
    },
  };
  const magic = head.length === 1 ? head[0]! : Buffer.concat(head);
  if (!isGzip(magic)) return replayed;
  const gunzip = Readable.from({ [Symbol.asyncIterator]: () => replayed }).pipe(createGunzip());
  const inner = (gunzip as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let total = 0;
  return {
    next: async (): Promise<IteratorResult<Uint8Array>> => {
      let r: IteratorResult<Buffer>;
      try {
        r = await inner.next();
      } catch (err) {
        throw new ReportParseError({
          code: (err as { code?: string }).code === 'Z_BUF_ERROR' ? 'truncated' : 'invalid_syntax',
          file: name,
          format: REPORT_FORMAT,
          reason: `gzip: ${(err as Error).message}`,
        });
      }
      if (!r.done) {
        total += r.value.length;
        if (total > maxBytes) {
          gunzip.destroy();
          throw new ReportParseError({
            code: 'limit_exceeded',
            file: name,
            format: REPORT_FORMAT,
            reason: `decompressed report exceeds ${maxBytes} bytes`,
            limit: 'maxDecompressedBytes',
          });
        }
      }
      return r;
    },
  };
}

/** Pull-based byte buffer over an async iterator, with a running CRC of the bytes taken. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private available = 0;
  private headOffset = 0;
  private ended = false;
  private total = 0;
  crc = 0;
  offset = 0;

  constructor(
    private readonly it: AsyncIterator<Uint8Array>,
    private readonly name: string,
    private readonly maxBytes: number,
  ) {}

  private fail(code: ParseErrorCode, reason: string, limit?: string): ReportParseError {
    return new ReportParseError({ code, file: this.name, format: REPORT_FORMAT, reason, offset: this.offset, limit });
  }

  private async fill(n: number): Promise<boolean> {
    while (this.available < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      if (r.value.length === 0) continue;
      this.total += r.value.length;
      if (this.total > this.maxBytes) {
        throw this.fail('limit_exceeded', `report exceeds ${this.maxBytes} bytes`, 'maxDecompressedBytes');
      }
      this.chunks.push(r.value);
      this.available += r.value.length;
    }
    return this.available >= n;
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  async take(n: number, what: string, addToCrc = true): Promise<Uint8Array> {
    if (!(await this.fill(n))) throw this.fail('truncated', what);
    const out = new Uint8Array(n);
    let p = 0;
    while (p < n) {
      const c = this.chunks[0]!;
      const m = Math.min(n - p, c.length - this.headOffset);
      out.set(c.subarray(this.headOffset, this.headOffset + m), p);
      p += m;
      this.headOffset += m;
      if (this.headOffset === c.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    this.available -= n;
    this.offset += n;
    if (addToCrc) this.crc = crc32(out, this.crc);
    return out;
  }

  async record(): Promise<{ payload: Uint8Array; at: number }> {
    const len = readU32(await this.take(4, 'report ends inside a record length'), 0);
    if (len > this.maxBytes) throw this.fail('limit_exceeded', `record of ${len} bytes exceeds ${this.maxBytes}`, 'maxDecompressedBytes');
    const at = this.offset;
    return { payload: await this.take(len, 'record runs past the end of the report'), at };
  }
}

// ---------------------------------------------------------------------------------------------
// Merging serialized reports

export interface SerializedMergeResult {
  /** The merged report, serialized (not compressed). */
  bytes: Uint8Array;
  totals: ReportTotals;
  sessions: Session[];
  fileCount: number;
}

interface IndexedInput {
  bytes: Uint8Array;
  name: string;
  known: Uint8Array;
  cache: ExtrasCache;
  version: number;
}

interface RecordRef {
  path: string;
  input: number;
  start: number;
  end: number;
}

/**
 * Merges serialized reports (gzip or not) into a serialized report plus its totals, one path at
 * a time: each input is checked (magic, checksum, record framing, path order) and indexed, then
 * for every path in order the inputs' records are decoded, merged, totalled and written out.
 * Only one path's files are ever decoded, so memory stays near the size of the inputs and output
 * bytes; the result is byte-identical to `serializeReport(mergeReports(inputs.map(readReport)))`.
 */
export function mergeSerializedReports(inputs: readonly Uint8Array[], options: ReadOptions = {}): SerializedMergeResult {
  const base = options.name ?? '<report>';
  const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxDecompressedBytes;
  const indexed: IndexedInput[] = [];
  const byPath = new Map<string, RecordRef[]>();
  const sessions = new Map<number, Session>();
  inputs.forEach((input, i) => {
    const name = inputs.length === 1 ? base : `${base}#${i}`;
    const { bytes, header, records, version } = indexReport(input, name, maxBytes);
    for (const s of header.sessions) {
      if (sessions.has(s.id)) throw new ReportMergeError(`session ${s.id} appears in more than one report`);
      sessions.set(s.id, s);
    }
    indexed.push({ bytes, name, known: sessionBitmap(header.sessions), cache: new Map(), version });
    for (const r of records) {
      const ref: RecordRef = { path: r.path, input: i, start: r.start, end: r.end };
      const list = byPath.get(r.path);
      if (list === undefined) byPath.set(r.path, [ref]);
      else list.push(ref);
    }
  });
  const paths = [...byPath.keys()].sort(comparePaths);
  const fileCount = paths.length;
  // The report constructor validates and normalises the sessions exactly as `serializeReport` sees them.
  const ordered = new CoverageReport([], sessions.values()).sessions;
  const w = new ByteWriter();
  writeStart(w, ordered, fileCount);

  const slab = new ColumnSlab();
  const totals: CoverageTotals[] = [];
  for (const path of paths) {
    const refs = byPath.get(path)!;
    const files: FileCoverage[] = [];
    for (const r of refs) {
      const inp = indexed[r.input]!;
      files.push(decodeFile(inp.bytes.subarray(r.start, r.end), new Fail(inp.name, r.start), inp.known, inp.cache, slab, inp.version));
    }
    const merged = files.length === 1 ? files[0]! : mergeFiles(path, files, slab);
    totals.push(fileTotals(merged));
    encodeFileInto(w, merged);
    slab.reset();
  }
  writeTrailer(w, crc32(w.take()));
  return { bytes: w.take(), totals: { ...sumTotals(totals), sessions: ordered.length }, sessions: [...ordered], fileCount };
}

/** Checks a serialized report's framing and checksum and lists its file records. */
function indexReport(
  input: Uint8Array,
  name: string,
  maxBytes: number,
): { bytes: Uint8Array; header: Header; records: Array<Omit<RecordRef, 'input'>>; version: number } {
  const raw = isGzip(input) ? gunzipBounded(input, maxBytes, name) : input;
  // A plain view: Buffer#subarray is much slower than Uint8Array#subarray, and we take many.
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  const fail = new Fail(name, 0);
  if (bytes.length > maxBytes) throw fail.error('limit_exceeded', `report exceeds ${maxBytes} bytes`, 0, 'maxDecompressedBytes');
  if (bytes.length < 9) throw fail.error('truncated', 'report ends before its header', bytes.length);
  const version = checkMagic(bytes, fail);
  const body = bytes.length - 4;
  const expected = readU32(bytes, body);
  if ((crc32(bytes.subarray(0, body)) >>> 0) !== expected) throw fail.error('invalid_syntax', 'checksum mismatch (corrupt or truncated)', body);
  let pos = 5;
  const next = (): [number, number] => {
    if (body - pos < 4) throw fail.error('truncated', 'report ends inside a record length', pos);
    const len = readU32(bytes, pos);
    const start = pos + 4;
    if (len > body - start) throw fail.error('truncated', 'record runs past the end of the report', pos);
    pos = start + len;
    return [start, start + len];
  };
  const [hs, he] = next();
  const header = decodeHeader(bytes.subarray(hs, he), new Fail(name, hs));
  const records: Array<Omit<RecordRef, 'input'>> = [];
  let prev: string | undefined;
  for (let i = 0; i < header.fileCount; i++) {
    if (pos >= body) throw fail.error('truncated', `report ends after ${i} of ${header.fileCount} files`, pos);
    const [start, end] = next();
    const path = new ByteReader(bytes.subarray(start, end), new Fail(name, start)).string();
    if (prev !== undefined && !(prev < path)) throw fail.error('invalid_syntax', `file ${path} out of order`, start);
    prev = path;
    records.push({ path, start, end });
  }
  if (pos !== body) throw fail.error('invalid_syntax', 'trailing bytes after the last file', pos);
  return { bytes, header, records, version };
}
