/**
 * LCOV tracefile parser (geninfo format; also what nyc, c8, coverage.py, grcov and lcov 2.x
 * write). Works on bytes, line by line, with no whole-document string.
 *
 * Semantics follow Codecov's LCOV processor, with these deliberate differences:
 * - A malformed number skips its record with a warning naming the input line (Codecov skips
 *   silently): a negative, fractional, `NaN`, `undefined`, scientific-notation or empty count or
 *   line number, a line number of 0 on `DA`/`FN`, or one above `maxLineNumber`. Counts above
 *   `maxHits` are clamped, with a warning. Other text where a number belongs (a damaged line) and
 *   malformed syntax (a `DA` without its comma) stay errors.
 *   (`BRDA` with line 0 is skipped silently as Codecov does: older coverage.py versions write BRDA at an
 *   arc's destination line, 0 for arcs that exit, and those belong to no source line. The other
 *   destination-line BRDA are taken as written, as Codecov does, so such a report disagrees with
 *   coverage.py's XML report of the same run on some lines.)
 * - `BRDA` and `FN` are used for every language. Codecov ignores them in `.js` files, which would
 *   make an istanbul LCOV report disagree with the Cobertura report of the same run.
 * - A new `SF` before `end_of_record` ends the previous record.
 * - A record not closed by `end_of_record` at the end of the input is kept (as Codecov does):
 *   every line of it was complete, and truncation inside a line shows up as a syntax error.
 * - An input with no `SF` record at all is `report_empty`.
 *
 * Per record (one `SF` ... `end_of_record`):
 * - `DA:<line>,<count>[,<checksum>]` gives a hit count (the checksum from coverage.py is ignored).
 * - `BRDA:<line>,<block>,<branch>,<taken>` (taken `-` = not executed = 0) collects branches per
 *   line; the line's value becomes `"<taken>/<total>"` with type `b` (or `m` when an `FN` names
 *   that line), missing branches as `"<block>:<branch>"`, and it replaces the `DA` value of that
 *   line. A repeated block:branch pair keeps the last value.
 * - `FN:<line>,[<end line>,]<name>` marks method lines. In `.cpp` files, branch data of lines
 *   whose function name is mangled (`_Z...`, `_G...`, compiler-generated) is dropped, and in
 *   `.ts` files `BRDA` on line 1 is dropped (transpiler artefacts); both as Codecov does.
 * - Everything else (`TN`, `LF`, `LH`, `FNDA`, `FNF`, `FNH`, `BRF`, `BRH`, `VER`, `FNL`, `FNA`,
 *   unknown records, lines without `:`) is ignored.
 * A record's lines are emitted at its end (BRDA may follow DA), in ascending line order (so a
 * sink storing lines in arrival order needs no sort). A repeated DA line is emitted twice and
 * merged by the sink.
 *
 * One module on purpose (over the 400-line rule): the per-line dispatch, the DA/BRDA fast paths
 * and the record's typed-array state are the hot loop, and keeping them in one class keeps every
 * field access monomorphic and every call inlinable; the shared byte helpers live in `bytes.ts`.
 */
import { ReportParseError, type ParseErrorCode } from '../errors';
import type { CoverageSink, FileSink, LineExtras, ParserFactory, PushParser } from '../types';
import { resized } from '../columns';
import { ParseWarnings, type ParseWarningCode } from '../warnings';
import { DigitRun, indexOf, lastIndexOf, stableOrder as importedStableOrder, trim } from './bytes';
import { LineSplitter, decodeUtf8 as importedDecodeUtf8, type LineHandler } from './line-splitter';
import {
  NOT_A_UINT,
  UINT_CLAMPED,
  badCountCode,
  describeBadUint,
  isMalformedNumber,
  parseUint as importedParseUint,
} from './numbers';

// Local bindings: loaders such as tsx export functions through getters, which costs a call per
// use on the hot path.
const parseUint = importedParseUint;
const decodeUtf8 = importedDecodeUtf8;
const stableOrder = importedStableOrder;

const FORMAT = 'lcov';

const COLON = 0x3a;
const COMMA = 0x2c;
const DASH = 0x2d;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Branch ids are kept as numbers: numeric `block,branch` pairs (nearly all) as
 * `block * 2^21 + branch`, anything else as the negative index of its text in the record's
 * `idList`; texts are only built for missing branches.
 */
const ID_SHIFT = 2097152; // 2^21: block * 2^21 + branch stays below 2^53
const MAX_INT32 = 0x7fffffff;
/** Branch lines with fewer missing branches than this reuse one extras object per count. */
const MISSING_SCRATCH = 16;

