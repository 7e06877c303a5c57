import { Command } from 'commander';
import { CancelSchema } from '../api-schemas';
import type { CliIo } from '../io';
import { json } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';

/** `tributary cancel WORKFLOW_ID`: asks a commit workflow to stop; its pending uploads end cancelled. */
export function registerCancelCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('cancel')
    .description('cancel a commit workflow (see `tributary tasks`); uploads not yet merged end cancelled')
    .argument('<workflow-id>', 'the workflow id');
  addServerOptions(cmd).action(async (workflowId: string, options: ServerOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const { value } = await ctx.client.json(CancelSchema, `/api/v1/tasks/${encodeURIComponent(workflowId)}/cancel`, {
        method: 'POST',
        token: ctx.requireAdminToken(),
      });
      if (options.json) io.stdout(json(value));
      else io.stdout(`cancellation requested for ${value.workflowId}\n`);
      return EXIT.ok;
    });
  });
}
