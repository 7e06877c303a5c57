/**
 * Go coverprofile parser (`go test -coverprofile`, any mode).
 *
 *   mode: set|count|atomic
 *   <file>:<startLine>.<startCol>,<endLine>.<endCol> <numStatements> <count>
 *
 * Semantics follow Codecov's Go processor:
 * - A block on one line gives that line the span [startCol, endCol, count]. A block over several
 *   lines gives its first line [startCol, null, count], the lines between [0, null, count] and
 *   its last line [null, endCol, count] unless endCol <= 2 (only the closing brace is there).
 * - Identical spans on a line count once (merged profiles repeat blocks); overlapping spans are
 *   combined column by column, the highest count winning (a leading [0, 1] segment is dropped as
 *   noise), and then the line's value is the count when one span remains, else
 *   `"<spans hit>/<spans>"`; in that case the spans are passed on as `partials`. When no span has
 *   any width, the line takes the highest count.
 * - Repeated `mode:` lines (concatenated profiles) are fine; a line whose part after the path is
 *   empty or ends in `%` (`go tool cover -func` output) is skipped.
 * A block whose count or line numbers are malformed numbers (negative, fractional, `NaN`), or
 * whose line is 0 or above `maxLineNumber`, is skipped with a warning; counts above `maxHits` are
 * clamped, with a warning. Anything else that is not a well-formed block line is a
 * `ReportParseError` (bad columns or statement counts, an end before the start, broken syntax).
 * A Windows drive prefix (`C:\...`) is not taken for the path separator.
 *
 * A file's blocks may be scattered over the profile, so blocks are kept (in typed arrays) until
 * `end()` and each file is emitted once, in order of first appearance, lines ascending. The lines
 * blocks may claim in total are bounded (see `addBlock`), so a few bytes cannot expand into
 * millions of report lines beyond what `maxLineNumber` allows.
 *
 * One module on purpose (over the 400-line rule): the block-line fast path and the per-file
 * span sweep are the hot loop over typed-array state of one class; shared byte helpers live in
 * `bytes.ts`.
 */
import { ReportParseError, type ParseErrorCode } from '../errors';
import type { CoverageSink, ParserFactory, PartialSpan, PushParser } from '../types';
import { resized } from '../columns';
import { stableOrder as importedStableOrder } from './bytes';
import { LineSplitter, decodeUtf8 as importedDecodeUtf8, type LineHandler } from './line-splitter';
import { ParseWarnings, type ParseWarningCode } from '../warnings';
import { UINT_CLAMPED, badCountCode, describeBadUint, isMalformedNumber, parseUint as importedParseUint } from './numbers';

// Local bindings: loaders such as tsx export functions through getters, which costs a call per
// use on the hot path.
const parseUint = importedParseUint;
const decodeUtf8 = importedDecodeUtf8;
const stableOrder = importedStableOrder;

const FORMAT = 'go';
const EXPECTED = 'expected <file>:<line>.<column>,<line>.<column> <statements> <count>';

/** Blocks of one source file, as parallel growable columns. */
class FileBlocks {
  count = 0;
  /** startLine, startCol, endLine, endCol per block. */
  pos = new Int32Array(64);
  hits = new Float64Array(16);

  constructor(readonly path: string) {}

  add(sl: number, sc: number, el: number, ec: number, hits: number): void {
    const n = this.count;
    if (n === this.hits.length) {
      this.pos = resized(this.pos, n * 8);
      this.hits = resized(this.hits, n * 2);
    }
    const p = n * 4;
    this.pos[p] = sl;
    this.pos[p + 1] = sc;
    this.pos[p + 2] = el;
    this.pos[p + 3] = ec;
    this.hits[n] = hits;
    this.count = n + 1;
  }
}

/** Column span with null for an open start or end; `null` is kept as -1 in the typed arrays. */
type Span = [start: number | null, end: number | null, hits: number];

