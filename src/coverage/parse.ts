import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createSessionBuilder } from './builder';
import { decompressInput } from './decompress';
import { DETECT_BYTES, detectFormat } from './detect';
import { ReportParseError } from './errors';
import { MemoryBudget, resolveLimits, type ParseLimits } from './limits';
import { parserFor } from './parsers';
import type { CoverageReport, SessionMeta } from './report';
import type { FormatName, LineExclusion, PathResolver } from './types';
import { ParseWarnings, type ParseWarning } from './warnings';

export interface ParseReportOptions {
  /** The input's name as the user gave it; used in error messages and the session metadata. */
  fileName: string;
  /** Skips detection. */
  format?: FormatName;
  limits?: Partial<ParseLimits>;
  /** Path normalisation; without one, paths are kept as the report wrote them. */
  resolver?: PathResolver;
  sessionId: number;
  session?: SessionMeta;
  /** By resolved path: lines the session leaves out (Codecov's report fixes). */
  exclusions?: ReadonlyMap<string, LineExclusion>;
}

export interface ParseReportResult {
  report: CoverageReport;
  format: FormatName;
  /** Files left out because the resolver dropped their paths (ignored or not in the repository). */
  droppedFiles: number;
  /** Per-line anomalies that were skipped or clamped, one entry per code (empty: none). */
  warnings: ParseWarning[];
}

/**
 * Parses one upload into a single-session report: gunzip when compressed, detect the format from
 * the first bytes (unless given), stream the bytes through the format's push parser into the
 * session builder. A line with an impossible number is skipped or clamped and counted in
 * `warnings`; every other malformed input ends in a ReportParseError, and a report without any
 * line data is `report_empty`.
 *
 * A streamed input's chunk is read only until the next chunk is requested, so a source may
 * reuse one buffer for all of them (the CLI's file reader does): what is kept longer (the bytes
 * held back for detection, gzip input, a JSON document) is copied.
 */
export async function parseReport(
  input: Uint8Array | AsyncIterable<Uint8Array>,
  options: ParseReportOptions,
): Promise<ParseReportResult> {
  const limits = resolveLimits(options.limits);
  const { fileName } = options;
  const budget = new MemoryBudget(limits.maxMemoryBytes, fileName, options.format ?? 'unknown');
  // Input given whole stays allocated for the whole parse; a stream costs one chunk at a time.
  if (input instanceof Uint8Array) budget.charge(input.byteLength, 'the input');
  const source = input instanceof Uint8Array ? slices(input) : input;
  const stream = decompressInput(source, { fileName, limits });

  try {
    // Hold back the first bytes for detection; they are replayed to the parser afterwards.
    const head: Uint8Array[] = [];
    let headSize = 0;
    let exhausted = false;
    if (options.format === undefined) {
      while (headSize < DETECT_BYTES) {
        const r = await stream.next();
        if (r.done) {
          exhausted = true;
          break;
        }
        // Held across the next read, so copied: the source may reuse its buffer.
        head.push(Uint8Array.prototype.slice.call(r.value));
        headSize += r.value.byteLength;
      }
    }
    if (options.format === undefined && headSize === 0) {
      throw new ReportParseError({ code: 'report_empty', file: fileName, format: 'unknown', offset: 0, reason: 'the input is empty' });
    }
    const format =
      options.format ?? detectFormat(head.length === 1 ? head[0] : Buffer.concat(head, headSize), fileName);
    const factory = parserFor(format);
    if (!factory) {
      throw new ReportParseError({
        code: 'unknown_format',
        file: fileName,
        format,
        reason: `no parser for format ${format} is available`,
      });
    }

    budget.format = format;
    const builder = createSessionBuilder({
      sessionId: options.sessionId,
      session: { ...options.session, format, file: options.session?.file ?? fileName },
      resolver: options.resolver,
      exclusions: options.exclusions,
      limits,
      budget,
    });
    const warnings = new ParseWarnings();
    const parser = factory(builder.sink, { fileName, limits, budget, warnings });
    for (const chunk of head) parser.write(chunk);
    head.length = 0;
    if (!exhausted) {
      for await (const chunk of stream) parser.write(chunk);
    }
    parser.end();
    const report = builder.finish();
    if (!hasLineData(report)) {
      throw new ReportParseError({
        code: 'report_empty',
        file: fileName,
        format,
        reason:
          builder.dropped > 0
            ? `no coverage data left: all ${builder.dropped} file(s) were dropped by path resolution or ignore rules`
            : warnings.count > 0
              ? `no coverage data left: every line was skipped (${warnings.list().map((w) => `${w.code} ${w.count}`).join(', ')})`
              : 'the report contains no coverage data',
      });
    }
    return { report, format, droppedFiles: builder.dropped, warnings: warnings.list() };
  } finally {
    // Stops the inflater and the source early when parsing failed before the end of the input.
    await stream.return(undefined);
  }
}

function hasLineData(report: CoverageReport): boolean {
  for (const file of report.files.values()) if (file.lineCount > 0) return true;
  return false;
}

/** Slices of a whole input; between them the event loop runs (other activities, workflow tasks). */
const SLICE_BYTES = 1024 * 1024;

async function* slices(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += SLICE_BYTES) {
    if (at > 0) await yieldToLoop();
    yield bytes.subarray(at, Math.min(at + SLICE_BYTES, bytes.byteLength));
  }
}
