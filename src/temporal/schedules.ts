import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleHandle,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleOverlapPolicy,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Duration, Workflow } from '@temporalio/common';
import type { Config } from '../config';
import { gcWorkflow, reconcileWorkflow } from '../workflows/maintenance';

export interface ScheduleDefinition<W extends Workflow = Workflow> {
  id: string;
  spec: ScheduleSpec;
  action: ScheduleOptionsStartWorkflowAction<W>;
  policies?: { overlap?: ScheduleOverlapPolicy; catchupWindow?: Duration; pauseOnFailure?: boolean };
  paused?: boolean;
}

/** How often applySchedule goes round create and update when other workers race it. */
const APPLY_ATTEMPTS = 5;

/**
 * Makes the schedule `id` be `definition`, whether or not it exists: every worker calls this at
 * start, so a new definition (a changed interval, action or policy) replaces the old one, and
 * the same definition applied again is one schedule still. It updates first (the usual case, the
 * schedule exists), creates when there is none, and when another worker created it in between
 * (ScheduleAlreadyRunning), updates that one; a schedule deleted between the two is created again.
 */
export async function applySchedule<W extends Workflow>(client: Client, definition: ScheduleDefinition<W>): Promise<ScheduleHandle> {
  return (await applyScheduleWithOutcome(client, definition)).handle;
}

/** applySchedule, telling whether the schedule was created or an existing one updated. */
export async function applyScheduleWithOutcome<W extends Workflow>(
  client: Client,
  definition: ScheduleDefinition<W>,
): Promise<{ handle: ScheduleHandle; outcome: 'created' | 'updated' }> {
  const { id, spec, action, policies, paused } = definition;
  const handle = client.schedule.getHandle(id);
  for (let attempt = 1; ; attempt++) {
    try {
      await handle.update<W>((previous) => ({
        spec,
        action,
        policies: { ...previous.policies, ...policies },
        state: { note: previous.state.note, paused: paused ?? false, remainingActions: undefined },
      }));
      return { handle, outcome: 'updated' };
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError) || attempt >= APPLY_ATTEMPTS) throw err;
    }
    try {
      return { handle: await client.schedule.create({ scheduleId: id, spec, action, policies, state: { paused: paused ?? false } }), outcome: 'created' };
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning) || attempt >= APPLY_ATTEMPTS) throw err;
    }
  }
}

export const RECONCILE_SCHEDULE_ID = 'tributary-reconcile';
export const GC_SCHEDULE_ID = 'tributary-gc';

/** The maintenance schedules of this configuration (its task queue, intervals and lifetimes). */
export function maintenanceSchedules(config: Config): [ScheduleDefinition<typeof reconcileWorkflow>, ScheduleDefinition<typeof gcWorkflow>] {
  const m = config.maintenance;
  const taskQueue = config.temporal.taskQueue;
  return [
    {
      id: RECONCILE_SCHEDULE_ID,
      spec: { intervals: [{ every: m.reconcileEveryMs }] },
      action: { type: 'startWorkflow', workflowType: reconcileWorkflow, workflowId: RECONCILE_SCHEDULE_ID, taskQueue, args: [{ olderThanMs: m.reconcileAfterMs }] },
      // A run missed while the server was down is one run late, not a burst of them.
      policies: { overlap: 'SKIP', catchupWindow: Math.max(m.reconcileEveryMs, 10_000) },
    },
    {
      id: GC_SCHEDULE_ID,
      spec: { intervals: [{ every: m.gcEveryMs }] },
      action: {
        type: 'startWorkflow',
        workflowType: gcWorkflow,
        workflowId: GC_SCHEDULE_ID,
        taskQueue,
        args: [{ policy: m.retention, dryRun: false, verbose: false }],
      },
      policies: { overlap: 'SKIP', catchupWindow: Math.max(m.gcEveryMs, 10_000) },
    },
  ];
}

/**
 * What a worker does at start: creates or updates the maintenance schedules, then triggers one
 * reconcile at once (skipped while one runs), so uploads stuck while no worker ran move now.
 */
export async function startMaintenance(client: Client, config: Config): Promise<void> {
  const [reconcile, gc] = maintenanceSchedules(config);
  const handle = await applySchedule(client, reconcile);
  await applySchedule(client, gc);
  await handle.trigger('SKIP');
}
