import { ApplicationFailure } from '@temporalio/activity';
import { NotFoundError, SupersededRunError } from '../storage/store';
import { ModeDecisionSchema, OPEN_UPLOAD_STATES, type ModeDecision } from '../vocabulary';
import type { ActivityDeps } from './deps';
import {
  ClaimUploadsInput,
  ClaimedBatch,
  CommitRef,
  FailUploadsInput,
  ResolveModeInput,
  RunStart,
  StartRunInput,
} from './contracts';
import { createAnnounceReport, createFeedbackActivities, type FeedbackActivities } from './feedback';
import { createCarryForward } from './carry-forward';
import { createFinishCommit } from './finish-commit';
import { createGcPage } from './gc';
import { createProcessUpload, createProcessUploads } from './process-upload';
import { createReconcile } from './reconcile';
import { createReverifyActivities } from './reverify';
import { RUN_SUPERSEDED, validateInput } from './validate';
import { createVerifyExperiment } from './verify-experiment';

export type { ActivityDeps, FeedbackDeps } from './deps';
export type { FeedbackActivities } from './feedback';

/** All of Tributary's activities, built from their dependencies: the commit workflows' and re-verification's. */
export function createActivities(deps: ActivityDeps): Activities & ReverifyActivities & FeedbackActivities {
  return { ...createCommitActivities(deps), ...createReverifyActivities(deps), ...createFeedbackActivities(deps) };
}

function createCommitActivities(deps: ActivityDeps) {
  return {
    /** The feature flag: the repository's mode and why, recorded in the workflow's history. */
    async resolveMode(input: ResolveModeInput): Promise<ModeDecision> {
      const { repo } = validateInput(ResolveModeInput, input, 'resolveMode');
      return ModeDecisionSchema.parse(await deps.decideMode(repo));
    },

    /**
     * A run's first step: takes the commit over from any earlier run, releases what a run that no
     * longer exists left claimed, and answers the persisted report and counts to start from.
     */
    async startRun(input: StartRunInput): Promise<RunStart> {
      const v = validateInput(StartRunInput, input, 'startRun');
      const start = await refusingDeadRuns(() => deps.store.startRun(v));
      return RunStart.parse(start);
    },

    /** Takes the next uploads of the commit, lowest sessions first; retried claims return the same batch. */
    async claimUploads(input: ClaimUploadsInput): Promise<ClaimedBatch> {
      const v = validateInput(ClaimUploadsInput, input, 'claimUploads');
      const claimed = await refusingDeadRuns(() => deps.store.claimUploads(v));
      return { batch: claimed.batch, uploads: claimed.uploads.map((u) => ({ uploadId: u.uploadId, session: u.session })) };
    },

    async failUploads(input: FailUploadsInput): Promise<void> {
      const { uploadIds, error } = validateInput(FailUploadsInput, input, 'failUploads');
      for (const id of uploadIds) await deps.store.markError(id, error.code, error.message);
    },

    /** On cancellation: every upload of the commit not yet merged or failed ends `cancelled`. */
    async cancelPendingUploads(input: CommitRef): Promise<number> {
      const { repo, sha } = validateInput(CommitRef, input, 'cancelPendingUploads');
      // The run stops claiming: an upload registered from now on is nudged (and starts a new run).
      await deps.store.withdrawClaimPromise(repo, sha);
      const open = (await deps.store.listUploads(repo, sha)).filter((u) => (OPEN_UPLOAD_STATES as readonly string[]).includes(u.state));
      return open.length === 0 ? 0 : deps.store.markCancelled(open.map((u) => u.uploadId));
    },

    processUpload: createProcessUpload(deps),
    processUploads: createProcessUploads(deps),
    finishCommit: createFinishCommit(deps),
    carryForward: createCarryForward(deps),
    verifyExperiment: createVerifyExperiment(deps),
    /** After a batch: the commit's notifier (readiness, feedback) looks again. */
    announceReport: createAnnounceReport(deps),
  };
}

/** The commit workflows' activities (and the paths they share with re-verification). */
export type Activities = ReturnType<typeof createCommitActivities>;
/** Re-verification's own: sampling, preparing a commit, comparing and recording. */
export type ReverifyActivities = ReturnType<typeof createReverifyActivities>;

/**
 * The activities of the maintenance schedules (src/workflows/maintenance.ts), apart from the
 * commit workflow's so a stand-in for those needs none of these. Workers register both.
 */
export function createMaintenanceActivities(deps: ActivityDeps) {
  return {
    /** The reconcile schedule's step: stuck uploads are released and their workflows nudged. */
    reconcile: createReconcile(deps),
    /** The gc schedule's step: one listed page of a blob prefix, planned and applied. */
    gcPage: createGcPage(deps),
  };
}

export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;

/** A superseded run or an unknown repository will not get better on retry. */
async function refusingDeadRuns<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SupersededRunError) throw ApplicationFailure.nonRetryable(err.message, RUN_SUPERSEDED);
    if (err instanceof NotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'NotFound');
    throw err;
  }
}