class LcovParser implements PushParser, LineHandler {
  private readonly splitter: LineSplitter;
  private readonly maxLineNumber: number;
  private readonly maxHits: number;
  private readonly maxFiles: number;
  private readonly maxLineBytes: number;
  private readonly digits = new DigitRun();
  // The fields of the DA or BRDA line the fast readers (readDa, readBrda) took last.
  private fieldLine = 0;
  private fieldHits = 0;
  private fieldId = 0;
  private fieldTaken = 0;

  /** True between `SF` and `end_of_record`. */
  private inRecord = false;
  /** Sink of the open record, or null when the sink dropped its path. */
  private file: FileSink | null = null;
  /** Path of the open record as written, for warnings. */
  private path = '';
  private isCpp = false;
  private isTs = false;
  private records = 0;

  // DA values of the open record, kept until its end because BRDA of a line overrides DA.
  private daLines = new Int32Array(1024);
  private daHits = new Float64Array(1024);
  private daCount = 0;
  /** False once a DA line number went down (coverage.py lists executed, then missing lines). */
  private daSorted = true;
  // Scratch for sorting DA values; sized like daLines once needed.
  private sortKeys = new Float64Array(0);
  private sortOrder = new Uint32Array(0);
  private spareLines = new Int32Array(0);
  private spareHits = new Float64Array(0);
  // BRDA entries of the open record, in input order: line, id, taken (0/1). Tools write a line's
  // branches together, so a "run" of equal lines is one source line; a line that comes back
  // later, or lines going down, clear `brGrouped` and the record is regrouped at its end.
  private brLine = new Int32Array(256);
  private brId = new Float64Array(256);
  private brTaken = new Uint8Array(256);
  private brCount = 0;
  private brRunStart = 0;
  private brGrouped = true;
  // Scratch for regrouping, sized like brLine once needed.
  private brKeys = new Float64Array(0);
  private brOrder = new Uint32Array(0);
  private brSpareLine = new Int32Array(0);
  private brSpareId = new Float64Array(0);
  private brSpareTaken = new Uint8Array(0);
  /** id -> position in the current run, once a run is long (generated code). */
  private brRunIndex: Map<number, number> | null = null;
  /** Non-numeric branch ids of the open record: text -> id, and id -(k + 1) -> idList[k]. */
  private idTexts: Map<string, number> | null = null;
  private idList: string[] = [];
  // FN lines of the open record (method lines, and those of mangled C++ names), sorted at its end
  // when they came out of order; branch groups are emitted in ascending line order, so a cursor
  // into each list answers "is this a method line" without a set per record.
  private fnLines = new LineList();
  private mangledFnLines = new LineList();
  /** Reused extras of a branch line with k missing branches, k < MISSING_SCRATCH (index k). */
  private readonly missingExtras: LineExtras[] = Array.from({ length: MISSING_SCRATCH }, (_, k) => ({
    missingBranches: new Array<string>(k).fill(''),
  }));

  constructor(
    private readonly sink: CoverageSink,
    private readonly fileName: string,
    limits: { maxLineBytes: number; maxLineNumber: number; maxHits: number; maxFiles: number },
    private readonly warnings: ParseWarnings,
  ) {
    this.splitter = new LineSplitter(this, { maxLineBytes: limits.maxLineBytes, fileName, format: FORMAT });
    // Line numbers are kept in Int32Arrays; a larger configured limit is capped at 2^31 - 1.
    this.maxLineNumber = Math.min(limits.maxLineNumber, MAX_INT32);
    this.maxHits = limits.maxHits;
    this.maxFiles = limits.maxFiles;
    this.maxLineBytes = limits.maxLineBytes;
  }

  write(chunk: Uint8Array): void {
    this.splitter.push(chunk);
  }

  end(): void {
    if (!this.splitter.finish()) return;
    if (this.inRecord) this.closeRecord();
    if (this.records === 0) {
      throw this.error('report_empty', 'no SF record found', undefined);
    }
  }

