import { proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';

const retry: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 20,
  nonRetryableErrorTypes: ['InvalidActivityInput'],
};

/** Quick database and flag calls. */
export const quick = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry });

/** Parsing and merging: bounded by the report size, heartbeating as they go. */
export const heavy = proxyActivities<Activities>({ startToCloseTimeout: '15m', heartbeatTimeout: '30s', retry });
