import { Command } from 'commander';
import { QueueSchema, type Queue } from '../api-schemas';
import type { CliIo } from '../io';
import { dash, seconds, table } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';

/** `tributary queue`: what waits and what is in flight, queue times, throughput, estimated wait. */
export function registerQueueCommand(program: Command, io: CliIo): void {
  const cmd = program.command('queue').description('the upload queue: waiting and processing per repository, queue times, throughput, estimated wait');
  addServerOptions(cmd).action(async (options: ServerOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const { value, response } = await ctx.client.json(QueueSchema, '/api/v1/queue', { token: ctx.requireAdminToken() });
      io.stdout(options.json ? `${response.text.trimEnd()}\n` : describeQueue(value));
      return EXIT.ok;
    });
  });
}

function describeQueue(q: Queue): string {
  const t = q.total;
  const lines = [
    `waiting ${t.waiting}, processing ${t.processing}, oldest waiting ${seconds(t.oldestWaitingAge)}, ` +
      `estimated wait for a new upload ${t.estimatedWait === null || t.estimatedWait === undefined ? 'unknown (nothing merged in the last hour)' : seconds(t.estimatedWait)}\n`,
    table([
      ['window', 'started', 'queue p50', 'queue p95', 'merged/min'],
      ...q.windows.map((w) => [`${w.minutes}m`, dash(w.started), seconds(w.queueTimeP50), seconds(w.queueTimeP95), w.mergedPerMinute.toFixed(2)]),
    ]),
  ];
  if (q.repositories.length > 0) {
    lines.push(table([['repo', 'waiting', 'processing', 'oldest waiting'], ...q.repositories.map((r) => [r.repo, String(r.waiting), String(r.processing), seconds(r.oldestWaitingAge)])]));
  }
  return lines.join('');
}