class GoParser implements PushParser, LineHandler {
  private readonly splitter: LineSplitter;
  private readonly files = new Map<string, FileBlocks>();
  private lastPath: Uint8Array = new Uint8Array(0);
  private lastFile: FileBlocks | null = null;
  private blocks = 0;
  private readonly fields = [0, 0, 0, 0, 0, 0];
  // Scratch columns for one file's line entries and multi-line ranges, reused across files.
  private eLine = new Int32Array(256);
  private eStart = new Int32Array(256);
  private eEnd = new Int32Array(256);
  private eHits = new Float64Array(256);
  private rStart = new Int32Array(256);
  private rEnd = new Int32Array(256);
  private rHits = new Float64Array(256);
  private keys = new Float64Array(256);
  private order = new Uint32Array(256);
  private rOrder = new Uint32Array(256);
  /** Per-line entries that expanding all blocks will produce; bounded, see `addBlock`. */
  private expandedLines = 0;

  constructor(
    private readonly sink: CoverageSink,
    private readonly fileName: string,
    private readonly limits: { maxLineBytes: number; maxLineNumber: number; maxHits: number; maxFiles: number },
    private readonly warnings: ParseWarnings,
  ) {
    this.splitter = new LineSplitter(this, { maxLineBytes: limits.maxLineBytes, fileName, format: FORMAT });
    // parseUint stops at UINT_CLAMPED, so a count there was clamped already.
    this.clampFrom = Math.min(limits.maxHits + 1, UINT_CLAMPED);
  }

  /** Counts from here on are clamped to maxHits, with a warning. */
  private readonly clampFrom: number;

  write(chunk: Uint8Array): void {
    this.splitter.push(chunk);
  }

  end(): void {
    if (!this.splitter.finish()) return;
    if (this.files.size === 0) throw this.error('report_empty', 'no coverage blocks found', undefined);
    for (const blocks of this.files.values()) this.emitFile(blocks);
  }

