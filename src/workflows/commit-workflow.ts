import { CancellationScope, condition, continueAsNew, isCancellation, log, patched, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { BatchUpload, ProcessSummary, RunStart, VerifyExperimentResult } from '../activities/contracts';
import type { ExperimentOutcome, ModeDecision, WorkflowOutcome } from '../vocabulary';
import { ExperimentOutcome as ExperimentOutcomeAttr, Outcome, UploadCount, UploadMode } from '../temporal/search-attributes';
import { CARRYFORWARD, CLAIM_AFTER_BATCH, heavy, LOCAL_STEPS, localFinish, localQuick, NEXT_CLAIM_PROMISE_MS, NOTIFY_AFTER_BATCH, quick } from './activity-proxies';
import { runExperiment, runParallel, runSerial, versionAfter, type BatchOutcome, type PathContext, type VersionBase } from './batch-paths';
import {
  type CommitCarry,
  type CommitProgress,
  type CommitResult,
  type CommitWorkflowInput,
  progressQuery,
  uploadSignal,
} from './commit-contracts';

const DEFAULT_MAX_BATCH = 500;
const DEFAULT_SHADOW_TIMEOUT_MS = 10 * 60_000;

/**
 * The single writer of one commit's report. Upload signals are nudges: the uploads themselves wait
 * in the database, which the workflow drains batch by batch (`claimUploads`), in the mode the
 * feature flag gives for each batch. Every run (the first, one started after the last one closed,
 * was terminated or timed out, or a continue-as-new) starts from what the database holds
 * (`startRun`): the saved report version, and the uploads a dead run left claimed, released to it.
 * It closes after an idle period and continues-as-new, carrying only counters, when Temporal
 * suggests it.
 */
export async function commitWorkflow(input: CommitWorkflowInput): Promise<CommitResult> {
  const { repo, sha, settings } = input;
  const maxBatch = settings.maxBatch ?? DEFAULT_MAX_BATCH;
  const carry: CommitCarry = input.carry ?? { received: 0, merged: 0, errors: 0, batches: 0, version: 0, experiment: { batches: 0, matches: 0 } };
  const state: CommitProgress = { phase: 'waiting', ...carry, experiment: { ...carry.experiment } };
  let reportKey = carry.reportKey;
  const seen = new Set<string>();
  // A processor re-run (missing intermediates) reports the same upload again: count it once.
  const warnedUploads = new Set<string>();
  let nudges = 0;
  let handled = 0;
  let runClaims = 0;
  // Decided once, before the first command: a run keeps the kind of activity it started with.
  const localSteps = patched(LOCAL_STEPS);
  const steps = localSteps ? localQuick : quick;
  // Runs recorded before the notifier existed replay without its nudges.
  const announces = patched(NOTIFY_AFTER_BATCH);
  // Runs recorded before carryforward never decide it; the commit's database row says whether
  // a newer run already did.
  const carries = patched(CARRYFORWARD);
  // Runs recorded before it wait for a nudge after a batch that was not full.
  const claimsAfterBatch = patched(CLAIM_AFTER_BATCH);
  let carryDecided = false;

  setHandler(uploadSignal, ({ uploadId, more }) => {
    const fresh = [uploadId, ...(more ?? [])].filter((id) => !seen.has(id)); // others: redelivered
    if (fresh.length === 0) return;
    for (const id of fresh) seen.add(id);
    nudges++;
    state.received += fresh.length;
  });
  setHandler(progressQuery, () => ({ ...state, experiment: { ...state.experiment } }));
  const summary = (): CommitCarry => ({
    received: state.received,
    merged: state.merged,
    errors: state.errors,
    batches: state.batches,
    version: state.version,
    reportKey,
    totals: state.totals,
    experiment: state.experiment,
    warned: state.warned,
  });

  try {
    await drain();
  } catch (err) {
    if (isCancellation(err)) {
      // Co-operative cancellation: what was not merged yet ends `cancelled`, then the run ends.
      await CancellationScope.nonCancellable(async () => {
        await steps.cancelPendingUploads({ repo, sha });
        upsertSearchAttributes([{ key: Outcome, value: 'cancelled' }]);
      });
      state.phase = 'closed';
      describe(state, repo, sha);
    }
    throw err;
  }
  state.phase = 'closed';
  describe(state, repo, sha);
  return summary();

  async function drain(): Promise<void> {
    const run = await startFromDatabase();
    // A continued run may have been handed uploads its predecessor never claimed; a run started
    // without an upload (after a terminated one) finds what is waiting, released orphans included.
    let mayHaveMore = input.carry !== undefined || (nudges === 0 && run.waiting > 0);
    for (;;) {
      if (!mayHaveMore) {
        state.phase = 'waiting';
        describe(state, repo, sha);
        const gotWork = await condition(() => nudges > handled, settings.idleTimeoutMs);
        if (!gotWork) break;
        state.phase = 'debouncing';
        describe(state, repo, sha);
        await debounce(() => nudges, settings.debounceMs, settings.maxDebounceMs);
      }
      handled = nudges;

      const claim = await steps.claimUploads.executeWithOptions({ summary: `claim the next batch (claim ${runClaims} of this run)` }, [
        {
          repo,
          sha,
          runId: workflowInfo().runId,
          runClaim: runClaims++,
          limit: maxBatch,
          promiseMs: claimsAfterBatch ? NEXT_CLAIM_PROMISE_MS : undefined,
        },
      ]);
      const claimed = claim.uploads;
      // After a batch the run claims again at once: uploads that arrived meanwhile form the next
      // batch, and while the claim's promise holds their registration did not wait for a nudge.
      mayHaveMore = claimed.length === maxBatch || (claimsAfterBatch && claim.batch !== null);
      if (claim.batch === null) continue; // nothing was waiting
      const batchNo = claim.batch;

      const decision = await steps.resolveMode({ repo });
      state.mode = decision.mode;
      state.modeReason = decision.reason;
      state.phase = 'processing';
      state.batch = { done: 0, total: claimed.length };
      upsertSearchAttributes([{ key: UploadMode, value: decision.mode }]);
      log.info('processing batch', { repo, sha, batch: batchNo, size: claimed.length, mode: decision.mode, reason: decision.reason });
      describe(state, repo, sha);

      const ctx: PathContext = {
        repo,
        sha,
        target: { kind: 'commit', batch: batchNo },
        maxParallel: settings.maxParallel,
        processChunk: settings.processChunk,
        localSteps,
        onProcessed: (s: ProcessSummary) => {
          state.batch = { done: (state.batch?.done ?? 0) + 1, total: claimed.length };
          if (s.error) {
            log.info('upload error', { uploadId: s.uploadId, code: s.error.code });
            state.lastError = { uploadId: s.uploadId, ...s.error };
          }
          if ((s.warnings ?? 0) > 0 && !warnedUploads.has(s.uploadId)) {
            warnedUploads.add(s.uploadId);
            state.warned = (state.warned ?? 0) + 1;
          }
          describe(state, repo, sha);
        },
      };
      const outcome = await runBatch(decision.mode, ctx, versionAfter(reportKey ?? null, state.version), claimed);

      state.version += outcome.versionsWritten;
      if (outcome.merged) {
        reportKey = outcome.merged.reportKey;
        state.totals = outcome.merged.totals;
      }
      state.merged += outcome.mergedUploads;
      state.errors += outcome.erroredUploads;
      state.batches++;
      state.batch = undefined;
      if (carries && !carryDecided) await carryForward(batchNo);
      upsertSearchAttributes([
        { key: UploadCount, value: state.merged + state.errors },
        { key: Outcome, value: outcomeOf(state) },
      ]);
      describe(state, repo, sha);
      if (announces) await announce();

      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof commitWorkflow>({ repo, sha, settings, carry: summary() });
      }
    }
  }

  /** The commit's notifier decides whether the commit is settled; a failed nudge never stops merging. */
  async function announce(): Promise<void> {
    try {
      await steps.announceReport.executeWithOptions({ summary: `tell the notifier (report v${state.version})` }, [{ repo, sha, version: state.version }]);
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('could not nudge the commit notifier', { repo, sha, error: String(err) });
    }
  }

  async function runBatch(mode: ModeDecision['mode'], ctx: PathContext, base: VersionBase, uploads: BatchUpload[]): Promise<BatchOutcome> {
    switch (mode) {
      case 'serial':
        return runSerial(ctx, base, uploads);
      case 'parallel':
        return runParallel(ctx, base, uploads);
      case 'experiment': {
        const { real, verdict } = await runExperiment(ctx, base, uploads, settings.shadowTimeoutMs ?? DEFAULT_SHADOW_TIMEOUT_MS);
        recordVerdict(ctx.target.batch, verdict);
        return real;
      }
      default: {
        // A mode this code does not know fails the workflow task (retried), not the workflow:
        // a worker that knows it can pick the batch up.
        const unknown: never = mode;
        throw new Error(`unknown upload mode ${String(unknown)}`);
      }
    }
  }

  /**
   * Once per commit, after its first batch: the carryforward flags its uploads lack are carried
   * from the nearest complete ancestor (a new report version when any session is carried).
   */
  async function carryForward(batch: number): Promise<void> {
    // Like a small batch's finisher: in the worker holding the workflow task when the run takes local steps.
    const res = await (localSteps ? localFinish : heavy).carryForward.executeWithOptions({ summary: 'carry forward the flags the uploads lack' }, [
      { repo, sha, runId: workflowInfo().runId, batch },
    ]);
    carryDecided = true;
    if (res.carried > 0) log.info('carried forward', { repo, sha, sessions: res.carried, flags: res.flags });
    state.version = res.version;
    reportKey = res.reportKey ?? undefined;
    state.totals = res.totals ?? undefined;
  }

  function recordVerdict(batch: number, verdict: VerifyExperimentResult): void {
    tally(state, verdict.outcome);
    if (verdict.outcome !== 'match') log.warn('experiment did not match', { batch, ...verdict });
    upsertSearchAttributes([{ key: ExperimentOutcomeAttr, value: state.experiment.firstProblem ?? 'match' }]);
  }

  /**
   * The database, not the carry, says where the report is: a run started after a close (or after
   * a terminated run) has no carry, and merges on top of the saved version, never from scratch.
   */
  async function startFromDatabase(): Promise<RunStart> {
    const info = workflowInfo();
    const run = await steps.startRun.executeWithOptions({ summary: 'start from the saved report' }, [
      { repo, sha, runId: info.runId, runStartedAt: info.runStartTime.getTime() },
    ]);
    if (input.carry && input.carry.version !== run.version) {
      log.warn('the carried report version differs from the saved one; using the saved one', { carried: input.carry.version, saved: run.version });
    }
    if (run.released > 0) log.warn('released uploads claimed by a run that no longer exists', { repo, sha, released: run.released });
    state.version = run.version;
    reportKey = run.reportKey ?? undefined;
    state.totals = run.totals ?? undefined;
    state.merged = run.merged;
    state.errors = run.errors;
    carryDecided = run.carryforwardDecided === true;
    describe(state, repo, sha);
    return run;
  }
}

