import {
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProcessSummary } from '../activities/contracts';
import { Outcome, UploadCount, UploadMode } from '../temporal/search-attributes';
import { mapWindowed } from './windowed';
import {
  type CommitCarry,
  type CommitProgress,
  type CommitResult,
  type CommitWorkflowInput,
  progressQuery,
  uploadSignal,
} from './commit-contracts';

const { resolveMode } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

const { processUpload, finishCommit } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['InvalidActivityInput'],
  },
});

/** Largest batch taken at once; the rest waits for the next loop (or the next run). */
const MAX_BATCH = 1000;

/**
 * The single writer of one commit's report. Uploads arrive by signal (signal-with-start from the
 * registration service); the workflow waits for a quiet period, processes the batch in the mode
 * the feature flag gives, and loops until no upload has come for the idle period.
 */
export async function commitWorkflow(input: CommitWorkflowInput): Promise<CommitResult> {
  const { repo, sha, settings } = input;
  const carry: CommitCarry = input.carry ?? { pending: [], received: 0, merged: 0, errors: 0, batches: 0 };
  const pending = [...carry.pending];
  // Uploads already taken in this run: a redelivered signal must not process an upload twice.
  const seen = new Set<string>(pending);
  let arrivals = 0;
  const progress: CommitProgress = {
    phase: 'waiting',
    received: carry.received,
    pending: pending.length,
    merged: carry.merged,
    errors: carry.errors,
    batches: carry.batches,
  };
  let reportKey: string | undefined;

  setHandler(uploadSignal, ({ uploadId }) => {
    if (seen.has(uploadId)) return;
    seen.add(uploadId);
    pending.push(uploadId);
    arrivals++;
    progress.received++;
    progress.pending = pending.length;
  });
  setHandler(progressQuery, () => ({ ...progress, pending: pending.length }));

  for (;;) {
    progress.phase = 'waiting';
    describe(progress, repo, sha);
    const gotWork = await condition(() => pending.length > 0, settings.idleTimeoutMs);
    if (!gotWork) break;

    progress.phase = 'debouncing';
    describe(progress, repo, sha);
    await debounce(() => arrivals, settings.debounceMs, settings.maxDebounceMs);

    const batch = pending.splice(0, MAX_BATCH);
    progress.pending = pending.length;
    const decision = await resolveMode({ repo });
    progress.mode = decision.mode;
    progress.modeReason = decision.reason;
    progress.phase = 'processing';
    progress.batch = { done: 0, total: batch.length };
    upsertSearchAttributes([{ key: UploadMode, value: decision.mode }]);
    log.info('processing batch', { repo, sha, size: batch.length, mode: decision.mode, reason: decision.reason });
    describe(progress, repo, sha);

    const onProcessed = (s: ProcessSummary) => {
      if (s.error) progress.errors++;
      progress.batch = { done: (progress.batch?.done ?? 0) + 1, total: batch.length };
      describe(progress, repo, sha);
    };

    if (decision.mode === 'parallel') {
      const summaries = await mapWindowed(batch, settings.maxParallel, async (uploadId) => {
        const s = await processUpload.executeWithOptions({ summary: `process upload ${uploadId}` }, [{ repo, sha, uploadId }]);
        onProcessed(s);
        return s;
      });
      const totals = await finishCommit.executeWithOptions({ summary: `merge ${summaries.length} uploads` }, [
        { repo, sha, uploads: summaries },
      ]);
      progress.merged = totals.merged;
      reportKey = totals.reportKey;
    } else {
      // serial, and experiment until the shadow comparison exists: one upload after the other,
      // each merged into the commit report as it goes.
      for (const uploadId of batch) {
        const s = await processUpload.executeWithOptions({ summary: `process upload ${uploadId}` }, [{ repo, sha, uploadId }]);
        onProcessed(s);
        const totals = await finishCommit.executeWithOptions({ summary: `merge upload ${uploadId}` }, [
          { repo, sha, uploads: [s] },
        ]);
        progress.merged = totals.merged;
        reportKey = totals.reportKey;
      }
    }
    progress.batches++;
    progress.batch = undefined;
    upsertSearchAttributes([
      { key: UploadCount, value: progress.received },
      { key: Outcome, value: progress.errors > 0 ? 'partial' : 'success' },
    ]);

    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof commitWorkflow>({
        repo,
        sha,
        settings,
        carry: {
          pending: [...pending],
          received: progress.received,
          merged: progress.merged,
          errors: progress.errors,
          batches: progress.batches,
        },
      });
    }
  }

  progress.phase = 'closed';
  describe(progress, repo, sha);
  return {
    received: progress.received,
    merged: progress.merged,
    errors: progress.errors,
    batches: progress.batches,
    reportKey,
  };
}

/** Waits until no upload has arrived for `quietMs`, but never longer than `maxMs` in all. */
async function debounce(arrivals: () => number, quietMs: number, maxMs: number): Promise<void> {
  let waited = 0;
  while (waited < maxMs) {
    const before = arrivals();
    const wait = Math.min(quietMs, maxMs - waited);
    const start = Date.now(); // deterministic inside workflows: the workflow task's time
    const more = await condition(() => arrivals() !== before, wait);
    waited += Date.now() - start;
    if (!more) return;
  }
}

function describe(p: CommitProgress, repo: string, sha: string): void {
  const lines = [
    `**${repo}** @ \`${sha.slice(0, 12)}\``,
    `phase: ${p.phase}${p.mode ? ` · mode: ${p.mode} (${p.modeReason ?? ''})` : ''}`,
    `uploads: ${p.received} received · ${p.merged} merged · ${p.errors} errors · ${p.batches} batches`,
  ];
  if (p.batch) lines.push(`batch: ${p.batch.done}/${p.batch.total} processed`);
  setCurrentDetails(lines.join('\n\n'));
}