  line(b: Uint8Array, s: number, e: number): void {
    while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0x09)) e--;
    if (s === e) return;
    if (e - s >= 5 && b[s] === 0x6d && b[s + 1] === 0x6f && b[s + 2] === 0x64 && b[s + 3] === 0x65 && b[s + 4] === 0x3a) {
      return this.mode(b, s, e);
    }
    // The path ends at the first ':' (Go import paths have none), after a Windows drive prefix.
    let from = s;
    if (e - s > 3 && b[s + 1] === 0x3a && (b[s + 2] === 0x5c || b[s + 2] === 0x2f) && isLetter(b[s]!)) from = s + 2;
    let colon = -1;
    for (let i = from; i < e; i++) {
      if (b[i] === 0x3a) {
        colon = i;
        break;
      }
    }
    if (colon < 0) throw this.error('invalid_syntax', EXPECTED, 1);
    if (colon === s) throw this.error('invalid_syntax', 'empty file path', 1);
    if (colon + 1 === e || b[e - 1] === 0x25 /* % */) return;
    this.block(b, s, colon, e);
  }

  private mode(b: Uint8Array, s: number, e: number): void {
    let i = s + 5;
    while (i < e && b[i] === 0x20) i++;
    const mode = String.fromCharCode(...b.subarray(i, Math.min(e, i + 8)));
    if (e - i > 8 || (mode !== 'set' && mode !== 'count' && mode !== 'atomic')) {
      throw this.error('invalid_syntax', 'mode must be set, count or atomic', i - s + 1);
    }
  }

  private block(b: Uint8Array, s: number, colon: number, e: number): void {
    // <startLine>.<startCol>,<endLine>.<endCol> <statements> <count>
    const fields = this.fields;
    let i = colon + 1;
    for (let f = 0; f < 6; f++) {
      const fs = i;
      while (i < e && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
      const sep = SEPARATORS[f]!;
      if (i === fs || (sep >= 0 ? i >= e || b[i] !== sep : i !== e)) return this.badField(b, s, colon, e, f, fs);
      fields[f] = parseUint(b, fs, i);
      i++;
    }
    const sl = fields[0]!;
    const sc = fields[1]!;
    const el = fields[2]!;
    const ec = fields[3]!;
    const rawHits = fields[5]!;
    const column = colon - s + 2;
    if (!this.lineOk(sl, b, s, colon, column, 0) || !this.lineOk(el, b, s, colon, column, 2)) return;
    if (el < sl) throw this.error('invalid_syntax', `block ends (line ${el}) before it starts (line ${sl})`, column);
    if (sc > 0x7fffffff || ec > 0x7fffffff) throw this.error('invalid_number', 'column number too large', column);
    let hits = rawHits;
    if (rawHits >= this.clampFrom) {
      this.warn('count_clamped', b, s, colon, undefined, FIELD_NAMES[5]!);
      if (hits > this.limits.maxHits) hits = this.limits.maxHits;
    }
    this.addBlock(this.fileFor(b, s, colon), sl, sc, el, ec, hits);
  }

  /**
   * Field `f` starting at `fs` is not what the syntax wants. A malformed number (see
   * isMalformedNumber) in a line or count field skips the block with a warning; a bad column or
   * statement count, other text (a damaged line) or a wrong shape is an error.
   */
  private badField(b: Uint8Array, s: number, colon: number, e: number, f: number, fs: number): void {
    const sep = SEPARATORS[f]!;
    let fe = fs;
    // Position fields end at any punctuation; the two counts only at a blank, so "1.5" is one token.
    while (fe < e && b[fe] !== 0x20 && (f >= 4 || (b[fe] !== 0x2c && b[fe] !== 0x2e))) fe++;
    const wellPlaced = sep < 0 ? fe === e : fe < e && b[fe] === sep;
    if (fe > fs && wellPlaced) {
      const malformed = isMalformedNumber(b, fs, fe);
      if (malformed && (f === 0 || f === 2)) return this.warn('invalid_line_number', b, s, colon, fs - s + 1, FIELD_NAMES[f]!);
      if (malformed && f === 5) return this.warn(badCountCode(b, fs, fe), b, s, colon, fs - s + 1, FIELD_NAMES[f]!);
      throw this.error('invalid_number', `${FIELD_NAMES[f]}: ${describeBadUint(b, fs, fe)}`, fs - s + 1);
    }
    throw this.error('invalid_syntax', EXPECTED, fs - s + 1);
  }

  /** False, with a warning, for line 0 or a line above maxLineNumber: the block is skipped. */
  private lineOk(ln: number, b: Uint8Array, s: number, colon: number, column: number, f: number): boolean {
    // Line numbers are kept in Int32Arrays; a larger configured limit is capped at 2^31 - 1.
    if (ln !== 0 && ln <= this.limits.maxLineNumber && ln <= 0x7fffffff) return true;
    this.warn(ln === 0 ? 'invalid_line_number' : 'line_number_out_of_range', b, s, colon, column, FIELD_NAMES[f]!);
    return false;
  }

  private warn(code: ParseWarningCode, b: Uint8Array, s: number, colon: number, column: number | undefined, field: string): void {
    if (!this.warnings.wantsPosition(code)) return this.warnings.add(code);
    this.warnings.add(code, { line: this.splitter.lineNumber, column, source: decodeUtf8(b, s, colon) ?? undefined, field });
  }

  private fileFor(b: Uint8Array, s: number, colon: number): FileBlocks {
    const last = this.lastPath;
    const length = colon - s;
    if (this.lastFile !== null && last.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (last[i] !== b[s + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastFile;
    }
    const path = decodeUtf8(b, s, colon);
    if (path === null) throw this.error('invalid_utf8', 'file path is not valid UTF-8', 1);
    let file = this.files.get(path);
    if (file === undefined) {
      if (this.files.size >= this.limits.maxFiles) {
        throw this.error('limit_exceeded', `more than ${this.limits.maxFiles} files`, 1, 'maxFiles');
      }
      file = new FileBlocks(path);
      this.files.set(path, file);
    }
    // A copy: `b` may be the splitter's carry buffer, reused for the next line (and a Buffer's
    // slice() is a view, not a copy).
    this.lastPath = new Uint8Array(b.subarray(s, colon));
    this.lastFile = file;
    return file;
  }

  private addBlock(file: FileBlocks, sl: number, sc: number, el: number, ec: number, hits: number): void {
    // Each line a block covers becomes a line of the report. Real blocks span a few lines (2.7 on
    // average in the Go standard library's profile, at most 16); a hostile profile could claim
    // millions per block, so the total is bounded: maxLineNumber / 10 + 16 lines per block.
    // `maxLineNumber` is the knob that raises it.
    this.blocks++;
    this.expandedLines += el - sl + 1;
    const budget = Math.floor(this.limits.maxLineNumber / 10) + 16 * this.blocks;
    if (this.expandedLines > budget) {
      throw this.error(
        'limit_exceeded',
        `blocks cover ${this.expandedLines} lines, more than maxLineNumber / 10 + 16 per block (${budget})`,
        undefined,
        'maxLineNumber',
      );
    }
    file.add(sl, sc, el, ec, hits);
  }

  /**
   * Emits one file's lines in ascending order. Blocks give entries for their first and last line
   * and a range for the lines between (kept as a range, so memory follows the number of blocks,
   * not of lines); a sweep over lines then gathers each line's spans.
   */
  private emitFile(blocks: FileBlocks): void {
    const sink = this.sink.file(blocks.path);
    if (sink === null) return;
    const n = blocks.count;
    const pos = blocks.pos;
    if (this.eLine.length < 2 * n) this.growScratch(2 * n);
    const eLine = this.eLine;
    const eStart = this.eStart;
    const eEnd = this.eEnd;
    const eHits = this.eHits;
    const rStart = this.rStart;
    const rEnd = this.rEnd;
    const rHits = this.rHits;
    let ne = 0;
    let nr = 0;
    for (let k = 0; k < n; k++) {
      const p = k * 4;
      const sl = pos[p]!;
      const sc = pos[p + 1]!;
      const el = pos[p + 2]!;
      const ec = pos[p + 3]!;
      const h = blocks.hits[k]!;
      // -1 stands for an open start or end.
      if (sl === el) {
        eLine[ne] = sl; eStart[ne] = sc; eEnd[ne] = ec; eHits[ne++] = h;
        continue;
      }
      eLine[ne] = sl; eStart[ne] = sc; eEnd[ne] = -1; eHits[ne++] = h;
      if (el - sl > 1) {
        rStart[nr] = sl + 1; rEnd[nr] = el - 1; rHits[nr++] = h;
      }
      if (ec > 2) {
        eLine[ne] = el; eStart[ne] = -1; eEnd[ne] = ec; eHits[ne++] = h;
      }
    }
    const eo = stableOrder(eLine, ne, this.keys, this.order);
    const ro = stableOrder(rStart, nr, this.keys, this.rOrder);

    const activeEnd: number[] = [];
    const activeHits: number[] = [];
    let ei = 0;
    let ri = 0;
    let ln = 0;
    while (ei < ne || ri < nr || activeEnd.length > 0) {
      let next = Infinity;
      if (ei < ne) next = eLine[eo[ei]!]!;
      if (ri < nr && rStart[ro[ri]!]! < next) next = rStart[ro[ri]!]!;
      if (activeEnd.length > 0 && ln + 1 < next) next = ln + 1;
      ln = next;
      for (let a = activeEnd.length - 1; a >= 0; a--) {
        if (activeEnd[a]! < ln) {
          activeEnd[a] = activeEnd[activeEnd.length - 1]!;
          activeHits[a] = activeHits[activeHits.length - 1]!;
          activeEnd.pop();
          activeHits.pop();
        }
      }
      for (; ri < nr && rStart[ro[ri]!] === ln; ri++) {
        activeEnd.push(rEnd[ro[ri]!]!);
        activeHits.push(rHits[ro[ri]!]!);
      }
      let ej = ei;
      while (ej < ne && eLine[eo[ej]!] === ln) ej++;
      const count = ej - ei + activeEnd.length;
      if (count === 0) continue;

      let value: number | string;
      let partials: Span[] | null = null;
      if (count === 1) {
        value = ej > ei ? eHits[eo[ei]!]! : activeHits[0]!;
      } else {
        const spans: Span[] = [];
        let best = 0;
        for (let k = ei; k < ej; k++) {
          const at = eo[k]!;
          const st = eStart[at]!;
          const en = eEnd[at]!;
          spans.push([st < 0 ? null : st, en < 0 ? null : en, eHits[at]!]);
          if (eHits[at]! > best) best = eHits[at]!;
        }
        for (const h of activeHits) {
          spans.push([0, null, h]);
          if (h > best) best = h;
        }
        partials = combinePartials(uniqueSpans(spans));
        value = partials === null ? best : partialsToValue(partials);
      }
      if (partials !== null && partials.length > 1) sink.line(ln, value, undefined, { partials: partials as PartialSpan[] });
      else sink.line(ln, value);
      ei = ej;
    }
  }

  private growScratch(total: number): void {
    const size = Math.max(total, this.eLine.length * 2);
    this.eLine = new Int32Array(size);
    this.eStart = new Int32Array(size);
    this.eEnd = new Int32Array(size);
    this.eHits = new Float64Array(size);
    this.rStart = new Int32Array(size);
    this.rEnd = new Int32Array(size);
    this.rHits = new Float64Array(size);
    this.keys = new Float64Array(size);
    this.order = new Uint32Array(size);
    this.rOrder = new Uint32Array(size);
  }

  private error(code: ParseErrorCode, reason: string, column: number | undefined, limit?: string): ReportParseError {
    return this.splitter.errorAt(code, reason, column, limit);
  }
}

/** What follows each field of a block line ('.', ',', '.', ' ', ' ', end of line). */
const SEPARATORS = [0x2e, 0x2c, 0x2e, 0x20, 0x20, -1];
const FIELD_NAMES = ['start line', 'start column', 'end line', 'end column', 'statement count', 'count'];

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Identical spans count once: a block repeated by a merged profile is one block. */
function uniqueSpans(spans: Span[]): Span[] {
  if (spans.length === 2) {
    const c = compareSpans(spans[0]!, spans[1]!);
    return c === 0 ? [spans[0]!] : c < 0 ? spans : [spans[1]!, spans[0]!];
  }
  spans.sort(compareSpans);
  const out: Span[] = [spans[0]!];
  for (let i = 1; i < spans.length; i++) {
    if (compareSpans(spans[i]!, out[out.length - 1]!) !== 0) out.push(spans[i]!);
  }
  return out;
}

function compareSpans(a: Span, b: Span): number {
  return (a[0] ?? -1) - (b[0] ?? -1) || (a[1] ?? -1) - (b[1] ?? -1) || a[2] - b[2];
}

/**
 * Combines overlapping spans of one line into disjoint ones (Codecov's `combine_partials`): a
 * sweep over span boundaries where each segment takes the highest count of the spans over it.
 * Open-ended spans run to one past the largest closed end. A leading [0, 1] segment is dropped
 * as noise. Returns null when no segment has any width.
 */
export function combinePartials(spans: Span[]): Span[] | null {
  const n = spans.length;
  if (n === 1) return [[spans[0]![0], spans[0]![1], spans[0]![2]]];
  let maxEnd = -Infinity;
  let maxOpenStart = -Infinity;
  let eolHits = -Infinity;
  let hasEol = false;
  for (const [st, en, hits] of spans) {
    if (en !== null) {
      if (en > maxEnd) maxEnd = en;
    } else {
      hasEol = true;
      if ((st ?? 0) > maxOpenStart) maxOpenStart = st ?? 0;
      if (hits > eolHits) eolHits = hits;
    }
  }
  const lc = maxEnd !== -Infinity ? maxEnd + 1 : maxOpenStart + 1;

  // Events in the order Codecov appends them: closed spans (start, end) first, then open ones
  // (start, end at lc); at one column they are applied in that order. Scratch arrays are reused
  // across calls (no re-entry), since most lines shared by blocks have just two or three spans.
  const cols = EV_COLS;
  const starts = EV_STARTS;
  const counts = EV_COUNTS;
  cols.length = 0;
  starts.length = 0;
  counts.length = 0;
  for (const [st, en, hits] of spans) {
    if (en === null) continue;
    cols.push(st ?? 0, en);
    starts.push(1, 0);
    counts.push(hits, hits);
  }
  for (const [st, en, hits] of spans) {
    if (en !== null) continue;
    cols.push(st ?? 0, lc);
    starts.push(1, 0);
    counts.push(hits, hits);
  }
  const order = sortedEventOrder(cols);

  // The counts of the spans over the current column: a plain list for the usual few, a heap
  // for many. Removing a count that is not there is ignored, as in Codecov's sweep.
  const list = n <= 32 ? ACTIVE_LIST : null;
  const heap = list === null ? new MaxMultiset() : null;
  if (list !== null) list.length = 0;
  let activeSize = 0;
  // Segments go straight into the result, adjacent equal ones joined.
  const results: Span[] = [];
  let prev = 0;
  let started = false;
  for (let k = 0; k < order.length; ) {
    const col = cols[order[k]!]!;
    if (started && activeSize > 0) {
      let max = -Infinity;
      if (list !== null) {
        for (let q = 0; q < list.length; q++) if (list[q]! > max) max = list[q]!;
      } else max = heap!.max();
      const last = results[results.length - 1];
      if (last !== undefined && last[2] === max && last[1] === prev) last[1] = col;
      else results.push([prev, col, max]);
    }
    for (; k < order.length && cols[order[k]!] === col; k++) {
      const ev = order[k]!;
      const hits = counts[ev]!;
      if (starts[ev] === 1) {
        if (list !== null) list.push(hits);
        else heap!.add(hits);
        activeSize++;
      } else if (list !== null) {
        const at = list.indexOf(hits);
        if (at >= 0) {
          list.splice(at, 1);
          activeSize--;
        }
      } else if (heap!.remove(hits)) {
        activeSize--;
      }
    }
    prev = col;
    started = true;
  }
  if (results.length === 0) return null;

  if (hasEol) for (const r of results) if (r[1] === lc) r[1] = null;

  const first = results[0]!;
  if (first[0] === 0 && first[1] === 1) {
    results.shift();
    if (results.length === 0) return [[0, null, first[2]]];
  }
  if (hasEol) {
    const last = results[results.length - 1]!;
    if (!(last[1] === null && last[2] === eolHits)) results.push([lc, null, eolHits]);
  }
  return results;
}

const EV_COLS: number[] = [];
const EV_STARTS: number[] = [];
const EV_COUNTS: number[] = [];
const EV_ORDER: number[] = [];
const ACTIVE_LIST: number[] = [];

/** Event indexes ordered by column, ties in event order (insertion sort for the usual few). */
function sortedEventOrder(cols: number[]): number[] {
  const order = EV_ORDER;
  order.length = 0;
  for (let i = 0; i < cols.length; i++) order.push(i);
  if (cols.length > 24) return order.sort((a, b) => cols[a]! - cols[b]! || a - b);
  for (let i = 1; i < order.length; i++) {
    const v = order[i]!;
    const c = cols[v]!;
    let j = i - 1;
    while (j >= 0 && cols[order[j]!]! > c) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = v;
  }
  return order;
}

/**
 * Counts of the spans over the current column: add, remove one occurrence (ignored when absent,
 * as in Codecov's sweep) and the highest, in O(log n) so a line with very many spans stays fast.
 */
class MaxMultiset {
  size = 0;
  private readonly counts = new Map<number, number>();
  /** Max-heap of values; entries whose count dropped to 0 are discarded lazily. */
  private readonly heap: number[] = [];

  add(value: number): void {
    const c = this.counts.get(value) ?? 0;
    this.counts.set(value, c + 1);
    this.size++;
    if (c === 0) this.push(value);
  }

  /** Returns false when the value was not there. */
  remove(value: number): boolean {
    const c = this.counts.get(value) ?? 0;
    if (c === 0) return false;
    this.counts.set(value, c - 1);
    this.size--;
    return true;
  }

  max(): number {
    const heap = this.heap;
    while ((this.counts.get(heap[0]!) ?? 0) === 0) this.pop();
    return heap[0]!;
  }

  private push(value: number): void {
    const heap = this.heap;
    heap.push(value);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! >= value) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = value;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const child = r < heap.length && heap[r]! > heap[l]! ? r : l;
      if (heap[child]! <= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

/** One span: its count; several: "<spans hit>/<spans>". */
export function partialsToValue(partials: Span[]): number | string {
  if (partials.length === 1) return partials[0]![2];
  let hit = 0;
  for (const p of partials) if (p[2] > 0) hit++;
  return `${hit}/${partials.length}`;
}

export const createGoParser: ParserFactory = (sink, ctx) =>
  new GoParser(sink, ctx.fileName, ctx.limits, ctx.warnings ?? new ParseWarnings());
