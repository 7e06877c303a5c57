import { proxyActivities, type RetryPolicy } from '@temporalio/workflow';
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
