import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { Command, CommanderError } from 'commander';
import { processIo, type CliIo } from './io';
import { registerParseCommand } from './parse-command';
import { registerCancelCommand } from './commands/cancel';
import { registerCompareCommand } from './commands/compare';
import { registerFeedbackCommands } from './commands/feedback';
import { registerGcCommand } from './commands/gc';
import { registerModeCommand } from './commands/mode';
import { registerRepoCommand } from './commands/repo';
import { registerQueueCommand } from './commands/queue';
import { registerReportCommand } from './commands/report';
import { registerScheduleCommand } from './commands/schedule';
import { registerStatusCommand } from './commands/status';
import { registerTasksCommand } from './commands/tasks';
import { registerTokenCommand } from './commands/token';
import { registerUploadCommand } from './commands/upload';
import { registerVerificationsCommand } from './commands/verifications';

/** The version of package.json, found from this file in src/cli or dist/cli alike. */
function packageVersion(): string {
  const file = path.resolve(__dirname, '../../package.json');
  const parsed = z.object({ version: z.string() }).safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data.version : 'unknown';
}

/** Each subcommand lives in its own module and registers itself here. */
export type RegisterCommand = (program: Command, io: CliIo) => void;

export const COMMANDS: readonly RegisterCommand[] = [
  registerParseCommand,
  registerRepoCommand,
  registerTokenCommand,
  registerModeCommand,
  registerUploadCommand,
  registerStatusCommand,
  registerReportCommand,
  registerCompareCommand,
  registerTasksCommand,
  registerCancelCommand,
  registerGcCommand,
  registerQueueCommand,
  registerVerificationsCommand,
  registerScheduleCommand,
  registerFeedbackCommands,
];

export function buildProgram(io: CliIo = processIo()): Command {
  const program = new Command('tributary')
    .description('Tributary: parse, merge and persist coverage reports')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    // Throw instead of exiting so usage errors map to exit code 2 in one place.
    .exitOverride();
  for (const register of COMMANDS) register(program, io);
  return program;
}

/** Runs the CLI and returns its exit code: 0 ok, 1 failure, 2 usage error, 3 server unreachable or auth failure. */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  let code = 0;
  const program = buildProgram({ ...io, setExitCode: (c) => (code = c) });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successful exits; everything else commander rejects is usage.
      return err.exitCode === 0 ? 0 : 2;
    }
    io.stderr(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
  return code;
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
