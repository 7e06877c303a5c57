import { Command } from 'commander';
import { z } from 'zod';
import { CreatedReadTokenSchema, ReadTokenListSchema, ReadTokenSchema } from '../api-schemas';
import { repoPath } from '../follow';
import { UsageError, type CliIo } from '../io';
import { json, table } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';
import { check, SlugSchema } from '../validate';

const TokenIdSchema = z.string().regex(/^rt_[0-9a-f]{16}$/, 'expected a token id as `token list` prints it (rt_ and 16 hex digits)');

interface CreateOptions extends ServerOptions {
  read?: boolean;
  name?: string;
}

/** `tributary token create --read OWNER/NAME`, `token list OWNER/NAME`, `token revoke ID` (admin). */
export function registerTokenCommand(program: Command, io: CliIo): void {
  const token = program.command('token').description("a repository's read-only tokens (admin): for its pages, badge and API reads");

  const create = token
    .command('create')
    .description('create a read-only token of the repository and print it (shown once, only its hash is kept)')
    .argument('<owner/name>', 'the repository slug')
    .option('--read', 'a read-only token (the only kind there is; say it, so the command reads as what it does)')
    .option('--name <name>', 'a label shown by `token list` (who or what uses it)');
  addServerOptions(create).action(async (slugArg: string, options: CreateOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      if (options.read !== true) throw new UsageError('say --read: upload tokens come with `tributary repo create`, this command makes read-only ones');
      const { value } = await ctx.client.json(CreatedReadTokenSchema, `${repoPath(slug)}/tokens`, {
        method: 'POST',
        token: ctx.requireAdminToken(),
        json: { kind: 'read', ...(options.name !== undefined ? { name: options.name } : {}) },
      });
      if (options.json) io.stdout(json(value));
      else {
        io.stdout(`${value.token}\n`);
        io.stderr(`created read-only token ${value.id} of ${value.repo}; it is shown once: store it now (revoke with \`tributary token revoke ${value.id}\`)\n`);
      }
      return EXIT.ok;
    });
  });

  const list = token.command('list').description("the repository's read-only tokens: ids, names, creation times (never the tokens)").argument('<owner/name>', 'the repository slug');
  addServerOptions(list).action(async (slugArg: string, options: ServerOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const slug = check(SlugSchema, slugArg, 'repository');
      const { value, response } = await ctx.client.json(ReadTokenListSchema, `${repoPath(slug)}/tokens`, { token: ctx.requireAdminToken() });
      if (options.json) io.stdout(`${response.text.trimEnd()}\n`);
      else if (value.tokens.length === 0) io.stdout(`${slug}: no read-only tokens\n`);
      else io.stdout(table([['id', 'kind', 'name', 'created'], ...value.tokens.map((t) => [t.id, t.kind, t.name ?? '-', t.createdAt])]));
      return EXIT.ok;
    });
  });

  const revoke = token
    .command('revoke')
    .description('revoke a read-only token: its API calls fail and its page sessions end at once')
    .argument('<id>', 'the token id, as `token list` prints it');
  addServerOptions(revoke).action(async (idArg: string, options: ServerOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const id = check(TokenIdSchema, idArg, 'token id');
      const { value } = await ctx.client.json(ReadTokenSchema, `/api/v1/tokens/${id}`, { method: 'DELETE', token: ctx.requireAdminToken() });
      if (options.json) io.stdout(json(value));
      else io.stdout(`revoked ${value.id} (${value.repo})\n`);
      return EXIT.ok;
    });
  });
}
