import { proxyActivities, proxyLocalActivities, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** Retries of every activity: invalid input is final. */
export const ACTIVITY_RETRY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 20,
  nonRetryableErrorTypes: ['InvalidActivityInput'],
};

/** Quick database and flag calls. */
export const quick = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: ACTIVITY_RETRY });

/** Parsing and merging: bounded by the report size, heartbeating as they go. */
export const heavy = proxyActivities<Activities>({ startToCloseTimeout: '15m', heartbeatTimeout: '30s', retry: ACTIVITY_RETRY });

/**
 * The quick steps as local activities (runs recorded with the `LOCAL_STEPS` patch): they run in
 * the worker that holds the workflow task, with no task-queue round trip, on the worker's own
 * local-activity slots, so they never wait behind parsing for an activity slot.
 */
export const localQuick = proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: ACTIVITY_RETRY });

/** The finisher of a small batch as a local activity (merging a few intermediates into the base). */
export const localFinish = proxyLocalActivities<Activities>({ startToCloseTimeout: '15m', retry: ACTIVITY_RETRY });

/**
 * Patch id gating local activities for the quick steps and small finishers: histories recorded
 * before it replay with regular activities, runs started after it use local ones.
 */
export const LOCAL_STEPS = 'local-quick-steps';

/** Largest batch whose finisher runs as a local activity. */
export const LOCAL_FINISH_MAX_UPLOADS = 16;

/** Patch id of the commit workflow's nudge to the commit's notifier after each batch. */
export const NOTIFY_AFTER_BATCH = 'notify-after-batch';

/**
 * Patch id gating the carryforward step after a commit's first batch: histories recorded before
 * it replay without the step.
 */
export const CARRYFORWARD = 'carryforward';

/**
 * Patch id of claiming again after every batch, with the claim's promise of it (registration
 * skips the nudge while the promise holds): histories recorded before it replay waiting for a
 * nudge after a batch that was not full.
 */
export const CLAIM_AFTER_BATCH = 'claim-after-batch';

/**
 * How long a claim that takes uploads promises the next one. A batch that runs longer lets
 * registrations nudge again (harmless); a run that dies holding it leaves new uploads to the
 * reconciler for at most this long.
 */
export const NEXT_CLAIM_PROMISE_MS = 30_000;
