/**
 * The contract between coverage parsers and the report model.
 *
 * Parsers are push-based (`write(chunk)` then `end()`), so a gzip stream or a blob read can flow
 * through them without the report ever being held twice in memory. They never build reports
 * themselves: they emit per-line records into a `CoverageSink`, which owns path normalisation and
 * storage. That keeps every format's quirks inside its parser and the semantics in one model.
 */

/**
 * A line's coverage value (Codecov-compatible):
 * - integer: hit count; > 0 hit, 0 miss, -1 skipped (counted nowhere);
 * - string "a/b": a of b branches taken (hit when a == b, miss when a == 0, partial otherwise);
 * - true: partially covered (formats that only say "partial").
 */
export type LineValue = number | string | true;

/** Plain line, branch line or method line. */
export type LineType = 'line' | 'b' | 'm';

/** A column span inside one line: [startColumn | null, endColumn | null, hits]. */
export type PartialSpan = [start: number | null, end: number | null, hits: number];

export interface LineExtras {
  /** Format-specific ids of branches not taken, e.g. "0:1". */
  missingBranches?: string[];
  /**
   * The naming scheme of `missingBranches` (`branchScheme(format, generator)`): ids are only
   * comparable within one scheme. Set by the session builder, not by parsers; absent on entries
   * of reports stored before version 2 (one unnamed scheme of their own).
   */
  branchScheme?: string;
  /** Column spans with their own hit counts (Go blocks, Istanbul statements). */
  partials?: PartialSpan[];
  /** Cyclomatic complexity, or [covered, total] as some formats give it. */
  complexity?: number | [number, number];
}

export interface FileSink {
  /**
   * Records one line of the current session. Calling it twice for the same line of the same
   * session merges the two values with the standard merge rule (a duplicated file in an LCOV
   * report, several Go blocks on one line). Formats whose rule is "override" (LCOV BRDA over DA)
   * resolve that themselves before calling.
   *
   * The sink copies what it keeps of `extras` itself and of its `missingBranches` list: a parser
   * may reuse both for its next call (the LCOV parser does, so a branch line allocates nothing).
   * The other arrays in `extras` (partials, a complexity pair) the sink takes over.
   */
  line(lineNumber: number, value: LineValue, type?: LineType, extras?: LineExtras): void;
  /**
   * Optional: `line(lineNumber, "<taken>/<total>", type, extras)` without the value string, for
   * parsers that count branches (LCOV). Same rules, same errors; a parser calls `line` when the
   * sink has no `branches`.
   */
  branches?(lineNumber: number, taken: number, total: number, type: LineType, extras?: LineExtras): void;
}

/**
 * Lines of one file that are no code (Codecov's report fixes: blank lines, braces, comment
 * blocks): a session built with it keeps none of them, nor any line past `eof`.
 */
export interface LineExclusion {
  readonly lines: ReadonlySet<number>;
  /** The file's last line, when known. */
  readonly eof?: number;
}

export interface CoverageSink {
  /**
   * Opens (or reopens) a file by the path found in the report. Returns null when the path is
   * dropped (ignored by a glob, or not resolvable against the repository's file list); the parser
   * then skips that file's records.
   */
  file(rawPath: string): FileSink | null;
  /** Cobertura `<source>` bases, in document order; used to resolve relative paths. */
  sourceBases?(bases: string[]): void;
  /**
   * The tool that wrote the report, when the report says (see `GENERATORS`); parsers call it
   * before their first line. It picks the branch-id scheme of the session's entries.
   */
  generator?(name: Generator): void;
}

/**
 * Tools whose branch ids (or, for Clover, whose counts) mean something of their own within a
 * format. Detected from the report's content by the parsers.
 */
export const GENERATORS = ['gcovr', 'coveragepy', 'istanbul', 'openclover'] as const;
export type Generator = (typeof GENERATORS)[number];

/** The formats Tributary understands. */
export const FORMATS = [
  'lcov',
  'cobertura',
  'jacoco',
  'clover',
  'istanbul',
  'go',
  'coveragepy',
  'codecov',
  'simplecov',
  'gcov',
] as const;
export type FormatName = (typeof FORMATS)[number];

/** A push parser: feed it the bytes in order, then call `end()`. Errors are `ReportParseError`s. */
export interface PushParser {
  write(chunk: Uint8Array): void;
  end(): void;
}

/** What every parser factory receives besides its sink. */
export interface ParserContext {
  /** The input's name as the user gave it; used in error messages. */
  fileName: string;
  limits: import('./limits').ParseLimits;
  /** The parse's memory estimate; parsers that hold data (the JSON formats) charge it. */
  budget?: import('./limits').MemoryBudget;
  /**
   * Receives the per-line anomalies the parser skipped or clamped (see `warnings.ts`); parsers
   * use a private collector when none is given.
   */
  warnings?: import('./warnings').ParseWarnings;
}

/** Every parser module exports one of these as `create<Format>Parser`. */
export type ParserFactory = (sink: CoverageSink, ctx: ParserContext) => PushParser;

/**
 * Maps a path as found in a report to the repository path it stands for, or null to drop it.
 * Implemented in `paths.ts`; the report builder calls it from `CoverageSink.file`.
 */
export interface PathResolver {
  resolve(rawPath: string): string | null;
  /** Cobertura `<source>` bases of the report being parsed. */
  setSourceBases?(bases: string[]): void;
}
