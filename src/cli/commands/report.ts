import { Command } from 'commander';
import { z } from 'zod';
import { CommitStatusSchema, ReportSchema, type CommitMetadataInfo, type CommitStatus } from '../api-schemas';
import { ApiError } from '../http-client';
import { commitPath } from '../follow';
import type { CliIo } from '../io';
import { coverageText, table, TOTALS_HEADER, totalsRow, totalsTable } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';
import { check, ShaSchema, SlugSchema } from '../validate';

interface ReportOptions extends ServerOptions {
  file?: string;
  flag?: string;
}

/** The commit's metadata as `label  value` lines, in this order; absent values are left out. */
const METADATA_LABELS: [keyof CommitMetadataInfo, string][] = [
  ['branch', 'branch'],
  ['pullRequest', 'pr'],
  ['parentSha', 'parent'],
  ['ciService', 'ci'],
  ['build', 'build'],
  ['job', 'job'],
  ['ciUrl', 'url'],
];

/** `tributary report OWNER/NAME SHA [--file PATH]`: the merged report of a commit. */
export function registerReportCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('report')
    .description(
      "a commit's merged report: its metadata (branch, PR, parent, CI, build, job, URL), totals and per-file coverage " +
        '(--json: the `tributary parse --json` shape, then `metadata`)',
    )
    .argument('<owner/name>', 'the repository')
    .argument('<sha>', 'the commit')
    .option('--file <path>', 'only this file')
    .option('--flag <flag>', 'only the sessions carrying this flag');
  addServerOptions(cmd).action(async (slugArg: string, shaArg: string, options: ReportOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      const sha = check(ShaSchema, shaArg, 'commit');
      const token = ctx.repoToken(slug);
      const [reportAnswer, commitAnswer] = await Promise.allSettled([
        ctx.client.json(ReportSchema, `${commitPath(slug, sha)}/report`, { token, query: { file: options.file, flag: options.flag } }),
        ctx.client.json(CommitStatusSchema, commitPath(slug, sha), { token }),
      ]);
      if (reportAnswer.status === 'rejected') {
        // No report: the uploads say why (failed, or still at work), and which one to look into.
        if (reportAnswer.reason instanceof ApiError && reportAnswer.reason.status === 404 && commitAnswer.status === 'fulfilled' && !options.json) {
          const uploads = commitAnswer.value.value.uploads ?? [];
          if (uploads.length > 0) io.stderr(`${uploadsTable(uploads)}\n(\`tributary status UPLOAD_ID\` follows one of them)\n`);
        }
        throw reportAnswer.reason;
      }
      if (commitAnswer.status === 'rejected') throw commitAnswer.reason;
      const { value, response } = reportAnswer.value;
      const commit = commitAnswer.value;
      const metadata = commit.value.metadata ?? {};
      if (options.json) {
        // The report's text as sent, so its files and totals compare with `tributary parse --json`
        // byte for byte; the commit's metadata is one more member at the end.
        const text = response.text.trimEnd();
        io.stdout(`${text.slice(0, text.lastIndexOf('}'))},"metadata":${JSON.stringify(metadata)}}\n`);
        return EXIT.ok;
      }
      const described = METADATA_LABELS.filter(([key]) => metadata[key] !== undefined).map(([key, label]) => [label, String(metadata[key])]);
      if (described.length > 0) io.stdout(`${table(described)}\n`);
      // The report's totals (the `parse --json` shape) do not count sessions; its session list does.
      io.stdout(totalsTable({ ...value.totals, sessions: value.totals.sessions ?? value.sessions?.length }));
      const flags = Object.entries(value.flags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (flags.length > 0) io.stdout(`\n${table([['flag', ...TOTALS_HEADER], ...flags.map(([flag, t]) => [flag, ...totalsRow(t)])])}`);
      const carried = carriedLines(value.sessions ?? []);
      if (carried.length > 0) io.stdout(`\n${table(carried)}`);
      const files = Object.entries(value.files).sort(([a], [b]) => a.localeCompare(b));
      if (files.length > 0) {
        const rows = files.map(([file, f]) => [coverageText(f.totals.coverage), String(f.totals.lines), String(f.totals.hits), String(f.totals.misses), String(f.totals.partials), file]);
        io.stdout(`\n${table([['coverage', 'lines', 'hits', 'misses', 'partials', 'file'], ...rows])}`);
      }
      return EXIT.ok;
    });
  });
}

function uploadsTable(uploads: NonNullable<CommitStatus['uploads']>): string {
  const rows = uploads.map((u) => [String(u.session ?? ''), u.state, u.uploadId, u.error ? `${u.error.code}: ${u.error.message}` : '']);
  return table([['session', 'state', 'upload', 'error'], ...rows]);
}

const CarriedSessionSchema = z.object({ type: z.literal('carriedforward'), flags: z.array(z.string()).optional(), carriedFrom: z.string().optional() });

/** `carried  FLAGS from SHA (N sessions)`, one line per source commit and flag set. */
function carriedLines(sessions: readonly unknown[]): string[][] {
  const groups = new Map<string, number>();
  for (const s of sessions) {
    const c = CarriedSessionSchema.safeParse(s);
    if (!c.success) continue;
    const key = `${(c.data.flags ?? []).join(',') || '(no flag)'} from ${c.data.carriedFrom?.slice(0, 12) ?? '?'}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([what, n]) => ['carried forward', `${what} (${n} session${n === 1 ? '' : 's'})`]);
}