  line(b: Uint8Array, s: number, e: number): void {
    const length = e - s;
    if (length < 3) return;
    const c0 = b[s];
    // Ordered by frequency in real reports: DA dominates.
    if (c0 === 0x44 /* D */ && b[s + 1] === 0x41 /* A */ && b[s + 2] === COLON) {
      this.da(b, s, e);
    } else if (c0 === 0x42 /* B */) {
      if (length >= 5 && b[s + 1] === 0x52 && b[s + 2] === 0x44 && b[s + 3] === 0x41 && b[s + 4] === COLON) {
        this.brda(b, s + 5, e);
      }
    } else if (c0 === 0x53 /* S */) {
      if (b[s + 1] === 0x46 /* F */ && b[s + 2] === COLON) this.sf(b, s + 3, e);
    } else if (c0 === 0x46 /* F */) {
      if (b[s + 1] === 0x4e /* N */ && b[s + 2] === COLON) this.fn(b, s + 3, e);
    } else if (c0 === 0x65 /* e */) {
      if (isEndOfRecord(b, s, e)) {
        if (this.inRecord) this.closeRecord();
      }
    }
  }

  /**
   * The record's `DA` and `BRDA` lines read in one pass that finds each line's end as it reads
   * the numbers (see `LineHandler.scan`): most of an LCOV file, which the splitter would otherwise
   * search for newlines first. Only lines that `da` and `brda` take on their fast paths with no
   * warning are consumed here; at any other line (another record type, a number to check or
   * explain, a line running past the chunk) it stops and the splitter hands that line to `line`.
   */
  scan(b: Buffer, start: number, end: number): number {
    if (!this.inRecord) return start;
    const maxHits = this.maxHits;
    const maxLineBytes = this.maxLineBytes;
    let pos = start;
    let lines = 0;
    while (end - pos >= 7) {
      const c0 = b[pos];
      let i: number;
      if (c0 === 0x44 /* D */ && b[pos + 1] === 0x41 /* A */ && b[pos + 2] === COLON) {
        i = this.readDa(b, pos + 3, end);
        if (i < 0 || i === end || this.fieldHits > maxHits) break;
        let nl = i;
        let e = i;
        const c = b[i];
        if (c === COMMA) {
          // coverage.py's checksum, ignored.
          nl = i + 1;
          while (nl < end && b[nl] !== LF) nl++;
          if (nl === end) break;
          e = b[nl - 1] === CR ? nl - 1 : nl;
        } else if (c === CR) nl = i + 1;
        else if (c !== LF) break;
        if (nl === end || b[nl] !== LF || e - pos > maxLineBytes) break;
        this.pushDa(this.fieldLine, this.fieldHits);
        pos = nl + 1;
      } else if (c0 === 0x42 /* B */ && b[pos + 1] === 0x52 && b[pos + 2] === 0x44 && b[pos + 3] === 0x41 && b[pos + 4] === COLON) {
        i = this.readBrda(b, pos + 5, end);
        if (i < 0 || i === end) break;
        const nl = b[i] === CR ? i + 1 : i;
        if (nl === end || b[nl] !== LF || i - pos > maxLineBytes) break;
        this.addBranch(this.fieldLine, this.fieldId, this.fieldTaken);
        pos = nl + 1;
      } else break;
      lines++;
    }
    this.splitter.lineNumber += lines;
    return pos;
  }

  private sf(b: Uint8Array, s: number, e: number): void {
    if (this.inRecord) this.closeRecord();
    const [ps, pe] = trim(b, s, e);
    if (ps === pe) throw this.error('invalid_syntax', 'SF with an empty path', 1);
    const path = decodeUtf8(b, ps, pe);
    if (path === null) throw this.error('invalid_utf8', 'SF path is not valid UTF-8', ps - s + 4);
    if (++this.records > this.maxFiles) {
      throw this.error('limit_exceeded', `more than ${this.maxFiles} SF records`, undefined, 'maxFiles');
    }
    this.inRecord = true;
    this.path = path;
    this.file = this.sink.file(path);
    this.isCpp = path.endsWith('.cpp');
    this.isTs = path.endsWith('.ts');
  }

  private da(b: Uint8Array, s: number, e: number): void {
    // Fast path for the overwhelmingly common `DA:<digits>,<digits>[,...]`; anything unusual
    // (a count to clamp included) goes through `daSlow`, which accepts padding and explains errors.
    const i = this.readDa(b, s + 3, e);
    if (i < 0 || (i < e && b[i] !== COMMA) || this.fieldHits > this.maxHits) return this.daSlow(b, s, e);
    this.pushDa(this.fieldLine, this.fieldHits);
  }

  /**
   * The fast form of a DA line's fields from `s` (after `DA:`): `<line>,<count>`, plain digits, a
   * line number in range. Leaves them in fieldLine and fieldHits and answers where the count ends;
   * -1 for anything else.
   */
  private readDa(b: Uint8Array, s: number, e: number): number {
    const digits = this.digits;
    let i = digits.scan(b, s, e);
    const ln = digits.value;
    if (i === s || i - s > 15 || i === e || b[i] !== COMMA || ln === 0 || ln > this.maxLineNumber) return -1;
    const hitStart = i + 1;
    i = digits.scan(b, hitStart, e);
    if (i === hitStart || i - hitStart > 15) return -1;
    this.fieldLine = ln;
    this.fieldHits = digits.value;
    return i;
  }

