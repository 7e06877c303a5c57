import { ScheduleOverlapPolicy, type Client, type ScheduleOptions, type ScheduleSpec } from '@temporalio/client';
import { applyScheduleWithOutcome } from './schedules';
import type { Config } from '../config';
import { reverifyWorkflow } from '../workflows';
import { REVERIFY_SCHEDULE_ID, type ReverifyInput } from '../workflows/reverify-contracts';

/**
 * Missed runs (the server or every worker down at their time) are taken late only within this
 * window; older ones are dropped, so a long outage does not end in a burst of re-verifications.
 */
export const REVERIFY_CATCHUP_WINDOW = '10m';

/** The longest a run may take; its children (the commits in flight) end with it. */
export const REVERIFY_RUN_TIMEOUT = '12h';

export type ApplyOutcome = 'created' | 'updated';

/** What the schedule should be, from the configuration (TRIBUTARY_REVERIFY_*). */
export function reverifyScheduleOptions(config: Config): ScheduleOptions {
  const { timing, sampleSize, repositories, paused } = config.reverify;
  const spec: ScheduleSpec = timing.kind === 'every' ? { intervals: [{ every: timing.ms }] } : { cronExpressions: [timing.expression], timezone: 'UTC' };
  const input: ReverifyInput = { sampleSize, repositories, maxParallel: config.pipeline.maxParallel };
  return {
    scheduleId: REVERIFY_SCHEDULE_ID,
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: reverifyWorkflow,
      // The server appends each run's scheduled time, which also seeds its sample.
      workflowId: REVERIFY_SCHEDULE_ID,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      staticSummary: `re-verify ${sampleSize} completed commit${sampleSize === 1 ? '' : 's'}`,
      // With overlap SKIP a run that never ends would skip every later one: it is bounded.
      workflowRunTimeout: REVERIFY_RUN_TIMEOUT,
    },
    // A run still going when the next is due: the next is skipped, never queued or overlapped.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: REVERIFY_CATCHUP_WINDOW },
    state: { paused, note: paused ? 'paused by TRIBUTARY_REVERIFY_PAUSED' : 'applied from the configuration' },
  };
}

/**
 * Creates the schedule, or brings an existing one to the configuration (spec, action, policies,
 * paused), through the one create-or-update of every schedule (`applySchedule`). The schedule
 * lives in the Temporal server, so it survives restarts of every Tributary process.
 */
export async function applyReverifySchedule(client: Client, config: Config): Promise<ApplyOutcome> {
  const options = reverifyScheduleOptions(config);
  const { outcome } = await applyScheduleWithOutcome(client, {
    id: options.scheduleId,
    spec: options.spec,
    action: options.action,
    policies: options.policies,
    paused: options.state?.paused,
  });
  return outcome;
}
