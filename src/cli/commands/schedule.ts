import { Command } from 'commander';
import { ConfigError, loadConfig } from '../../config';
import type { CliIo } from '../io';
import { json } from '../output';
import { EXIT } from '../server-context';
import { withTemporalClient } from '../temporal-client';

/**
 * `tributary schedule apply`: creates or updates the `tributary-reverify` schedule on the Temporal
 * server from TRIBUTARY_REVERIFY_* (and the TEMPORAL_* connection settings), as `npm start` does at
 * each start. It talks to Temporal, not to the gateway: schedules are the server's.
 */
export function registerScheduleCommand(program: Command, io: CliIo): void {
  const schedule = program.command('schedule').description('the re-verification schedule on the Temporal server');
  schedule
    .command('apply')
    .description('create or update the tributary-reverify schedule from TRIBUTARY_REVERIFY_* (spec, sample size, repositories, paused)')
    .option('--json', 'print JSON for scripts')
    .action(async (options: { json?: boolean }) => {
      io.setExitCode(await apply(io, options.json === true));
    });
}

async function apply(io: CliIo, asJson: boolean): Promise<number> {
  let config;
  try {
    config = loadConfig({ ...(io.env ?? {}) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`error: ${err.message}\n`);
    return EXIT.usage;
  }
  const { applyReverifySchedule, reverifyScheduleOptions } = await import('../../temporal/reverify-schedule.js');
  return withTemporalClient(config, io, async (client) => {
    try {
      const outcome = await applyReverifySchedule(client, config);
      const { scheduleId } = reverifyScheduleOptions(config);
      const r = config.reverify;
      const when = r.timing.kind === 'every' ? `every ${r.timing.ms / 1000}s` : `cron "${r.timing.expression}" (UTC)`;
      if (asJson) {
        io.stdout(json({ scheduleId, outcome, timing: r.timing, sampleSize: r.sampleSize, repositories: r.repositories, paused: r.paused }));
      } else {
        io.stdout(
          `${outcome} schedule ${scheduleId}: ${when}, ${r.sampleSize} commit${r.sampleSize === 1 ? '' : 's'} per run, ` +
            `${r.repositories.length === 0 ? 'every repository' : r.repositories.join(', ')}${r.paused ? ', paused' : ''}\n`,
        );
      }
      return EXIT.ok;
    } catch (err) {
      io.stderr(`error: applying the schedule failed: ${err instanceof Error ? err.message : String(err)}\n`);
      return EXIT.failed;
    }
  });
}