  private daSlow(b: Uint8Array, s: number, e: number): void {
    const fieldsStart = s + 3;
    const c1 = indexOf(b, COMMA, fieldsStart, e);
    if (c1 < 0) throw this.error('invalid_syntax', 'DA needs <line>,<count>', 4);
    let c2 = indexOf(b, COMMA, c1 + 1, e);
    if (c2 < 0) c2 = e;
    const ln = this.lineNumberField(b, fieldsStart, c1, s, 'DA');
    if (ln < 0) return this.checkInRecord('DA');
    const hits = this.countField(b, c1 + 1, c2, s, 'DA');
    if (hits < 0) return this.checkInRecord('DA');
    this.pushDa(ln, hits);
  }

  private checkInRecord(record: string): void {
    if (!this.inRecord) throw this.error('invalid_syntax', `${record} outside a record (no SF before it)`, 1);
  }

  private pushDa(ln: number, hits: number): void {
    this.checkInRecord('DA');
    if (this.file === null) return;
    const n = this.daCount;
    if (n === this.daLines.length) {
      this.daLines = resized(this.daLines, n * 2);
      this.daHits = resized(this.daHits, n * 2);
    }
    if (n > 0 && ln < this.daLines[n - 1]!) this.daSorted = false;
    this.daLines[n] = ln;
    this.daHits[n] = hits;
    this.daCount = n + 1;
  }

  private brda(b: Uint8Array, fieldsStart: number, e: number): void {
    if (this.readBrda(b, fieldsStart, e) !== e || !this.inRecord) return this.brdaSlow(b, fieldsStart, e);
    this.addBranch(this.fieldLine, this.fieldId, this.fieldTaken);
  }

  /**
   * The fast form of a BRDA line's fields from `s` (after `BRDA:`): `<line>,<block>,<branch>,<taken>`
   * with plain numbers, a line number in range, short block and branch numbers without leading
   * zeros (so their id text can be rebuilt from the number), `-` or digits taken. Leaves them in
   * fieldLine, fieldId and fieldTaken and answers where the taken count ends; -1 for anything else.
   */
  private readBrda(b: Uint8Array, s: number, e: number): number {
    const digits = this.digits;
    let i = digits.scan(b, s, e);
    const ln = digits.value;
    if (i === s || i - s > 15 || i === e || b[i] !== COMMA || ln === 0 || ln > this.maxLineNumber) return -1;
    const blockStart = i + 1;
    i = digits.scan(b, blockStart, e);
    const block = digits.value;
    const blockLength = i - blockStart;
    if (blockLength === 0 || blockLength > 6 || i === e || b[i] !== COMMA || (blockLength > 1 && b[blockStart] === 0x30)) return -1;
    const branchStart = i + 1;
    i = digits.scan(b, branchStart, e);
    const branch = digits.value;
    const branchLength = i - branchStart;
    if (branchLength === 0 || branchLength > 6 || i === e || b[i] !== COMMA || (branchLength > 1 && b[branchStart] === 0x30)) return -1;
    const takenStart = i + 1;
    if (takenStart === e) return -1;
    if (b[takenStart] === DASH) {
      this.fieldTaken = 0;
      i = takenStart + 1;
    } else {
      i = digits.scan(b, takenStart, e);
      if (i === takenStart) return -1;
      // Any digit string of a non-zero value (an overlong one reaches Infinity) means taken.
      this.fieldTaken = digits.value > 0 ? 1 : 0;
    }
    this.fieldLine = ln;
    this.fieldId = block * ID_SHIFT + branch;
    return i;
  }

