import { Command } from 'commander';
import { ReportSchema } from '../api-schemas';
import { commitPath } from '../follow';
import type { CliIo } from '../io';
import { coverageText, table, totalsTable } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';
import { check, ShaSchema, SlugSchema } from '../validate';

interface ReportOptions extends ServerOptions {
  file?: string;
}

/** `tributary report OWNER/NAME SHA [--file PATH]`: the merged report of a commit. */
export function registerReportCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('report')
    .description("a commit's merged report: totals and per-file coverage (--json: the `tributary parse --json` shape)")
    .argument('<owner/name>', 'the repository')
    .argument('<sha>', 'the commit')
    .option('--file <path>', 'only this file');
  addServerOptions(cmd).action(async (slugArg: string, shaArg: string, options: ReportOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      const sha = check(ShaSchema, shaArg, 'commit');
      const { value, response } = await ctx.client.json(ReportSchema, `${commitPath(slug, sha)}/report`, {
        token: ctx.repoToken(slug),
        query: { file: options.file },
      });
      if (options.json) {
        // Verbatim, so scripts can compare it with `tributary parse --json` byte for byte.
        io.stdout(response.text.endsWith('\n') ? response.text : `${response.text}\n`);
        return EXIT.ok;
      }
      // The report's totals (the `parse --json` shape) do not count sessions; its session list does.
      io.stdout(totalsTable({ ...value.totals, sessions: value.totals.sessions ?? value.sessions?.length }));
      const files = Object.entries(value.files).sort(([a], [b]) => a.localeCompare(b));
      if (files.length > 0) {
        const rows = files.map(([file, f]) => [coverageText(f.totals.coverage), String(f.totals.lines), String(f.totals.hits), String(f.totals.misses), String(f.totals.partials), file]);
        io.stdout(`\n${table([['coverage', 'lines', 'hits', 'misses', 'partials', 'file'], ...rows])}`);
      }
      return EXIT.ok;
    });
  });
}
