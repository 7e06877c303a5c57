/**
 * gcov text parser (`.gcov` files from `gcov`, `llvm-cov gcov`, Xcode):
 *
 *         -:    0:Source:src/foo.c
 *         5:   12:  if (x) {
 *   branch  0 taken 3
 *   branch  1 never executed
 *     #####:   13:    bar();
 *
 * Semantics follow Codecov's gcov processor:
 * - count `-` = no data; `#####` / `=====` = 0 (a `#####` line whose source starts with `inline`
 *   or `static` is skipped); a trailing `*` (line has unexecuted blocks) is allowed;
 * - lines whose source starts with `{` or `}`, or is only `}`, or starts with `@implementation`,
 *   are skipped; so are lines inside `LCOV_EXCL_START` ... `LCOV_EXCL_STOP`/`_END` and lines
 *   marked `LCOV_EXCL_LINE`; `call` lines are ignored;
 * - the line after a `function ...` line is a method (type `m`);
 * - `branch` lines after a line become `"<taken>/<total>"` (a branch is taken unless it says
 *   `taken 0` or `never executed`), depending on `branchDetection`: a line with `for`/`while` is a
 *   loop, with `if`/`} else if` a conditional (type `b` in both cases, whether counted or not),
 *   a method line counts only with `method`, any other line only with `macro`. Defaults as in
 *   Codecov's default configuration (`parsers.gcov.branch_detection`): conditional and loop on,
 *   method and macro off;
 * - the same line reported several times (template instantiations) keeps the highest count and
 *   sums its branches; Swift's reversed `line:count:` columns are handled.
 * Deliberate differences: counts with `*` are kept (Codecov drops those lines because its integer
 * parse fails on them); the path is taken whole after `Source:` (Codecov cuts at the next `:`) with
 * only leading `./` and `../` removed, so absolute CI paths stay recognisable; several gcov files
 * concatenated into one input (each starting with its `0:Source:` line) are all read; a line whose
 * count looks numeric but is not an unsigned integer (`1e5`, `2.5`, `-5` from a counter overflow),
 * a count given for line 0 and line numbers above `maxLineNumber` are skipped with a warning
 * (Codecov skips them silently, or not at all); counts above `maxHits` are clamped, with a warning.
 */
import { ReportParseError, type ParseErrorCode } from '../errors';
import type { CoverageSink, FileSink, LineType, ParserContext, ParserFactory, PushParser } from '../types';
import { LineSplitter, decodeUtf8, type LineHandler } from './line-splitter';
import { ParseWarnings, type ParseWarningCode } from '../warnings';
import { NOT_A_UINT, UINT_CLAMPED, badCountCode, describeBadUint, isMalformedNumber, parseUintString } from './numbers';

const FORMAT = 'gcov';

export interface GcovOptions {
  /** Which lines' `branch` data turns into branch fractions (see the module comment). */
  branchDetection: { conditional: boolean; loop: boolean; method: boolean; macro: boolean };
}

export const DEFAULT_GCOV_OPTIONS: GcovOptions = {
  branchDetection: { conditional: true, loop: true, method: false, macro: false },
};

