import { ActivityFailure, condition, continueAsNew, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { FeedbackActivities } from '../activities';
import { ACTIVITY_RETRY } from './activity-proxies';
import { doneSignal, notifyStateQuery, reportSignal, type NotifyResult, type NotifyState, type NotifyWorkflowInput, type SettledBy } from './notify-contracts';

const feedback = proxyActivities<FeedbackActivities>({ startToCloseTimeout: '1m', retry: ACTIVITY_RETRY });

/**
 * One try per activity attempt, with backoff: 1 s, 2 s, 4 s … up to 10 minutes apart, about
 * 40 minutes in all before a delivery is given up (a Retry-After from the receiver replaces the
 * interval). Invalid input is final.
 */
const deliveries = proxyActivities<FeedbackActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10m', maximumAttempts: 12, nonRetryableErrorTypes: ['InvalidActivityInput'] },
});

/**
 * A commit's notifier: waits until the commit is settled, then sends its feedback (commit
 * statuses, the pull-request comment, webhooks) once per report version; a report saved after
 * settling (a late upload) notifies again. Settled means no upload is open and one of: the
 * uploader said done, `afterNBuilds` uploads ended merged or error, or nothing happened for the
 * quiet period. Signals are nudges; readiness is read from the database. Idempotent by
 * construction: each delivery has a key in the database, so a repeated notification sends nothing.
 */
export async function notifyWorkflow(input: NotifyWorkflowInput): Promise<NotifyResult> {
  const { repo, sha, settings } = input;
  const state: NotifyState = {
    phase: 'waiting',
    settledBy: input.carry?.settledBy ?? null,
    done: input.carry?.done ?? false,
    notifiedVersion: input.carry?.notifiedVersion ?? 0,
    notifications: 0,
  };
  let news = 0;
  setHandler(reportSignal, () => {
    news++;
  });
  setHandler(doneSignal, () => {
    state.done = true;
    news++;
  });
  setHandler(notifyStateQuery, () => ({ ...state }));

  const settle = (by: SettledBy) => {
    if (state.settledBy !== null) return;
    state.settledBy = by;
    log.info('commit settled', { repo, sha, by });
  };

  for (;;) {
    const seen = news;
    const r = await feedback.commitReadiness({ repo, sha });
    if (r.open === 0) {
      if (r.notifiedBefore) settle('earlier_run');
      else if (state.done) settle('done');
      else if (r.afterNBuilds !== null && r.terminal >= r.afterNBuilds) settle('after_n_builds');
    }
    if (state.settledBy !== null && r.open === 0 && r.version > state.notifiedVersion) {
      state.phase = 'notifying';
      state.notifiedVersion = await notify();
      state.notifications++;
      state.phase = 'waiting';
      continue; // something may have arrived meanwhile
    }
    const waitMs = state.settledBy === null ? settings.settleAfterMs : settings.idleTimeoutMs;
    const more = await condition(() => news !== seen, waitMs);
    if (!more) {
      if (state.settledBy !== null) break;
      // Quiet for the whole period: settled, unless uploads are still being processed (their
      // batch's end nudges us again).
      const now = await feedback.commitReadiness({ repo, sha });
      if (now.open === 0) settle('quiet');
    }
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof notifyWorkflow>({ repo, sha, settings, carry: { settledBy: state.settledBy, done: state.done, notifiedVersion: state.notifiedVersion } });
    }
  }
  state.phase = 'closed';
  return { ...state };

  /** Plans the deliveries of the saved report (once per key) and sends each; answers the version. */
  async function notify(): Promise<number> {
    const plan = await feedback.planFeedback({ repo, sha });
    await Promise.all(
      plan.pending.map(async (deliveryId) => {
        try {
          await deliveries.deliverFeedback({ deliveryId });
        } catch (err) {
          // Retries exhausted: recorded as failed, and the other deliveries go on.
          const message = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
          log.warn('delivery failed', { repo, sha, deliveryId, message });
          await feedback.abandonDelivery({ deliveryId, error: message.slice(0, 2000) });
        }
      }),
    );
    return plan.version;
  }
}