  /** Any BRDA the fast path does not take: padding, text ids, errors. */
  private brdaSlow(b: Uint8Array, fieldsStart: number, e: number): void {
    const s = fieldsStart - 5;
    if (!this.inRecord) throw this.error('invalid_syntax', 'BRDA outside a record (no SF before it)', 1);
    // BRDA:<line>,<block>,<branch>,<taken>. lcov 2.x branch expressions may contain commas, so
    // the count is taken after the last comma.
    const c1 = indexOf(b, COMMA, fieldsStart, e);
    const c2 = c1 < 0 ? -1 : indexOf(b, COMMA, c1 + 1, e);
    const c3 = lastIndexOf(b, COMMA, fieldsStart, e);
    if (c2 < 0 || c3 <= c2) throw this.error('invalid_syntax', 'BRDA needs <line>,<block>,<branch>,<taken>', 6);
    let ln = parseUint(b, fieldsStart, c1);
    if (ln === 0) return; // coverage.py: arcs from the module entry
    if (ln === NOT_A_UINT || ln > this.maxLineNumber) {
      ln = this.lineNumberField(b, fieldsStart, c1, s, 'BRDA');
      if (ln < 0) return;
    }
    const [ts, te] = trim(b, c3 + 1, e);
    let taken: number;
    if (te - ts === 1 && b[ts] === DASH) taken = 0;
    else {
      const count = this.countField(b, ts, te, s, 'BRDA');
      if (count < 0) return;
      taken = count > 0 ? 1 : 0;
    }
    if (this.file === null) return;
    this.addBranch(ln, this.branchId(b, c1, c2, c3, s), taken);
  }

  private addBranch(ln: number, id: number, taken: number): void {
    if (this.file === null) return;
    if (ln === 1 && this.isTs) return;
    const n = this.brCount;
    if (n > 0 && this.brLine[n - 1] === ln) {
      // Same line as the previous BRDA: a repeated block:branch keeps its last value.
      const index = this.brRunIndex;
      if (index !== null) {
        const at = index.get(id);
        if (at !== undefined) {
          this.brTaken[at] = taken;
          return;
        }
        index.set(id, n);
      } else {
        const ids = this.brId;
        for (let k = this.brRunStart; k < n; k++) {
          if (ids[k] === id) {
            this.brTaken[k] = taken;
            return;
          }
        }
        if (n - this.brRunStart >= 32) {
          const map = new Map<number, number>();
          for (let k = this.brRunStart; k < n; k++) map.set(ids[k]!, k);
          map.set(id, n);
          this.brRunIndex = map;
        }
      }
    } else {
      // Runs with ascending lines are each a distinct line; anything else is regrouped.
      if (n > 0 && ln < this.brLine[n - 1]!) this.brGrouped = false;
      this.brRunStart = n;
      this.brRunIndex = null;
    }
    if (n === this.brLine.length) this.growBranches();
    this.brLine[n] = ln;
    this.brId[n] = id;
    this.brTaken[n] = taken;
    this.brCount = n + 1;
  }

  private growBranches(): void {
    const n = this.brLine.length * 2;
    this.brLine = resized(this.brLine, n);
    this.brId = resized(this.brId, n);
    this.brTaken = resized(this.brTaken, n);
  }

  /** Numeric id of the branch whose block is (c1, c2) and branch (c2, c3) in the line. */
  private branchId(b: Uint8Array, c1: number, c2: number, c3: number, s: number): number {
    // Numeric without leading zeros, so the id text can be rebuilt exactly.
    const blockLength = c2 - c1 - 1;
    const branchLength = c3 - c2 - 1;
    if (blockLength <= 6 && branchLength <= 6 && (blockLength === 1 || b[c1 + 1] !== 0x30) &&
        (branchLength === 1 || b[c2 + 1] !== 0x30)) {
      const block = parseUint(b, c1 + 1, c2);
      const branch = parseUint(b, c2 + 1, c3);
      if (block !== NOT_A_UINT && branch !== NOT_A_UINT && block < ID_SHIFT && branch < ID_SHIFT) {
        return block * ID_SHIFT + branch;
      }
    }
    const text = decodeUtf8(b, c1 + 1, c3);
    if (text === null) throw this.error('invalid_utf8', 'BRDA block or branch is not valid UTF-8', c1 + 2 - s);
    // The id is "<block>:<branch>": replace the comma between them.
    const key = text.slice(0, c2 - c1 - 1) + ':' + text.slice(c2 - c1);
    const texts = (this.idTexts ??= new Map());
    let id = texts.get(key);
    if (id === undefined) {
      this.idList.push(key);
      texts.set(key, (id = -this.idList.length));
    }
    return id;
  }

  private idText(id: number): string {
    if (id < 0) return this.idList[-id - 1]!;
    const block = Math.floor(id / ID_SHIFT);
    const branch = id % ID_SHIFT;
    if (block >= 256 || branch >= 64) return `${block}:${branch}`;
    const k = block * 64 + branch;
    const text = ID_TEXTS[k]!;
    return text !== '' ? text : (ID_TEXTS[k] = `${block}:${branch}`);
  }

