import { Command } from 'commander';
import { CreatedRepoSchema, RepoListAnswerSchema, RepoSettingsAnswerSchema } from '../api-schemas';
import { repoPath } from '../follow';
import { saveUploadToken } from '../credentials';
import { UsageError, type CliIo } from '../io';
import { json, table } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';
import { check, FixRuleSchema, SlugSchema } from '../validate';

interface RepoCreateOptions extends ServerOptions {
  fixes: string[];
  ignore: string[];
  save: boolean;
}

const collect = (value: string, all: string[]) => [...all, value];

/** `tributary repo create OWNER/NAME`: registers a repository and keeps its upload token. */
export function registerRepoCommand(program: Command, io: CliIo): void {
  const repo = program.command('repo').description('manage repositories');
  const create = repo
    .command('create')
    .description('create a repository and print its upload token (shown once; also saved for this user)')
    .argument('<owner/name>', 'the repository slug')
    .option('--fixes <rule>', 'path fix "before::after" applied to every upload (repeatable)', collect, [])
    .option('--ignore <path>', 'path pattern left out of reports (repeatable)', collect, [])
    .option('--no-save', 'do not save the token in the credentials file');
  addServerOptions(create).action(async (slugArg: string, options: RepoCreateOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      for (const rule of options.fixes) check(FixRuleSchema, rule, '--fixes rule');
      const settings = options.fixes.length > 0 || options.ignore.length > 0 ? { fixes: options.fixes, ignore: options.ignore } : undefined;
      const { value } = await ctx.client.json(CreatedRepoSchema, '/api/v1/repos', {
        method: 'POST',
        token: ctx.requireAdminToken(),
        json: { slug, ...(settings ? { settings } : {}) },
      });
      const saved = options.save ? saveUploadToken(ctx.env, ctx.baseUrl, value.slug, value.uploadToken) : undefined;
      if (options.json) {
        io.stdout(json({ slug: value.slug, uploadToken: value.uploadToken }));
      } else {
        io.stdout(`${value.uploadToken}\n`);
        io.stderr(`created ${value.slug}; its upload token is shown once${saved ? `, and saved in ${saved}` : ''}\n`);
      }
      return EXIT.ok;
    });
  });

  const settings = repo
    .command('settings')
    .description("show a repository's settings, or change some (the others are kept): --public makes its pages and badge readable without a token")
    .argument('<owner/name>', 'the repository slug')
    .option('--public', 'pages and badge readable by anyone (the API still needs a token)')
    .option('--private', 'pages and badge need a session of the admin or one of its tokens (the default)')
    .option('--default-branch <branch>', 'its default branch (priorities, badges)')
    .option('--urgent', 'its commits go first when workers are saturated')
    .option('--no-urgent', 'not urgent');
  addServerOptions(settings).action(async (slugArg: string, options: RepoSettingsOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      if (options.public === true && options.private === true) throw new UsageError('--public and --private contradict each other: give one');
      const token = ctx.requireAdminToken();
      const { value: list } = await ctx.client.json(RepoListAnswerSchema, '/api/v1/repos', { token });
      const current = list.repos.find((r) => r.slug === slug);
      if (current === undefined) {
        io.stderr(`error: repository ${slug} not found\n`);
        return EXIT.failed;
      }
      const changes: Record<string, unknown> = {};
      if (options.public === true) changes.public = true;
      if (options.private === true) changes.public = false;
      if (options.defaultBranch !== undefined) changes.defaultBranch = options.defaultBranch;
      if (options.urgent !== undefined) changes.urgent = options.urgent;
      let shown = current.settings;
      if (Object.keys(changes).length > 0) {
        // The API replaces the settings whole: what is not changed is sent back as it was.
        const { value } = await ctx.client.json(RepoSettingsAnswerSchema, `${repoPath(slug)}/settings`, { method: 'PUT', token, json: { ...current.settings, ...changes } });
        shown = value.settings;
      }
      if (options.json) io.stdout(json({ slug, settings: shown }));
      else {
        const row = (k: string, v: unknown) => [k, v === undefined ? '-' : Array.isArray(v) ? v.join(', ') || '-' : String(v)];
        io.stdout(
          table([
            ['setting', 'value'],
            row('public', shown.public === true),
            row('defaultBranch', shown.defaultBranch),
            row('urgent', shown.urgent === true),
            row('fixes', shown.fixes),
            row('ignore', shown.ignore),
          ]),
        );
      }
      return EXIT.ok;
    });
  });
}

interface RepoSettingsOptions extends ServerOptions {
  public?: boolean;
  private?: boolean;
  defaultBranch?: string;
  urgent?: boolean;
}
