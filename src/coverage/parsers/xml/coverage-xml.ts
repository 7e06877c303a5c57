import type { ParseLimits } from '../../limits';
import type { CoverageSink, FileSink, ParserContext, PushParser } from '../../types';
import type { XmlAttributes } from './attributes';
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
  let handler: CoverageXmlHandler | undefined;
  const scanner = new XmlScanner(
    {
      // The handler is created after the scanner it needs; the scanner calls it only from write().
      open: (name, attrs, selfClosing) => handler!.open(name, attrs, selfClosing),
      close: (name) => handler!.close(name),
    },
    { fileName: ctx.fileName, format, limits: ctx.limits, names },
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
 * A line number from attribute `i`: 0 means "skip this record" (Codecov ignores line 0);
 * past `maxLineNumber` is a limit error.
 */
export function lineNumberAt(attrs: XmlAttributes, i: number, limits: ParseLimits, what: string): number {
  const n = attrs.count(i, what);
  if (n > limits.maxLineNumber) {
    attrs.failAt(i, 'limit_exceeded', `${what} ${n} exceeds maxLineNumber ${limits.maxLineNumber}`, 'maxLineNumber');
  }
  return n;
}

/** A hit count from attribute `i`, clamped to `maxHits` (a larger count still only means "hit"). */
export function hitsAt(attrs: XmlAttributes, i: number, limits: ParseLimits, what: string): number {
  const n = attrs.count(i, what);
  return n > limits.maxHits ? limits.maxHits : n;
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