  private fn(b: Uint8Array, fieldsStart: number, e: number): void {
    const s = fieldsStart - 3;
    if (!this.inRecord) throw this.error('invalid_syntax', 'FN outside a record (no SF before it)', 1);
    const c1 = indexOf(b, COMMA, fieldsStart, e);
    if (c1 < 0) throw this.error('invalid_syntax', 'FN needs <line>,<name>', 4);
    const ln = this.lineNumberField(b, fieldsStart, c1, s, 'FN');
    if (ln < 0 || this.file === null) return;
    let nameStart = c1 + 1;
    // lcov 2.x: FN:<line>,<end line>,<name>
    const c2 = indexOf(b, COMMA, nameStart, e);
    if (c2 > nameStart && parseUint(b, nameStart, c2) !== NOT_A_UINT) nameStart = c2 + 1;
    if (this.isCpp && e - nameStart >= 2 && b[nameStart] === 0x5f /* _ */ &&
        (b[nameStart + 1] === 0x5a /* Z */ || b[nameStart + 1] === 0x47 /* G */)) {
      this.mangledFnLines.add(ln);
    } else {
      this.fnLines.add(ln);
    }
  }

  private closeRecord(): void {
    const file = this.file;
    if (file !== null) {
      if (!this.daSorted) this.sortDa();
      const lines = this.daLines;
      const hits = this.daHits;
      const count = this.daCount;
      if (this.brCount === 0) {
        for (let i = 0; i < count; i++) file.line(lines[i]!, hits[i]!);
      } else {
        if (!this.brGrouped) this.regroupBranches();
        this.fnLines.rewind();
        this.mangledFnLines.rewind();
        // Branch lines are merged into the (ascending) DA sequence by line number, so a sink that
        // stores lines in arrival order gets them ascending and needs no sort. A DA line with
        // branch data is the next branch line when both are at it; the branch value replaces it.
        const brLine = this.brLine;
        const nb = this.brCount;
        let gs = this.nextBranchGroup(0);
        for (let i = 0; i < count; i++) {
          const ln = lines[i]!;
          while (gs < nb && brLine[gs]! < ln) gs = this.emitBranchGroup(file, gs);
          if (gs === nb || brLine[gs] !== ln) file.line(ln, hits[i]!);
        }
        while (gs < nb) gs = this.emitBranchGroup(file, gs);
      }
    }
    this.inRecord = false;
    this.file = null;
    this.daCount = 0;
    this.daSorted = true;
    this.brCount = 0;
    this.brRunStart = 0;
    this.brGrouped = true;
    this.brRunIndex = null;
    if (this.idTexts !== null) {
      this.idTexts = null;
      this.idList = [];
    }
    this.fnLines.clear();
    this.mangledFnLines.clear();
  }

  /** Start of the first branch group at or after `from` whose line is not a mangled C++ function. */
  private nextBranchGroup(from: number): number {
    const mangled = this.mangledFnLines;
    if (mangled.count === 0) return from;
    const brLine = this.brLine;
    const nb = this.brCount;
    let gs = from;
    while (gs < nb && mangled.next(brLine[gs]!)) {
      const ln = brLine[gs]!;
      while (gs < nb && brLine[gs] === ln) gs++;
    }
    return gs;
  }

  /** Emits the branch line starting at entry `gs`; returns the start of the next group. */
  private emitBranchGroup(file: FileSink, gs: number): number {
    const brLine = this.brLine;
    const nb = this.brCount;
    const ln = brLine[gs]!;
    let ge = gs;
    const brTaken = this.brTaken;
    let takenCount = 0;
    for (; ge < nb && brLine[ge] === ln; ge++) takenCount += brTaken[ge]!;
    const total = ge - gs;
    const type = this.fnLines.count !== 0 && this.fnLines.next(ln) ? 'm' : 'b';
    const missingCount = total - takenCount;
    let extras: LineExtras | undefined;
    if (missingCount > 0) {
      // The sink copies what it keeps (FileSink.line): short lists reuse one array per length.
      extras = missingCount < MISSING_SCRATCH ? this.missingExtras[missingCount]! : { missingBranches: new Array<string>(missingCount) };
      const missing = extras.missingBranches!;
      let k = 0;
      for (let i = gs; i < ge; i++) if (brTaken[i] === 0) missing[k++] = this.idText(this.brId[i]!);
    }
    if (file.branches !== undefined) file.branches(ln, takenCount, total, type, extras);
    else file.line(ln, fraction(takenCount, total), type, extras);
    return this.nextBranchGroup(ge);
  }

