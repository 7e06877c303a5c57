import { Command } from 'commander';
import { CreatedRepoSchema } from '../api-schemas';
import { saveUploadToken } from '../credentials';
import type { CliIo } from '../io';
import { json } from '../output';
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
}
