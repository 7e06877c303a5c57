/**
 * Builds the report of one session (one upload) from a parser's sink calls.
 *
 * Every file appends to one session-wide log of typed columns (file, line, value, flags). The log
 * is a bounded scratch: it grows geometrically up to a chunk of records, and when full it is
 * sealed into one exactly sized chunk grouped by file (a stable counting sort; a plain copy when
 * the parser delivered each file's lines together, as they all do), each file keeping the
 * segments it has in the chunks. Peak memory is then the finished report plus one chunk, not a
 * doubling log plus the report copied out of it.
 *
 * A repeated line merges in place while its previous record is in the log. A file whose first
 * run is out of order is sorted (stable, so repeats merge in arrival order) when it is sealed, so
 * `finish()` makes the report's columns views of the chunks for nearly every file, and only
 * concatenates, sorts and merges the files spread over several chunks. Columns that depend only
 * on a file's length (offsets and session ids of one session, all-hit-count denominators, plain
 * flags) are views shared by all files, and chunks store no denominators or flags when they are
 * uniform. Common extras are shared by content, and a file's extras are packed into typed keys.
 * Extras are copied or shared by content before they are stored (see `FileSink.line`).
 */
import { ReportParseError } from '../errors';
import { MemoryBudget, resolveLimits, type ParseLimits } from '../limits';
import { CoverageReport, type SessionMeta } from '../report';
import type { CoverageSink, FileSink, Generator, LineExclusion, LineValue, LineType, LineExtras, PathResolver } from '../types';
import { branchScheme } from '../session-entries';
import { buildFiles } from './assemble';
import { FILE_BYTES, LOG_CHUNK, MAP_ENTRY_BYTES, MAX_U32, RECORD_BYTES, type BuilderContext } from './context';
import { FileAccumulator } from './log';
import { BuilderState } from './seal';

export interface SessionBuilderOptions {
  sessionId: number;
  session: SessionMeta;
  /** Maps raw report paths to repository paths; identity when absent. */
  resolver?: PathResolver;
  limits?: Partial<ParseLimits>;
  /** The parse's memory estimate (`parseReport` shares one with the parser); else its own. */
  budget?: MemoryBudget;
  /** By resolved path: lines this session leaves out (Codecov's report fixes). */
  exclusions?: ReadonlyMap<string, LineExclusion>;
}

export interface SessionBuilder {
  readonly sink: CoverageSink;
  /** The session's report; files without any line are left out. Idempotent. */
  finish(): CoverageReport;
  /** Distinct raw paths the resolver dropped so far. */
  readonly dropped: number;
}

export function createSessionBuilder(options: SessionBuilderOptions): SessionBuilder {
  return createChunkedSessionBuilder(options, LOG_CHUNK);
}

/**
 * `createSessionBuilder` with the number of records the log holds before it is sealed into
 * per-file segments. Internal: tests use small values to cross many seals.
 */
export function createChunkedSessionBuilder(options: SessionBuilderOptions, logChunk: number): SessionBuilder {
  const { sessionId, session, resolver, exclusions } = options;
  if (!Number.isSafeInteger(sessionId) || sessionId < 0 || sessionId > MAX_U32) {
    throw new RangeError(`invalid session id ${sessionId}`);
  }
  if (!Number.isSafeInteger(logChunk) || logChunk < 1) throw new RangeError(`invalid log chunk ${logChunk}`);
  const limits = resolveLimits(options.limits);
  const ctx: BuilderContext = {
    sessionId,
    fileName: session.file ?? session.name ?? '<input>',
    format: session.format ?? 'unknown',
    maxHits: limits.maxHits,
    maxLineNumber: Math.min(limits.maxLineNumber, MAX_U32),
  };

  const budget = options.budget ?? new MemoryBudget(limits.maxMemoryBytes, ctx.fileName, ctx.format);
  const state = new BuilderState(sessionId, logChunk, budget);
  // Without a format (tests building sessions by hand) ids stay unnamed, like version-1 reports'.
  if (session.format !== undefined) state.setScheme(branchScheme(session.format));
  const byRawPath = new Map<string, FileSink | null>();
  const byPath = new Map<string, FileAccumulator>();
  let dropped = 0;
  let report: CoverageReport | undefined;

  const sink: CoverageSink = {
    file(rawPath: string): FileSink | null {
      const known = byRawPath.get(rawPath);
      if (known !== undefined) return known;
      if (report !== undefined) throw new Error('session builder already finished');
      // Dropped paths count too: a report of a million unresolvable paths is still too big.
      if (byRawPath.size >= limits.maxFiles) {
        throw new ReportParseError({
          code: 'limit_exceeded',
          file: ctx.fileName,
          format: ctx.format,
          reason: `more than ${limits.maxFiles} files in the report`,
          limit: 'maxFiles',
        });
      }
      const path = resolver ? resolver.resolve(rawPath) : rawPath;
      budget.charge(path === null ? MAP_ENTRY_BYTES + 2 * rawPath.length : FILE_BYTES + 2 * (rawPath.length + path.length), 'a file');
      if (path === null) {
        dropped++;
        byRawPath.set(rawPath, null);
        return null;
      }
      // Without a resolver every raw path is its own path: one map lookup per new file, not two.
      let acc = resolver ? byPath.get(path) : undefined;
      if (acc === undefined) {
        acc = new FileAccumulator(ctx, state, state.accs.length, path);
        state.accs.push(acc);
        if (resolver) byPath.set(path, acc);
      }
      // Only files with fixes pay for the filter; every other file's lines go straight to the log.
      const excluded = exclusions?.get(path);
      const fileSink = excluded === undefined ? acc : new ExcludingSink(acc, excluded);
      byRawPath.set(rawPath, fileSink);
      return fileSink;
    },
    sourceBases(bases: string[]): void {
      resolver?.setSourceBases?.(bases);
    },
    generator(name: Generator): void {
      state.setScheme(branchScheme(ctx.format, name));
    },
  };

  return {
    sink,
    finish(): CoverageReport {
      if (report === undefined) {
        state.seal();
        // A file spread over several chunks is concatenated into a slab while its chunks live.
        let spread = 0;
        for (const acc of state.accs) if (acc.more !== null) spread += acc.count;
        if (spread > 0) budget.charge(spread * RECORD_BYTES, 'joining files spread over chunks');
        report = new CoverageReport(buildFiles(state.accs, state.sorter), [{ ...session, id: sessionId }]);
        // The report's columns are views of the sealed chunks; the builder keeps nothing else, so
        // a caller holding the builder after finish() does not hold the log or the segment lists.
        state.release();
      }
      return report;
    },
    get dropped(): number {
      return dropped;
    },
  };
}

/** A file's sink that drops the lines its exclusion names and those past its end. */
class ExcludingSink implements FileSink {
  private readonly lines: ReadonlySet<number>;
  private readonly eof: number;

  constructor(
    private readonly target: FileAccumulator,
    exclusion: LineExclusion,
  ) {
    this.lines = exclusion.lines;
    this.eof = exclusion.eof ?? Infinity;
  }

  line(lineNumber: number, value: LineValue, type?: LineType, extras?: LineExtras): void {
    // An impossible line number is neither: the target reports it as it would without fixes.
    if (lineNumber > this.eof || this.lines.has(lineNumber)) return;
    this.target.line(lineNumber, value, type, extras);
  }

  branches(lineNumber: number, taken: number, total: number, type: LineType, extras?: LineExtras): void {
    if (lineNumber > this.eof || this.lines.has(lineNumber)) return;
    this.target.branches(lineNumber, taken, total, type, extras);
  }
}
