/**
 * The file record, both ways: a file's lines and session entries (with their extras) to bytes
 * and back. These are the per-entry loops every read, write and serialized merge spends its time
 * in; the framing around the records is `frames.ts`.
 */
import { ColumnSlab, FLAG_EXTRAS, FLAG_TYPE_MASK, NO_EXTRAS, type FileColumns } from '../columns';
import { FileCoverage } from '../file-coverage';
import type { Session } from '../report';
import type { LineExtras, PartialSpan } from '../types';
import { DEN_INT, DEN_TRUE, MAX_BRANCHES } from '../values';
import { ByteReader, ByteWriter, putVarint as putVarintShared, type Fail } from './bytes';
import type { FileFrame } from './frames';

const KIND_COUNT = 0;
const KIND_FRACTION = 1;
const KIND_TRUE = 2;
const KIND_SKIPPED = 3;
const TAG_EXTRAS = 16;

// Module-local copies: in CommonJS output each use of an imported binding is a property read (a
// getter call under tsx), which shows in the per-entry loops.
const D_INT = DEN_INT;
const D_TRUE = DEN_TRUE;
const F_EXTRAS = FLAG_EXTRAS;
const F_TYPE = FLAG_TYPE_MASK;
const putVarint = putVarintShared;

/** Worst-case bytes of one entry without extras: id, tag, two values. */
const MAX_ENTRY_BYTES = 5 + 1 + 8 + 5;

export function encodeFileInto(w: ByteWriter, f: FileCoverage): void {
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

/** Session ids of a report as a bitmap, for a cheap per-entry membership check. */
export function sessionBitmap(sessions: readonly Session[]): Uint8Array {
  let max = -1;
  for (const s of sessions) if (s.id > max) max = s.id;
  const known = new Uint8Array(max + 1);
  for (const s of sessions) known[s.id] = 1;
  return known;
}

/** Identical extras (the same missing branches on many lines) decode to one shared object. */
export type ExtrasCache = Map<string, LineExtras>;
const EXTRAS_CACHE_LIMIT = 65536;

/** Decoding scratch columns, reused across files (decoding is synchronous). */
let scratchSids = new Uint32Array(1024);
let scratchNums = new Float64Array(1024);
let scratchDens = new Int32Array(1024);
let scratchFlags = new Uint8Array(1024);

/**
 * Decodes the file record `frame` of `bytes` (its path already read by `fileFrames`) into columns
 * taken from `slab`; `known` holds the report's session ids.
 */
export function decodeFile(
  bytes: Uint8Array,
  frame: FileFrame,
  fail: Fail,
  known: Uint8Array,
  cache: ExtrasCache,
  slab: ColumnSlab,
  version: number,
): FileCoverage {
  const payload = bytes.subarray(frame.start, frame.end);
  const r = new ByteReader(payload, fail);
  r.pos = frame.body - frame.start;
  const path = frame.path;
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

