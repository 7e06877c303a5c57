import { Command } from 'commander';
import { FlagsSchema, ModeSchema } from '../api-schemas';
import { repoPath } from '../follow';
import type { CliIo } from '../io';
import { json, table } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';
import { check, ModeArgSchema, SlugSchema } from '../validate';

/** `tributary mode set OWNER/NAME MODE` and `tributary mode list`. */
export function registerModeCommand(program: Command, io: CliIo): void {
  const mode = program.command('mode').description("a repository's processing mode (serial, parallel, experiment)");
  const set = mode
    .command('set')
    .description('override the mode of a repository; "default" clears the override')
    .argument('<owner/name>', 'the repository slug')
    .argument('<mode>', 'serial, parallel, experiment or default');
  addServerOptions(set).action(async (slugArg: string, modeArg: string, options: ServerOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      const wanted = check(ModeArgSchema, modeArg, 'mode');
      const { value } = await ctx.client.json(ModeSchema, `${repoPath(slug)}/mode`, {
        method: 'PUT',
        token: ctx.requireAdminToken(),
        json: { mode: wanted === 'default' ? null : wanted },
      });
      if (options.json) io.stdout(json(value));
      else io.stdout(value.mode === null ? `${value.slug}: override cleared (the rollout decides)\n` : `${value.slug}: mode ${value.mode}\n`);
      return EXIT.ok;
    });
  });

  const list = mode.command('list').description('the default mode, the rollout and every override');
  addServerOptions(list).action(async (options: ServerOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const { value, response } = await ctx.client.json(FlagsSchema, '/api/v1/flags', { token: ctx.requireAdminToken() });
      if (options.json) {
        io.stdout(`${response.text.trimEnd()}\n`);
        return EXIT.ok;
      }
      const rollout = Object.entries(value.rollout).map(([m, p]) => `${m}=${p}`).join(', ');
      io.stdout(`default mode: ${value.defaultMode}\nrollout: ${rollout || 'none'}\n`);
      if (value.overrides.length > 0) io.stdout(table([['repository', 'mode'], ...value.overrides.map((o) => [o.slug, o.mode])]));
      return EXIT.ok;
    });
  });
}
