import { Command, Option } from 'commander';
import { VerificationsSchema } from '../api-schemas';
import type { CliIo } from '../io';
import { dash, table } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';
import { check, IsoTimeSchema, PositiveIntSchema, SlugSchema } from '../validate';
import { VERIFICATION_OUTCOMES } from '../../vocabulary';

interface VerificationsOptions extends ServerOptions {
  repo?: string;
  outcome?: string;
  since?: string;
  limit?: string;
}

/** `tributary verifications [filters]`: what scheduled re-verification found, newest first. */
export function registerVerificationsCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('verifications')
    .description('outcomes of scheduled re-verification (match, mismatch, skipped), newest first')
    .option('--repo <owner/name>', 'only this repository')
    .addOption(new Option('--outcome <outcome>', 'only this outcome').choices([...VERIFICATION_OUTCOMES]))
    .option('--since <time>', 'recorded at or after (ISO 8601)')
    .option('--limit <n>', 'at most this many');
  addServerOptions(cmd).action(async (options: VerificationsOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const query = {
        repo: options.repo === undefined ? undefined : check(SlugSchema, options.repo, '--repo'),
        outcome: options.outcome,
        since: options.since === undefined ? undefined : check(IsoTimeSchema, options.since, '--since'),
        limit: options.limit === undefined ? undefined : String(check(PositiveIntSchema, options.limit, '--limit')),
      };
      const { value, response } = await ctx.client.json(VerificationsSchema, '/api/v1/verifications', { token: ctx.requireAdminToken(), query });
      if (options.json) {
        io.stdout(`${response.text.trimEnd()}\n`);
        return EXIT.ok;
      }
      if (value.verifications.length === 0) {
        io.stdout('no verifications\n');
        return EXIT.ok;
      }
      io.stdout(
        table([
          ['outcome', 'repo', 'commit', 'uploads', 'files', 'lines', 'recorded', 'run', 'details'],
          ...value.verifications.map((v) => [
            v.outcome,
            v.repo,
            v.sha.slice(0, 12),
            dash(v.uploads),
            dash(v.differingFiles),
            dash(v.differingLines),
            dash(v.createdAt),
            v.runId,
            v.outcome === 'match' ? '' : [v.reason, ...(v.files ?? []).slice(0, 3), ...(v.sample ?? []).slice(0, 2)].filter(Boolean).join('; '),
          ]),
        ]),
      );
      return EXIT.ok;
    });
  });
}
