import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import { RepoSettingsSchema } from '../../storage/rows';
import { commitPath, repoPath } from '../follow';
import { UsageError, type CliIo } from '../io';
import { dash, json, table } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';
import { check, PositiveIntSchema, ShaSchema, SlugSchema } from '../validate';

const DoneSchema = z.object({ repo: z.string(), sha: z.string(), notifier: z.string() });
const SettingsSchema = z.object({ slug: z.string(), settings: z.record(z.string(), z.unknown()) });
const DeliveriesSchema = z.object({
  deliveries: z.array(
    z
      .object({
        id: z.string(),
        sha: z.string(),
        kind: z.string(),
        target: z.string(),
        reportVersion: z.number(),
        state: z.string(),
        attempts: z.number(),
        lastStatus: z.number().nullable(),
        lastError: z.string().nullable(),
        createdAt: z.string(),
      })
      .loose(),
  ),
});

interface DoneOptions extends ServerOptions {
  repo: string;
  sha: string;
}

interface DeliveriesOptions extends ServerOptions {
  sha?: string;
  limit?: string;
}

/**
 * `tributary done`, `tributary deliveries` and `tributary settings get|set`: readiness and the
 * feedback of settled commits.
 */
export function registerFeedbackCommands(program: Command, io: CliIo): void {
  const done = program
    .command('done')
    .description('say the commit has all its uploads: it settles (commit statuses, PR comment, webhooks) once they are processed')
    .requiredOption('--repo <owner/name>', 'the repository')
    .requiredOption('--sha <sha>', 'the commit');
  addServerOptions(done).action(async (options: DoneOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, options.repo, '--repo');
      const sha = check(ShaSchema, options.sha.toLowerCase(), '--sha');
      const { value } = await ctx.client.json(DoneSchema, `${commitPath(slug, sha)}/done`, { method: 'POST', token: ctx.repoToken(slug) });
      if (options.json) io.stdout(json(value));
      else io.stdout(`${value.repo} @ ${value.sha.slice(0, 12)}: done; it notifies once its uploads are processed (${value.notifier})\n`);
      return EXIT.ok;
    });
  });

  const deliveries = program
    .command('deliveries')
    .description("a repository's feedback deliveries (statuses, comments, webhooks), newest first, with their tries")
    .argument('<owner/name>', 'the repository')
    .option('--sha <sha>', 'only this commit')
    .option('--limit <n>', 'at most this many');
  addServerOptions(deliveries).action(async (slugArg: string, options: DeliveriesOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      const query = {
        sha: options.sha === undefined ? undefined : check(ShaSchema, options.sha.toLowerCase(), '--sha'),
        limit: options.limit === undefined ? undefined : String(check(PositiveIntSchema, options.limit, '--limit')),
      };
      const { value, response } = await ctx.client.json(DeliveriesSchema, `${repoPath(slug)}/deliveries`, { token: ctx.repoToken(slug), query });
      if (options.json) {
        io.stdout(`${response.text.trimEnd()}\n`);
        return EXIT.ok;
      }
      if (value.deliveries.length === 0) {
        io.stdout('no deliveries\n');
        return EXIT.ok;
      }
      io.stdout(
        table([
          ['state', 'commit', 'report', 'target', 'tries', 'status', 'created', 'error'],
          ...value.deliveries.map((d) => [d.state, d.sha.slice(0, 12), `v${d.reportVersion}`, d.target, String(d.attempts), dash(d.lastStatus), d.createdAt, d.lastError ?? '']),
        ]),
      );
      return EXIT.ok;
    });
  });

  const settings = program.command('settings').description("a repository's settings (admin); secrets are shown as ***");
  const get = settings.command('get').description('print the settings as JSON').argument('<owner/name>', 'the repository');
  addServerOptions(get).action(async (slugArg: string, options: ServerOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      const { value } = await ctx.client.json(SettingsSchema, `${repoPath(slug)}/settings`, { token: ctx.requireAdminToken() });
      io.stdout(`${JSON.stringify(value.settings, null, 2)}\n`);
      return EXIT.ok;
    });
  });
  const set = settings
    .command('set')
    .description('replace the settings with a JSON file ("-": standard input); "***" keeps a stored secret')
    .argument('<owner/name>', 'the repository')
    .argument('<file>', 'the settings as JSON');
  addServerOptions(set).action(async (slugArg: string, file: string, options: ServerOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new UsageError(`${file}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      const body = check(RepoSettingsSchema, parsed, 'settings');
      const { value } = await ctx.client.json(SettingsSchema, `${repoPath(slug)}/settings`, { method: 'PUT', token: ctx.requireAdminToken(), json: body });
      if (options.json) io.stdout(json(value));
      else io.stdout(`${JSON.stringify(value.settings, null, 2)}\n`);
      return EXIT.ok;
    });
  });
}
