import { Command, Option } from 'commander';
import { ReportParseError } from '../coverage/errors';
import { addSessionWarnings, toParseJson, toSummaryJson } from '../coverage/json-output';
import { mergeReports } from '../coverage/merge';
import { parseReport, type ParseReportResult } from '../coverage/parse';
import { createPathResolver } from '../coverage/paths';
import { displayPercent } from '../coverage/ratio';
import type { CoverageReport } from '../coverage/report';
import type { CoverageTotals } from '../coverage/totals';
import { FORMATS, type FormatName } from '../coverage/types';
import { formatWarnings } from '../coverage/warnings';
import { ConfigError } from '../config-error';
import { loadParseLimits, type ConfiguredParseLimits } from '../parse-limits-env';
import { UsageError, type CliIo } from './io';

export interface ParseCommandOptions {
  format?: FormatName;
  fixes?: string[];
  json?: boolean;
  summary?: boolean;
}

/**
 * `tributary parse FILE... [--format NAME] [--fixes RULE]... [--json | --summary]`: parses each
 * file as one session (ids 0, 1, 2, ... in argument order), merges them and prints the result.
 */
export function registerParseCommand(program: Command, io: CliIo): void {
  program
    .command('parse')
    .description('parse coverage reports, merge them as sessions 0, 1, 2, ... and print the result')
    .argument('<files...>', 'coverage reports (any supported format, optionally gzipped)')
    .addOption(new Option('--format <name>', 'skip detection and read every file as this format').choices([...FORMATS]))
    .option('--fixes <rule>', 'path fix "before::after" (repeatable)', (rule: string, all: string[]) => [...all, rule], [])
    .addOption(new Option('--json', 'print every file, line and the totals as JSON').conflicts('summary'))
    .addOption(new Option('--summary', 'print only the totals and sessions as JSON').conflicts('json'))
    .action(async (files: string[], options: ParseCommandOptions) => {
      io.setExitCode(await runParse(files, options, io));
    });
}

/** Returns the process exit code: 0 ok, 1 a report failed to parse, 2 a usage error. */
export async function runParse(files: string[], options: ParseCommandOptions, io: CliIo): Promise<number> {
  if (files.length === 0) {
    io.stderr('error: no files given\n');
    return 2;
  }
  const fixes = options.fixes ?? [];
  const badFix = fixes.find((f) => !f.includes('::'));
  if (badFix !== undefined) {
    io.stderr(`error: invalid --fixes rule ${JSON.stringify(badFix)}: expected "before::after"\n`);
    return 2;
  }

  let limits: ConfiguredParseLimits;
  try {
    limits = loadParseLimits(io.env ?? {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`error: ${err.message}\n`);
    return 2;
  }

  const results: ParseReportResult[] = [];
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    try {
      results.push(
        await parseReport(io.open(file), {
          fileName: file,
          format: options.format,
          // The worker's limits, from the same variables: what parses here is accepted there.
          limits,
          // A fresh resolver per file: Cobertura source bases belong to one report.
          resolver: createPathResolver({ fixes }),
          sessionId: i,
          session: { file },
        }),
      );
    } catch (err) {
      if (err instanceof UsageError) {
        io.stderr(`error: ${err.message}\n`);
        return 2;
      }
      if (err instanceof ReportParseError) {
        io.stderr(`error: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  }

  // Skipped and clamped lines do not fail the command: they are reported on stderr, and in the
  // JSON documents as each session's `warnings`.
  for (const [i, r] of results.entries()) {
    for (const line of formatWarnings(r.warnings, files[i])) io.stderr(`${line}\n`);
  }
  const warnings = new Map(results.map((r, i) => [i, r.warnings]));
  const report = mergeReports(results.map((r) => r.report));
  if (options.json) io.stdout(`${JSON.stringify(addSessionWarnings(toParseJson(report), warnings))}\n`);
  else if (options.summary) io.stdout(`${JSON.stringify(addSessionWarnings(toSummaryJson(report), warnings))}\n`);
  else io.stdout(formatTable(report, results));
  return 0;
}

/** Codecov's display rule: two decimals, rounded down. */
/** The CLI's coverage figure: the one display of src/coverage/ratio.ts. */
export const displayCoverage = displayPercent;

function formatTable(report: CoverageReport, results: ParseReportResult[]): string {
  const summary = toSummaryJson(report);
  const rows: string[][] = [['session', 'format', 'dropped', 'file']];
  for (const s of summary.sessions) {
    rows.push([String(s.id), s.format ?? '', String(results[s.id]?.droppedFiles ?? 0), s.file ?? '']);
  }
  const t: CoverageTotals = summary.totals;
  const totals = [
    ['files', 'lines', 'hits', 'misses', 'partials', 'branches', 'methods', 'coverage'],
    [t.files, t.lines, t.hits, t.misses, t.partials, t.branches, t.methods].map(String).concat(displayCoverage(t.coverage)),
  ];
  return `${alignTable(rows)}\n${alignTable(totals)}`;
}

function alignTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n') + '\n';
}