const DETECT_LOOP = /^\s+(for|while)\s?\(/;
const DETECT_CONDITIONAL = /^\s+((if\s?\()|(\} else if\s?\())/;
const COUNT = /^(\d+)\*?$/;
const NEGATIVE_COUNT = /^-\s*\d/;

interface LineRecord {
  hits: number;
  type: LineType;
}

class GcovParser implements PushParser, LineHandler {
  private readonly splitter: LineSplitter;
  private readonly warnings: ParseWarnings;
  private files = 0;

  // State of the current source file.
  private sinkFile: FileSink | null = null;
  private path = '';
  private isSwift = false;
  private lines = new Map<number, LineRecord>();
  private branches = new Map<number, [taken: number, total: number]>();
  private excluded = false;
  private nextIsFunction = false;
  /** Line the following `branch` lines belong to, or null. */
  private current: number | null = null;
  /** Source text of the last count line (for loop / conditional detection). */
  private source = '';
  /** null: no branch seen since the count line; false: its branches are not counted. */
  private branchDetected: boolean | null = null;
  private branchCounts: [number, number] | null = null;

  constructor(
    private readonly sink: CoverageSink,
    private readonly ctx: ParserContext,
    private readonly options: GcovOptions,
  ) {
    this.warnings = ctx.warnings ?? new ParseWarnings();
    this.splitter = new LineSplitter(this, { maxLineBytes: ctx.limits.maxLineBytes, fileName: ctx.fileName, format: FORMAT });
  }

  write(chunk: Uint8Array): void {
    this.splitter.push(chunk);
  }

  end(): void {
    if (!this.splitter.finish()) return;
    if (this.files === 0) throw this.error('report_empty', 'no 0:Source: line found', undefined);
    this.flushFile();
  }

  line(b: Uint8Array, s: number, e: number): void {
    // Only the path must be UTF-8; source text may be in any encoding, and every marker is
    // ASCII, so the line is examined as Latin-1.
    const text = Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
    const header = sourceHeader(text);
    if (header >= 0) return this.startFile(b, s + header, e);
    if (this.files === 0) {
      if (text.trim() === '') return;
      throw this.error('invalid_syntax', 'gcov input must start with a "-: 0:Source:<path>" line', 1);
    }

    if (text.includes('LCOV_EXCL_START')) {
      this.excluded = true;
    } else if (text.includes('LCOV_EXCL_END') || text.includes('LCOV_EXCL_STOP')) {
      this.excluded = false;
    } else if (this.excluded || text.includes('LCOV_EXCL_LINE')) {
      // excluded
    } else if (text.startsWith('func')) {
      this.nextIsFunction = true;
    } else if (text.startsWith('bran')) {
      if (this.current !== null && this.lines.has(this.current)) this.branch(text, this.current);
    } else if (text.startsWith('call')) {
      // calls carry no line coverage
    } else {
      this.countLine(text);
    }
  }

  private startFile(b: Uint8Array, ps: number, e: number): void {
    this.flushFile();
    while (e > ps && (b[e - 1] === 0x20 || b[e - 1] === 0x09)) e--;
    // Leading "./" and "../" say where gcov ran, not where the file is.
    for (;;) {
      if (e - ps >= 2 && b[ps] === 0x2e && b[ps + 1] === 0x2f) ps += 2;
      else if (e - ps >= 3 && b[ps] === 0x2e && b[ps + 1] === 0x2e && b[ps + 2] === 0x2f) ps += 3;
      else break;
    }
    if (ps === e) throw this.error('invalid_syntax', 'empty path after 0:Source:', undefined);
    const path = decodeUtf8(b, ps, e);
    if (path === null) throw this.error('invalid_utf8', 'source path is not valid UTF-8', undefined);
    if (++this.files > this.ctx.limits.maxFiles) {
      throw this.error('limit_exceeded', `more than ${this.ctx.limits.maxFiles} files`, undefined, 'maxFiles');
    }
    this.path = path;
    this.sinkFile = this.sink.file(path);
    this.isSwift = path.endsWith('.swift');
  }

  private countLine(text: string): void {
    this.branchDetected = null;
    this.branchCounts = null;
    const c1 = text.indexOf(':');
    const c2 = c1 < 0 ? -1 : text.indexOf(':', c1 + 1);
    if (c2 < 0) {
      this.current = null;
      return;
    }
    const data = text.slice(c2 + 1);
    if (data.trim() === '}' || data.startsWith('@implementation')) return;
    let hitField = text.slice(0, c1);
    let lineField = text.slice(c1 + 1, c2);
    if (this.isSwift) [hitField, lineField] = [lineField, hitField];
    this.source = data;
    this.current = null;
    if (data.startsWith('{') || data.startsWith('}')) return;

    const hit = hitField.trim();
    const ln = parseUintString(lineField.trim());
    if (ln === NOT_A_UINT) return; // function name lines, separators and other decoration
    if (hitField.includes('-')) {
      // `-` is "no data"; a negative number is a wrapped counter, whose true count is unknown.
      if (NEGATIVE_COUNT.test(hit)) this.warn('negative_count', 'count');
      return;
    }

    let hits: number;
    if (hit === '#####') {
      const code = data.trim();
      if (code.startsWith('inline') || code.startsWith('static')) return;
      hits = 0;
    } else if (hit === '=====') {
      hits = 0;
    } else {
      const m = COUNT.exec(hit);
      if (m === null) {
        if (/\d/.test(hit)) {
          const bytes = Buffer.from(hit, 'latin1');
          if (!isMalformedNumber(bytes, 0, bytes.length)) {
            throw this.error('invalid_number', `count: ${describeBadUint(bytes, 0, bytes.length)}`, 1);
          }
          this.warn(badCountCode(bytes, 0, bytes.length), 'count');
        }
        return; // "$$$$$", "%%%%%" and other markers Codecov skips
      }
      hits = parseUintString(m[1]!);
      if (hits > this.ctx.limits.maxHits || hits === UINT_CLAMPED) {
        this.warn('count_clamped', 'count');
        hits = Math.min(hits, this.ctx.limits.maxHits);
      }
    }
    if (ln === 0) return this.warn('invalid_line_number', 'line number');
    if (ln > this.ctx.limits.maxLineNumber) return this.warn('line_number_out_of_range', 'line number');

    const type: LineType = this.nextIsFunction ? 'm' : 'line';
    this.nextIsFunction = false;
    const record = this.lines.get(ln);
    if (record === undefined) this.lines.set(ln, { hits, type });
    else {
      if (hits > record.hits) record.hits = hits;
      record.type = type;
    }
    this.current = ln;
  }

  private branch(text: string, ln: number): void {
    if (this.branchDetected === false) return;
    if (this.branchDetected === null) {
      this.branchDetected = false;
      const record = this.lines.get(ln)!;
      const detect = this.options.branchDetection;
      if (record.type === 'm') {
        if (!detect.method) return;
      } else if (DETECT_LOOP.test(this.source)) {
        record.type = 'b';
        if (!detect.loop) return;
      } else if (DETECT_CONDITIONAL.test(this.source)) {
        record.type = 'b';
        if (!detect.conditional) return;
      } else if (!detect.macro) {
        return;
      }
      this.branchDetected = true;
      let counts = this.branches.get(ln);
      if (counts === undefined) this.branches.set(ln, (counts = [0, 0]));
      this.branchCounts = counts;
    }
    const counts = this.branchCounts!;
    if (!text.includes('taken 0') && !text.includes('never executed')) counts[0]++;
    counts[1]++;
  }

  private flushFile(): void {
    const file = this.sinkFile;
    if (file !== null) {
      for (const [ln, record] of this.lines) {
        const counts = this.branches.get(ln);
        const type = record.type === 'line' ? undefined : record.type;
        if (counts !== undefined) file.line(ln, `${counts[0]}/${counts[1]}`, type);
        else file.line(ln, record.hits, type);
      }
    }
    this.sinkFile = null;
    this.lines = new Map();
    this.branches = new Map();
    this.excluded = false;
    this.nextIsFunction = false;
    this.current = null;
    this.source = '';
    this.branchDetected = null;
    this.branchCounts = null;
  }

  /** Counts a skipped or clamped line; lines of a dropped file are not worth a warning. */
  private warn(code: ParseWarningCode, field: string): void {
    if (this.sinkFile === null) return;
    if (!this.warnings.wantsPosition(code)) return this.warnings.add(code);
    this.warnings.add(code, { line: this.splitter.lineNumber, source: this.path, field });
  }

  private error(code: ParseErrorCode, reason: string, column: number | undefined, limit?: string): ReportParseError {
    return this.splitter.errorAt(code, reason, column, limit);
  }
}

/**
 * When the line is a `<count>:<line 0>:Source:<path>` header, returns the offset of the path in
 * it; else -1.
 */
function sourceHeader(text: string): number {
  const at = text.indexOf(':Source:');
  if (at < 0) return -1;
  const c1 = text.indexOf(':');
  if (c1 >= at) return -1;
  if (text.slice(c1 + 1, at).trim() !== '0') return -1;
  return at + ':Source:'.length;
}

/** A gcov parser with non-default branch detection. */
export function createGcovParserWith(options: GcovOptions): ParserFactory {
  return (sink, ctx) => new GcovParser(sink, ctx, options);
}

export const createGcovParser: ParserFactory = createGcovParserWith(DEFAULT_GCOV_OPTIONS);