function tally(state: CommitProgress, outcome: ExperimentOutcome): void {
  const e = state.experiment;
  e.batches++;
  e.last = outcome;
  if (outcome === 'match') e.matches++;
  else e.firstProblem ??= outcome;
}

function outcomeOf(s: CommitProgress): WorkflowOutcome {
  if (s.errors === 0) return 'success';
  return s.merged === 0 ? 'failed' : 'partial';
}

/** Waits until no upload has arrived for `quietMs`, but never longer than `maxMs` in all. */
async function debounce(arrivals: () => number, quietMs: number, maxMs: number): Promise<void> {
  // No quiet time configured: the batch starts at once, without a timer (and its latency).
  if (quietMs <= 0) return;
  let waited = 0;
  while (waited < maxMs) {
    const before = arrivals();
    const wait = Math.min(quietMs, maxMs - waited);
    const start = Date.now(); // deterministic in workflows: the workflow task's time
    const more = await condition(() => arrivals() !== before, wait);
    waited += Date.now() - start;
    if (!more) return;
  }
}

function describe(p: CommitProgress, repo: string, sha: string): void {
  const lines = [
    `**${repo}** @ \`${sha.slice(0, 12)}\``,
    `phase: ${p.phase}${p.mode ? ` · mode: ${p.mode} (${p.modeReason ?? ''})` : ''}`,
    `uploads: ${p.received} received · ${p.merged} merged · ${p.errors} errors · ${p.batches} batches · report v${p.version}`,
  ];
  if (p.warned) lines.push(`warnings: ${p.warned} upload${p.warned === 1 ? '' : 's'} with skipped or clamped lines (see each upload's status)`);
  if (p.lastError) lines.push(`last error: upload ${p.lastError.uploadId}: ${p.lastError.code}: ${p.lastError.message.slice(0, 300)}`);
  if (p.totals) lines.push(`coverage: ${p.totals.coverage}% of ${p.totals.lines} lines in ${p.totals.files} files`);
  if (p.batch) lines.push(`batch: ${p.batch.done}/${p.batch.total} processed`);
  if (p.experiment.batches > 0) {
    lines.push(`experiment: ${p.experiment.matches}/${p.experiment.batches} batches matched${p.experiment.firstProblem ? ` · first problem: ${p.experiment.firstProblem}` : ''}`);
  }
  setCurrentDetails(lines.join('\n\n'));
}
