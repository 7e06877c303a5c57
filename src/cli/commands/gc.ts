import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../../config';
import { unavailableDependency } from '../../shared/dependency-errors';
import type { GcSummary } from '../../workflows/maintenance';
import { UsageError, type CliIo } from '../io';
import { json, table } from '../output';
import { EXIT } from '../server-context';
import { check, WaitSchema } from '../validate';
import { withTemporalClient } from '../temporal-client';

export interface GcOptions {
  dryRun?: boolean;
  verbose?: boolean;
  json?: boolean;
  waitTimeout: string;
}

/**
 * `tributary gc [--dry-run] [--verbose]`: one retention sweep now, the one the `tributary-gc`
 * schedule runs, through Temporal on a worker (which has the database and the blob store; the
 * embedded PGlite is open in one process only). It reads the server's variables (TEMPORAL_*,
 * the lifetimes) from this environment.
 */
export function registerGcCommand(program: Command, io: CliIo): void {
  program
    .command('gc')
    .description('delete the blobs past their lifetime (raw uploads, intermediates, experiment scratch, superseded reports, unused source text); prints counts and bytes per prefix')
    .option('--dry-run', 'only print what would be deleted')
    .option('--verbose', 'also print the keys')
    .option('--wait-timeout <duration>', 'how long to wait for the sweep', '10m')
    .option('--json', 'print JSON for scripts')
    .action(async (options: GcOptions) => {
      io.setExitCode(await runGc(options, io));
    });
}

export async function runGc(options: GcOptions, io: CliIo): Promise<number> {
  let config: Config;
  let waitMs: number;
  try {
    config = loadConfig({ ...(io.env ?? {}) });
    waitMs = check(WaitSchema, options.waitTimeout, '--wait-timeout');
  } catch (err) {
    if (!(err instanceof ConfigError) && !(err instanceof UsageError)) throw err;
    io.stderr(`error: ${err.message}\n`);
    return EXIT.usage;
  }
  const { gcWorkflow } = await import('../../workflows/maintenance.js');
  return withTemporalClient(config, io, async (client, address) => {
    const workflowId = `tributary-gc-manual-${randomUUID()}`;
    let handle;
    try {
      handle = await client.workflow.start(gcWorkflow, {
        workflowId,
        taskQueue: config.temporal.taskQueue,
        args: [{ policy: config.maintenance.retention, dryRun: options.dryRun === true, verbose: options.verbose === true }],
      });
    } catch (err) {
      if (unavailableDependency(err) === undefined) throw err;
      io.stderr(`error: cannot reach Temporal at ${address}: ${err instanceof Error ? err.message : String(err)}\n`);
      return EXIT.unreachable;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)));
    const outcome = await Promise.race([handle.result(), timedOut]).finally(() => clearTimeout(timer));
    if (outcome === 'timeout') {
      io.stderr(
        `error: the sweep did not finish within ${options.waitTimeout} (is a worker polling task queue "${config.temporal.taskQueue}"?); it goes on as workflow ${workflowId}\n`,
      );
      return EXIT.failed;
    }
    io.stdout(options.json ? json(outcome) : describeGc(outcome, options.verbose === true));
    return EXIT.ok;
  });
}

/** The sweep as a table per prefix (what went, or would go, and what stays), then the keys. */
export function describeGc(s: GcSummary, verbose: boolean): string {
  const verb = s.dryRun ? 'would delete' : 'deleted';
  const rows: string[][] = [['prefix', 'listed', verb, 'bytes', 'kept', 'kept bytes']];
  const sum = { listed: 0, deleted: 0, deletedBytes: 0, kept: 0, keptBytes: 0 };
  for (const p of s.prefixes) {
    rows.push([`${p.prefix}/`, String(p.listed), String(p.deleted), String(p.deletedBytes), String(p.kept), String(p.keptBytes)]);
    sum.listed += p.listed;
    sum.deleted += p.deleted;
    sum.deletedBytes += p.deletedBytes;
    sum.kept += p.kept;
    sum.keptBytes += p.keptBytes;
  }
  rows.push(['total', String(sum.listed), String(sum.deleted), String(sum.deletedBytes), String(sum.kept), String(sum.keptBytes)]);
  let out = `${s.dryRun ? 'dry run: nothing was deleted' : 'retention sweep'} (lifetimes measured to ${new Date(s.now).toISOString()})\n${table(rows)}`;
  if (verbose) {
    for (const p of s.prefixes) {
      for (const key of p.keys) out += `${verb} ${key}\n`;
      if (p.keysOmitted > 0) out += `… and ${p.keysOmitted} more under ${p.prefix}/\n`;
    }
  }
  return out;
}
