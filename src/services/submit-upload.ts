import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { BlobStore } from '../storage/blob-store';
import { keys } from '../storage/blob-store';
import { CommitShaSchema, RepoSlugSchema } from '../activities/contracts';
import { commitWorkflowId, uploadSignal, type CommitWorkflowInput } from '../workflows/commit-contracts';
import { CommitSha, RepoSlug } from '../temporal/search-attributes';

export interface SubmittedUpload {
  uploadId: string;
  workflowId: string;
}

/**
 * Stores a raw upload and hands it to its commit's workflow (signal-with-start: the first upload
 * of a commit starts the workflow, later ones join it).
 */
export async function submitUpload(
  deps: { client: Client; blobs: BlobStore; config: Config },
  input: { repo: string; sha: string; body: Uint8Array; uploadId?: string },
): Promise<SubmittedUpload> {
  const repo = RepoSlugSchema.parse(input.repo);
  const sha = CommitShaSchema.parse(input.sha);
  const uploadId = input.uploadId ?? randomUUID();
  await deps.blobs.put(keys.raw(uploadId), input.body);
  const workflowId = commitWorkflowId(repo, sha);
  const args: CommitWorkflowInput = {
    repo,
    sha,
    settings: {
      debounceMs: deps.config.pipeline.debounceMs,
      maxDebounceMs: deps.config.pipeline.maxDebounceMs,
      idleTimeoutMs: deps.config.pipeline.idleTimeoutMs,
      maxParallel: deps.config.pipeline.maxParallel,
    },
  };
  await deps.client.workflow.signalWithStart('commitWorkflow', {
    workflowId,
    taskQueue: deps.config.temporal.taskQueue,
    args: [args],
    signal: uploadSignal,
    signalArgs: [{ uploadId }],
    typedSearchAttributes: [
      { key: RepoSlug, value: repo },
      { key: CommitSha, value: sha },
    ],
    staticSummary: `Coverage of ${repo} @ ${sha.slice(0, 12)}`,
  });
  return { uploadId, workflowId };
}
