import type { ParseLimits } from '../../limits';
import type { CoverageSink, FileSink, ParserContext, PushParser } from '../../types';
import { BAD_COUNT, NEGATIVE_COUNT, type XmlAttributes } from './attributes';
import { XmlScanner, type XmlHandler } from './scanner';

/** What the Cobertura, JaCoCo and Clover parsers share on top of the scanner. */
export interface CoverageXmlHandler extends XmlHandler {
  /** Called after the whole document has been scanned successfully. */
  finish?(): void;
}

/** Wires a format's handler to a scanner and exposes it as a `PushParser`. */
export function createXmlPushParser(
  ctx: ParserContext,
  format: string,
  names: readonly string[],
  makeHandler: (scanner: XmlScanner) => CoverageXmlHandler,
): PushParser {
  // Assigned once, below: the handler needs the scanner, whose callbacks need the handler.
  // eslint-disable-next-line prefer-const
  let handler: CoverageXmlHandler | undefined;
  const scanner = new XmlScanner(
    {
      // The handler is created after the scanner it needs; the scanner calls it only from write().
      open: (name, attrs, selfClosing) => handler!.open(name, attrs, selfClosing),
      close: (name) => handler!.close(name),
    },
    { fileName: ctx.fileName, format, limits: ctx.limits, names, warnings: ctx.warnings },
  );
  handler = makeHandler(scanner);
  const bound = handler;
  return {
    write: (chunk) => scanner.write(chunk),
    end: () => {
      scanner.end();
      bound.finish?.();
    },
  };
}

/**
 * Opens a report file in the sink on its first line record, so elements without lines (empty
 * classes, empty source files) never create files, as in Codecov. `null` means the sink dropped it.
 */
export class LazyFile {
  private path = '';
  private sink: FileSink | null | undefined = null;

  constructor(private readonly coverage: CoverageSink) {}

  /** Starts a new file; `null` skips every record until the next `start`. */
  start(path: string | null): void {
    this.path = path ?? '';
    this.sink = path === null ? null : undefined;
  }

  stop(): void {
    this.sink = null;
  }

  get(): FileSink | null {
    if (this.sink === undefined) this.sink = this.coverage.file(this.path);
    return this.sink;
  }
}

/**
 * A line number from attribute `i`: 0 means "skip this record" (Codecov ignores line 0). A value
 * that is not a line number, or one past `maxLineNumber`, is counted as a warning and reads as 0.
 */
export function lineNumberAt(attrs: XmlAttributes, i: number, limits: ParseLimits, what: string): number {
  const n = attrs.countOrBad(i);
  if (n >= 0 && n <= limits.maxLineNumber) return n;
  attrs.warnAt(i, n < 0 ? 'invalid_line_number' : 'line_number_out_of_range', what);
  return 0;
}

/** `hitsAt` answers for a count that is not one: the record is skipped (after a warning). */
export const SKIP_RECORD = -1;

/**
 * A hit count from attribute `i`, clamped to `maxHits` (a larger count still only means "hit";
 * with a warning). A negative or malformed count is counted as a warning and answers SKIP_RECORD.
 */
export function hitsAt(attrs: XmlAttributes, i: number, limits: ParseLimits, what: string): number {
  const n = attrs.countOrBad(i);
  if (n >= 0 && n <= limits.maxHits) return n;
  if (n === NEGATIVE_COUNT) attrs.warnAt(i, 'negative_count', what);
  else if (n === BAD_COUNT) attrs.warnAt(i, 'non_integer_count', what);
  else {
    attrs.warnAt(i, 'count_clamped', what);
    return limits.maxHits;
  }
  return SKIP_RECORD;
}

/** Index of a required attribute; a missing one is a typed error at the tag. */
export function requireAttr(attrs: XmlAttributes, name: string, element: string): number {
  const i = attrs.indexOf(name);
  if (i < 0) attrs.failTag('invalid_syntax', `<${element}> without the ${name} attribute`);
  return i;
}

/** Rejects a document whose root element is not one the format uses. */
export function checkRoot(attrs: XmlAttributes, name: string, expected: readonly string[], format: string): void {
  if (!expected.includes(name)) {
    attrs.failTag(
      'invalid_syntax',
      `root element <${name}> is not a ${format} report (expected <${expected.join('> or <')}>)`,
    );
  }
}

/**
 * Branches per line above this are treated as absurd input: Codecov-style parsing materialises one
 * missing-branch id per untaken branch, so an unbounded count would be a memory bomb.
 */
export const MAX_BRANCHES_PER_LINE = 100_000;
