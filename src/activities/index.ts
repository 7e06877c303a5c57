import type { ActivityDeps } from './deps';
import {
  ClaimUploadsInput,
  CommitRef,
  FailUploadsInput,
  ModeDecision,
  ResolveModeInput,
  type BatchUpload,
} from './contracts';
import { createFinishCommit } from './finish-commit';
import { createProcessUpload } from './process-upload';
import { validateInput } from './validate';
import { createVerifyExperiment } from './verify-experiment';

export type { ActivityDeps } from './deps';

/** All of Tributary's activities, built from their dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    /** The feature flag: the repository's mode and why, recorded in the workflow's history. */
    async resolveMode(input: ResolveModeInput): Promise<ModeDecision> {
      const { repo } = validateInput(ResolveModeInput, input, 'resolveMode');
      return ModeDecision.parse(await deps.decideMode(repo));
    },

    /** Takes the next uploads of the commit, lowest sessions first; retried claims return the same set. */
    async claimUploads(input: ClaimUploadsInput): Promise<BatchUpload[]> {
      const v = validateInput(ClaimUploadsInput, input, 'claimUploads');
      const claimed = await deps.store.claimUploads(v);
      return claimed.map((u) => ({ uploadId: u.uploadId, session: u.session }));
    },

    async failUploads(input: FailUploadsInput): Promise<void> {
      const { uploadIds, error } = validateInput(FailUploadsInput, input, 'failUploads');
      for (const id of uploadIds) await deps.store.markError(id, error.code, error.message);
    },

    /** On cancellation: every upload of the commit not yet merged or failed ends `cancelled`. */
    async cancelPendingUploads(input: CommitRef): Promise<number> {
      const { repo, sha } = validateInput(CommitRef, input, 'cancelPendingUploads');
      const open = (await deps.store.listUploads(repo, sha)).filter((u) => ['uploaded', 'processing', 'processed'].includes(u.state));
      return open.length === 0 ? 0 : deps.store.markCancelled(open.map((u) => u.uploadId));
    },

    processUpload: createProcessUpload(deps),
    finishCommit: createFinishCommit(deps),
    verifyExperiment: createVerifyExperiment(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
