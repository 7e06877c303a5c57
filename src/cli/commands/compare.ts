import { Command } from 'commander';
import { CommitComparisonSchema, type CommitComparison, type FileComparison } from '../../coverage/commit-comparison';
import { repoPath } from '../../api/views';
import type { CliIo } from '../io';
import { coverageText, table, TOTALS_HEADER, totalsRow } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';
import { check, ShaSchema, SlugSchema } from '../validate';

interface CompareOptions extends ServerOptions {
  base?: string;
  head: string;
  flag?: string;
}

/** Presence changes first (added, removed), then the largest coverage change, then path. */
function byLargestChange(a: FileComparison, b: FileComparison): number {
  const size = (f: FileComparison) => (f.coverageDelta === null ? Number.POSITIVE_INFINITY : Math.abs(Number(f.coverageDelta)));
  return size(b) - size(a) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** A delta in points with two decimals, cut like the coverage figures (never rounded up). */
const signed = (delta: string | null) => {
  if (delta === null) return '-';
  const [whole, fraction = ''] = delta.replace(/^-/, '').split('.');
  return `${delta.startsWith('-') ? '-' : '+'}${whole}.${fraction.padEnd(2, '0').slice(0, 2)}`;
};

export function comparisonText(c: CommitComparison): string {
  let out = table([
    ['', ...TOTALS_HEADER],
    [`base ${c.base.sha.slice(0, 12)}${c.baseSource ? ` (${c.baseSource})` : ''}`, ...totalsRow(c.base.totals)],
    [`head ${c.head.sha.slice(0, 12)}`, ...totalsRow(c.head.totals)],
  ]);
  out += `delta ${signed(c.coverageDelta)} points${c.flag !== undefined ? `, flag ${c.flag}` : ''}\n`;
  out +=
    c.patch === null
      ? 'patch - (head has no diff: upload with --diff-base, or PUT its diff)\n'
      : `patch ${coverageText(c.patch.coverage)} (${c.patch.lines} coverable line(s): ${c.patch.hits} hit, ${c.patch.misses} missed, ${c.patch.partials} partial)\n`;
  if (c.files.length > 0) {
    const rows = [...c.files].sort(byLargestChange).map((f) => [
      f.change,
      signed(f.coverageDelta),
      f.base === null ? '-' : coverageText(f.base.coverage),
      f.head === null ? '-' : coverageText(f.head.coverage),
      f.patch === null ? '-' : `${coverageText(f.patch.coverage)} of ${f.patch.lines}`,
      f.basePath !== undefined ? `${f.path} (from ${f.basePath})` : f.path,
    ]);
    out += `\n${table([['change', 'delta', 'base', 'head', 'patch', 'file'], ...rows])}`;
  }
  return out;
}

/** `tributary compare OWNER/NAME --head SHA [--base SHA] [--flag F]`: two commits' totals, delta, patch coverage and changed files. */
export function registerCompareCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('compare')
    .description(
      "compare a commit with its base (given, the base its diff was taken against, or its parent): totals of both, the delta, patch coverage " +
        '(the lines its diff adds or changes) and the changed files, largest change first',
    )
    .argument('<owner/name>', 'the repository')
    .requiredOption('--head <sha>', 'the commit compared')
    .option('--base <sha>', 'the commit compared against')
    .option('--flag <flag>', 'only the sessions carrying this flag');
  addServerOptions(cmd).action(async (slugArg: string, options: CompareOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      const head = check(ShaSchema, options.head, '--head');
      const base = options.base === undefined ? undefined : check(ShaSchema, options.base, '--base');
      const { value, response } = await ctx.client.json(CommitComparisonSchema, `${repoPath(slug)}/compare`, {
        token: ctx.repoToken(slug),
        query: { head, base, flag: options.flag },
      });
      io.stdout(options.json ? `${response.text.trimEnd()}\n` : comparisonText(value));
      return EXIT.ok;
    });
  });
}
