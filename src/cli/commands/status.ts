import { Command } from 'commander';
import { describeWarning } from '../../coverage/warnings';
import { UploadStatusSchema, type UploadStatus } from '../api-schemas';
import { statusLines } from '../display';
import { followUpload } from '../follow';
import { isTerminalUploadState } from '../../vocabulary';
import type { CliIo } from '../io';
import { dash, json, table, seconds } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerOptions } from '../server-context';
import { check, UploadIdSchema, WaitSchema } from '../validate';

interface StatusOptions extends ServerOptions {
  await?: boolean;
  waitTimeout: string;
}

/** `tributary status ID [--await]`: one upload's state, optionally followed to the end. */
export function registerStatusCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('status')
    .description("an upload's state, error and timings")
    .argument('<upload-id>', 'the upload id printed by `tributary upload`')
    .option('--await', 'follow the upload until it is merged, failed or cancelled')
    .option('--wait-timeout <duration>', 'how long --await follows', '10m');
  addServerOptions(cmd).action(async (idArg: string, options: StatusOptions) => {
    await runServerCommand(io, options, async (ctx) => {
      const id = check(UploadIdSchema, idArg, 'upload id');
      const waitMs = check(WaitSchema, options.waitTimeout, '--wait-timeout');
      const token = ctx.repoToken();
      let status: UploadStatus;
      if (options.await) {
        const lines = options.json ? undefined : statusLines(io);
        status = await followUpload(ctx.client, token, id, (s) => lines?.set(id, `upload ${s.uploadId}  ${s.state}`), { deadline: Date.now() + waitMs });
      } else {
        status = (await ctx.client.json(UploadStatusSchema, `/api/v1/uploads/${encodeURIComponent(id)}`, { token })).value;
      }
      if (options.json) io.stdout(json(status));
      else io.stdout(describe(status));
      if (status.state === 'error' || status.state === 'cancelled') return EXIT.failed;
      if (options.await && !isTerminalUploadState(status.state)) {
        io.stderr(`error: gave up waiting after ${options.waitTimeout}: the upload is ${status.state}\n`);
        return EXIT.failed;
      }
      return EXIT.ok;
    });
  });
}

function describe(s: UploadStatus): string {
  const rows: string[][] = [
    ['upload', s.uploadId],
    ['repository', dash(s.repo)],
    ['commit', dash(s.sha)],
    ['session', dash(s.session)],
    ['state', s.state],
  ];
  if (s.error) rows.push(['error', `${s.error.code}: ${s.error.message}`]);
  for (const w of s.warnings ?? []) rows.push(['warning', describeWarning(w)]);
  for (const [k, v] of Object.entries(s.timings ?? {})) rows.push([k, dash(v)]);
  if (s.queuedFor !== null && s.queuedFor !== undefined) rows.push([s.state === 'uploaded' ? 'waiting for' : 'queued for', seconds(s.queuedFor)]);
  if (s.state === 'uploaded' && s.estimatedWait !== undefined) rows.push(['estimated wait', s.estimatedWait === null ? 'unknown (nothing merged in the last hour)' : seconds(s.estimatedWait)]);
  return table(rows);
}