  /**
   * Groups the record's branch entries by line (ascending; a line's entries in input order),
   * merging a line's entries that came in separate runs: a repeated id keeps its first position
   * and its last value.
   */
  private regroupBranches(): void {
    const n = this.brCount;
    const brLine = this.brLine;
    const brId = this.brId;
    const brTaken = this.brTaken;
    const size = brLine.length;
    if (this.brSpareLine.length !== size) {
      this.brKeys = new Float64Array(size);
      this.brOrder = new Uint32Array(size);
      this.brSpareLine = new Int32Array(size);
      this.brSpareId = new Float64Array(size);
      this.brSpareTaken = new Uint8Array(size);
    }
    const order = stableOrder(brLine, n, this.brKeys, this.brOrder);
    const outLine = this.brSpareLine;
    const outId = this.brSpareId;
    const outTaken = this.brSpareTaken;
    let k = 0;
    for (let i = 0; i < n; ) {
      const ln = brLine[order[i]!]!;
      const groupStart = k;
      let index: Map<number, number> | null = null;
      for (; i < n && brLine[order[i]!] === ln; i++) {
        const at = order[i]!;
        const id = brId[at]!;
        let found = -1;
        if (index !== null) found = index.get(id) ?? -1;
        else {
          for (let q = groupStart; q < k; q++) {
            if (outId[q] === id) {
              found = q;
              break;
            }
          }
        }
        if (found >= 0) {
          outTaken[found] = brTaken[at]!;
          continue;
        }
        outLine[k] = ln;
        outId[k] = id;
        outTaken[k] = brTaken[at]!;
        index?.set(id, k);
        k++;
        if (index === null && k - groupStart >= 32) {
          index = new Map();
          for (let q = groupStart; q < k; q++) index.set(outId[q]!, q);
        }
      }
    }
    // Swap: the regrouped columns become current, the old ones the spare for the next record.
    this.brSpareLine = brLine;
    this.brSpareId = brId;
    this.brSpareTaken = brTaken;
    this.brLine = outLine;
    this.brId = outId;
    this.brTaken = outTaken;
    this.brCount = k;
  }

  /**
   * Orders the record's DA values by line (stable, so repeats keep their order): sinks that store
   * lines in arrival order then need no sort of their own.
   */
  private sortDa(): void {
    const n = this.daCount;
    if (this.sortKeys.length < n || this.spareLines.length < n) {
      this.sortKeys = new Float64Array(this.daLines.length);
      this.sortOrder = new Uint32Array(this.daLines.length);
      this.spareLines = new Int32Array(this.daLines.length);
      this.spareHits = new Float64Array(this.daLines.length);
    }
    const from = this.daLines;
    const fromHits = this.daHits;
    const lines = this.spareLines;
    const hits = this.spareHits;
    let runs = 1;
    let split = 0;
    for (let i = 1; i < n; i++) {
      if (from[i]! < from[i - 1]!) {
        runs++;
        split = i;
      }
    }
    if (runs === 2) {
      // coverage.py: executed lines ascending, then missing lines ascending. Merge the two runs
      // (ties from the first run first, which keeps repeats in input order).
      let a = 0;
      let b = split;
      let k = 0;
      while (a < split && b < n) {
        if (from[b]! < from[a]!) {
          lines[k] = from[b]!;
          hits[k++] = fromHits[b++]!;
        } else {
          lines[k] = from[a]!;
          hits[k++] = fromHits[a++]!;
        }
      }
      for (; a < split; a++, k++) {
        lines[k] = from[a]!;
        hits[k] = fromHits[a]!;
      }
      for (; b < n; b++, k++) {
        lines[k] = from[b]!;
        hits[k] = fromHits[b]!;
      }
    } else {
      const order = stableOrder(from, n, this.sortKeys, this.sortOrder);
      for (let i = 0; i < n; i++) {
        lines[i] = from[order[i]!]!;
        hits[i] = fromHits[order[i]!]!;
      }
    }
    // Swap: the sorted copy becomes current, the old arrays the spare for the next record.
    this.spareLines = from;
    this.spareHits = fromHits;
    this.daLines = lines;
    this.daHits = hits;
  }

  /**
   * A line number field: 1..maxLineNumber, surrounding blanks allowed. A malformed number, 0 or
   * a number past the limit is counted as a warning and answers -1: the caller skips the record.
   * Other text is an error.
   */
  private lineNumberField(b: Uint8Array, fs: number, fe: number, lineStart: number, record: string): number {
    const direct = parseUint(b, fs, fe);
    if (direct > 0 && direct <= this.maxLineNumber) return direct;
    const [ts, te] = trim(b, fs, fe);
    const n = parseUint(b, ts, te);
    if (n > 0 && n <= this.maxLineNumber) return n;
    const column = ts - lineStart + 1;
    if (n === NOT_A_UINT && !isMalformedNumber(b, ts, te)) {
      throw this.error('invalid_number', `${record} line number: ${describeBadUint(b, ts, te)}`, column);
    }
    this.warn(n > this.maxLineNumber ? 'line_number_out_of_range' : 'invalid_line_number', column, record);
    return -1;
  }

