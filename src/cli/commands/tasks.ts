import { Command, Option } from 'commander';
import { TasksSchema } from '../api-schemas';
import type { CliIo } from '../io';
import { dash, table } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';
import { check, PositiveIntSchema, ShaSchema, SlugSchema, sinceTime, TASK_STATUSES } from '../validate';
import { UPLOAD_MODES } from '../../vocabulary';

interface TasksOptions extends ServerOptions {
  repo?: string;
  commit?: string;
  mode?: string;
  status?: string;
  outcome?: string;
  since?: string;
  until?: string;
  limit?: string;
}

/** `tributary tasks [filters]`: commit workflows from Temporal's visibility store. */
export function registerTasksCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('tasks')
    .description('list commit workflows, newest first')
    .option('--repo <owner/name>', 'only this repository')
    .option('--commit <sha>', 'only this commit')
    .addOption(new Option('--mode <mode>', 'only this mode').choices([...UPLOAD_MODES]))
    .addOption(new Option('--status <status>', 'only this workflow status').choices([...TASK_STATUSES]))
    .option('--outcome <outcome>', 'only this outcome')
    .option('--since <time>', 'started at or after (ISO 8601, or a duration back from now: 1h, 2d)')
    .option('--until <time>', 'started before (ISO 8601, or a duration back from now)')
    .option('--limit <n>', 'at most this many');
  addServerOptions(cmd).action(async (options: TasksOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const query = {
        repo: options.repo === undefined ? undefined : check(SlugSchema, options.repo, '--repo'),
        commit: options.commit === undefined ? undefined : check(ShaSchema, options.commit, '--commit'),
        mode: options.mode,
        status: options.status,
        outcome: options.outcome,
        since: options.since === undefined ? undefined : sinceTime(options.since, '--since'),
        until: options.until === undefined ? undefined : sinceTime(options.until, '--until'),
        limit: options.limit === undefined ? undefined : String(check(PositiveIntSchema, options.limit, '--limit')),
      };
      const { value, response } = await ctx.client.json(TasksSchema, '/api/v1/tasks', { token: ctx.requireAdminToken(), query });
      if (options.json) {
        io.stdout(`${response.text.trimEnd()}\n`);
        return EXIT.ok;
      }
      if (value.tasks.length === 0) {
        io.stdout('no tasks\n');
        return EXIT.ok;
      }
      io.stdout(
        table([
          ['status', 'repo', 'commit', 'mode', 'outcome', 'experiment', 'uploads', 'started', 'closed', 'workflow'],
          ...value.tasks.map((t) => [
            t.status,
            dash(t.repo),
            dash(t.sha?.slice(0, 12)),
            dash(t.mode),
            dash(t.outcome),
            dash(t.experimentOutcome),
            dash(t.uploadCount),
            dash(t.startTime),
            dash(t.closeTime),
            t.workflowId,
          ]),
        ]),
      );
      return EXIT.ok;
    });
  });
}
