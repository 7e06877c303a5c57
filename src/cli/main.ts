import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { processIo, type CliIo } from './io';

/**
 * The version of package.json, found from this file in src/cli or dist/cli alike. The file ships
 * beside the code (it is not user input), so a type check stands in for a zod schema: zod costs
 * about 50 ms of start-up, which `tributary parse` must not pay.
 */
function packageVersion(): string {
  const file = path.resolve(__dirname, '../../package.json');
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const version = typeof parsed === 'object' && parsed !== null ? (parsed as { version?: unknown }).version : undefined;
  return typeof version === 'string' ? version : 'unknown';
}

/** Each subcommand lives in its own module and registers itself here. */
export type RegisterCommand = (program: Command, io: CliIo) => void;

/**
 * The subcommands by their top-level names, each module required only when the program is built
 * with it: a run of one command loads only that command's dependencies (the Temporal client
 * behind `gc` alone costs about 190 ms of CPU to load, zod about 50 ms). Help, version and
 * unknown commands get every command. `require` rather than `import()`: synchronous, and no ESM
 * loader to start.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading, see above */
const COMMAND_MODULES: ReadonlyArray<{ names: readonly string[]; load: () => RegisterCommand }> = [
  { names: ['parse'], load: () => (require('./parse-command') as typeof import('./parse-command')).registerParseCommand },
  { names: ['repo'], load: () => (require('./commands/repo') as typeof import('./commands/repo')).registerRepoCommand },
  { names: ['token'], load: () => (require('./commands/token') as typeof import('./commands/token')).registerTokenCommand },
  { names: ['mode'], load: () => (require('./commands/mode') as typeof import('./commands/mode')).registerModeCommand },
  { names: ['upload'], load: () => (require('./commands/upload') as typeof import('./commands/upload')).registerUploadCommand },
  { names: ['status'], load: () => (require('./commands/status') as typeof import('./commands/status')).registerStatusCommand },
  { names: ['report'], load: () => (require('./commands/report') as typeof import('./commands/report')).registerReportCommand },
  { names: ['compare'], load: () => (require('./commands/compare') as typeof import('./commands/compare')).registerCompareCommand },
  { names: ['tasks'], load: () => (require('./commands/tasks') as typeof import('./commands/tasks')).registerTasksCommand },
  { names: ['cancel'], load: () => (require('./commands/cancel') as typeof import('./commands/cancel')).registerCancelCommand },
  { names: ['gc'], load: () => (require('./commands/gc') as typeof import('./commands/gc')).registerGcCommand },
  { names: ['queue'], load: () => (require('./commands/queue') as typeof import('./commands/queue')).registerQueueCommand },
  {
    names: ['verifications'],
    load: () => (require('./commands/verifications') as typeof import('./commands/verifications')).registerVerificationsCommand,
  },
  { names: ['schedule'], load: () => (require('./commands/schedule') as typeof import('./commands/schedule')).registerScheduleCommand },
  {
    names: ['done', 'deliveries', 'settings'],
    load: () => (require('./commands/feedback') as typeof import('./commands/feedback')).registerFeedbackCommands,
  },
];
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The program with every command, or, given the command line, with only the command it names
 * (when it names one): that command parses, helps and fails exactly as in the whole program.
 */
export function buildProgram(io: CliIo = processIo(), argv?: readonly string[]): Command {
  const program = new Command('tributary')
    .description('Tributary: parse, merge and persist coverage reports')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    // Throw instead of exiting so usage errors map to exit code 2 in one place.
    .exitOverride();
  const named = argv === undefined ? undefined : COMMAND_MODULES.find((m) => m.names.includes(argv[0] ?? ''));
  for (const m of named ? [named] : COMMAND_MODULES) m.load()(program, io);
  return program;
}

/** Runs the CLI and returns its exit code: 0 ok, 1 failure, 2 usage error, 3 server unreachable or auth failure. */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  let code = 0;
  const program = buildProgram({ ...io, setExitCode: (c) => (code = c) }, argv);
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