  /**
   * A hit count field: unsigned integer, clamped to maxHits (with a warning), surrounding blanks
   * allowed. A malformed number: a warning, and -1 so the caller skips the record. Other text is
   * an error.
   */
  private countField(b: Uint8Array, fs: number, fe: number, lineStart: number, record: string): number {
    const [ts, te] = trim(b, fs, fe);
    const n = parseUint(b, ts, te);
    if (n === NOT_A_UINT) {
      if (!isMalformedNumber(b, ts, te)) {
        throw this.error('invalid_number', `${record} count: ${describeBadUint(b, ts, te)}`, ts - lineStart + 1);
      }
      this.warn(badCountCode(b, ts, te), ts - lineStart + 1, record);
      return -1;
    }
    // parseUint stops at UINT_CLAMPED: a longer digit string was clamped there already.
    return n > this.maxHits || n === UINT_CLAMPED ? this.clampHits(n, ts - lineStart + 1, record) : n;
  }

  private clampHits(n: number, column: number, record: string): number {
    this.warn('count_clamped', column, record);
    return n > this.maxHits ? this.maxHits : n;
  }

  /** Counts a skipped or clamped record; records of a dropped file are not worth a warning. */
  private warn(code: ParseWarningCode, column: number, record: string): void {
    if (this.inRecord && this.file === null) return;
    if (!this.warnings.wantsPosition(code)) return this.warnings.add(code);
    const line = this.splitter.lineNumber;
    this.warnings.add(code, { line: line > 0 ? line : undefined, column, source: this.inRecord ? this.path : undefined, field: record });
  }

  private error(code: ParseErrorCode, reason: string, column: number | undefined, limit?: string): ReportParseError {
    return this.splitter.errorAt(code, reason, column, limit);
  }
}

/** Texts of small numeric branch ids and fractions, built once: most lines have a few branches. */
// Filled arrays (not holey ones), so lookups stay fast element accesses.
const ID_TEXTS: string[] = new Array<string>(256 * 64).fill('');
const FRACTIONS: string[] = new Array<string>(64 * 64).fill('');

function fraction(taken: number, total: number): string {
  if (total >= 64) return `${taken}/${total}`;
  const k = total * 64 + taken;
  const text = FRACTIONS[k]!;
  return text !== '' ? text : (FRACTIONS[k] = `${taken}/${total}`);
}

/**
 * A record's FN lines: appended, then (once sorted) asked in ascending order whether a line is
 * among them, each question moving a cursor forward.
 */
class LineList {
  private lines = new Int32Array(64);
  count = 0;
  private sorted = true;
  private at = 0;

  add(ln: number): void {
    const n = this.count;
    if (n === this.lines.length) this.lines = resized(this.lines, n * 2);
    if (n > 0 && ln < this.lines[n - 1]!) this.sorted = false;
    this.lines[n] = ln;
    this.count = n + 1;
  }

  /** Sorts the list when needed and moves the cursor to its start. */
  rewind(): void {
    if (!this.sorted) {
      this.lines.subarray(0, this.count).sort();
      this.sorted = true;
    }
    this.at = 0;
  }

  /** Whether `ln` is in the list; `ln` must not be below the line asked before. */
  next(ln: number): boolean {
    const lines = this.lines;
    const n = this.count;
    let at = this.at;
    while (at < n && lines[at]! < ln) at++;
    this.at = at;
    return at < n && lines[at] === ln;
  }

  clear(): void {
    this.count = 0;
    this.sorted = true;
    this.at = 0;
  }
}

function isEndOfRecord(b: Uint8Array, s: number, e: number): boolean {
  const word = 'end_of_record';
  if (e - s < word.length) return false;
  for (let i = 0; i < word.length; i++) if (b[s + i] !== word.charCodeAt(i)) return false;
  for (let i = s + word.length; i < e; i++) if (b[i] !== 0x20 && b[i] !== 0x09) return false;
  return true;
}

export const createLcovParser: ParserFactory = (sink, ctx) =>
  new LcovParser(sink, ctx.fileName, ctx.limits, ctx.warnings ?? new ParseWarnings());
