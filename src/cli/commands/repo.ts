import { Command } from 'commander';
import { CreatedRepoSchema, RepoListSchema, RepoSettingsAnswerSchema } from '../api-schemas';
import { saveUploadToken } from '../credentials';
import { repoPath } from '../follow';
import { UsageError, type CliIo } from '../io';
import { json, table } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';
import { DEFAULT_CARRYFORWARD_DEPTH, MAX_CARRYFORWARD_DEPTH } from '../../vocabulary';
import { CarryforwardDepthSchema, check, FixRuleSchema, FlagNameSchema, SlugSchema } from '../validate';

interface RepoCreateOptions extends ServerOptions {
  fixes: string[];
  ignore: string[];
  save: boolean;
}

interface RepoFlagsOptions extends ServerOptions {
  flag: string[];
  carryforward: string[];
  depth?: string;
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
      const { value: list } = await ctx.client.json(RepoListSchema, '/api/v1/repos', { token });
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

  const flags = repo
    .command('flags')
    .description("declare a repository's flags and which are carried forward (replaces the declaration; the other settings stay); without options, print it")
    .argument('<owner/name>', 'the repository slug')
    .option('--flag <name>', 'a flag that is not carried forward (repeatable)', collect, [])
    .option('--carryforward <name>', 'a flag carried forward from the nearest ancestor when a commit has no upload with it (repeatable)', collect, [])
    .option('--depth <n>', `ancestors searched for a carryforward flag (1-${MAX_CARRYFORWARD_DEPTH}; default ${DEFAULT_CARRYFORWARD_DEPTH})`);
  addServerOptions(flags).action(async (slugArg: string, options: RepoFlagsOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      const declared = [
        ...options.flag.map((name) => ({ name: check(FlagNameSchema, name, '--flag'), carryforward: false })),
        ...options.carryforward.map((name) => ({ name: check(FlagNameSchema, name, '--carryforward'), carryforward: true })),
      ];
      const names = declared.map((f) => f.name);
      const twice = names.find((n, i) => names.indexOf(n) !== i);
      if (twice !== undefined) throw new UsageError(`flag ${JSON.stringify(twice)} is declared twice`);
      const depth = options.depth === undefined ? undefined : check(CarryforwardDepthSchema, options.depth, '--depth');
      const token = ctx.requireAdminToken();
      // The settings route replaces them all: start from the repository's current ones.
      const { value: list } = await ctx.client.json(RepoListSchema, '/api/v1/repos', { token });
      const current = list.repos.find((r) => r.slug === slug);
      if (current === undefined) throw new UsageError(`repository ${slug} does not exist`);
      let settings = current.settings;
      if (declared.length > 0 || depth !== undefined) {
        settings = { ...settings, ...(declared.length > 0 ? { flags: declared } : {}), ...(depth !== undefined ? { carryforwardDepth: depth } : {}) };
        settings = (await ctx.client.json(RepoSettingsAnswerSchema, `${repoPath(slug)}/settings`, { method: 'PUT', token, json: settings })).value.settings;
      }
      if (options.json) {
        io.stdout(json({ slug, flags: settings.flags ?? [], carryforwardDepth: settings.carryforwardDepth ?? null }));
      } else {
        const rows = (settings.flags ?? []).map((f) => [f.name, f.carryforward ? 'yes' : 'no']);
        io.stdout(rows.length > 0 ? table([['flag', 'carried forward'], ...rows]) : `${slug}: no flags declared\n`);
        io.stdout(`carryforward depth: ${settings.carryforwardDepth ?? DEFAULT_CARRYFORWARD_DEPTH}\n`);
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
