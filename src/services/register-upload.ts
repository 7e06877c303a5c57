import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { BlobStore } from '../storage/blob-store';
import { keys } from '../storage/blob-store';
import type { Store } from '../storage/store';
import { CommitShaSchema, RepoSlugSchema } from '../activities/contracts';
import { commitWorkflowId, uploadSignal, type CommitWorkflowInput } from '../workflows/commit-contracts';
import { CommitSha, RepoSlug } from '../temporal/search-attributes';

export interface UploadMetadata {
  flags?: string[];
  name?: string;
  build?: string;
  job?: string;
  branch?: string;
  ciUrl?: string;
  formatHint?: string;
  /** Path fixes (`before::after`) for this upload, after the repository's own. */
  pathFixes?: string[];
  /** The repository's files, to resolve report paths against (longest suffix match). */
  repoFiles?: string[];
}

export interface RegisterUploadRequest extends UploadMetadata {
  repo: string;
  sha: string;
  body: Uint8Array;
  /** A client's key for retries: the same key answers with the same upload. */
  idempotencyKey?: string;
}

export interface RegisteredUpload {
  uploadId: string;
  session: number;
  workflowId: string;
  /** false when an earlier request with the same idempotency key was answered again. */
  created: boolean;
}

export class UnknownRepositoryError extends Error {
  constructor(readonly repo: string) {
    super(`repository ${repo} does not exist`);
    this.name = 'UnknownRepositoryError';
  }
}

export interface RegistrationDeps {
  client: Client;
  blobs: BlobStore;
  store: Store;
  config: Config;
}

/**
 * Accepts an upload: stores the raw body, registers it with the next dense session number of its
 * commit (one database transaction), then signals-with-start the commit's workflow. Only then is
 * the upload acknowledged, so a caller that saw success never loses it; a caller that retries
 * with the same idempotency key gets the same upload (its blob key is derived from the key, so
 * the retried write replaces the same blob).
 */
export async function registerUpload(deps: RegistrationDeps, req: RegisterUploadRequest): Promise<RegisteredUpload> {
  const repo = RepoSlugSchema.parse(req.repo);
  const sha = CommitShaSchema.parse(req.sha.toLowerCase());
  if (!(await deps.store.getRepository(repo))) throw new UnknownRepositoryError(repo);

  const uploadId = req.idempotencyKey
    ? `k${createHash('sha256').update(`${repo}\u0000${sha}\u0000${req.idempotencyKey}`).digest('hex').slice(0, 32)}`
    : randomUUID();
  const rawKey = keys.raw(uploadId);
  await deps.blobs.put(rawKey, req.body);
  let repoFilesKey: string | undefined;
  if (req.repoFiles && req.repoFiles.length > 0) {
    repoFilesKey = keys.repoFiles(uploadId);
    await deps.blobs.put(repoFilesKey, Buffer.from(req.repoFiles.join('\n')));
  }
  const registered = await deps.store.registerUpload({
    repo,
    sha,
    uploadId,
    rawKey,
    rawBytes: req.body.byteLength,
    idempotencyKey: req.idempotencyKey,
    flags: req.flags,
    name: req.name,
    build: req.build,
    job: req.job,
    branch: req.branch,
    ciUrl: req.ciUrl,
    formatHint: req.formatHint,
    pathFixes: req.pathFixes,
    repoFilesKey,
  });
  const workflowId = await nudgeCommitWorkflow(deps, repo, sha, registered.uploadId);
  return { uploadId: registered.uploadId, session: registered.session, workflowId, created: registered.created };
}

/** Starts the commit's workflow if it is not running, and tells it an upload is waiting. */
export async function nudgeCommitWorkflow(deps: Pick<RegistrationDeps, 'client' | 'config'>, repo: string, sha: string, uploadId: string): Promise<string> {
  const { pipeline, temporal } = deps.config;
  const workflowId = commitWorkflowId(repo, sha);
  const args: CommitWorkflowInput = {
    repo,
    sha,
    settings: {
      debounceMs: pipeline.debounceMs,
      maxDebounceMs: pipeline.maxDebounceMs,
      idleTimeoutMs: pipeline.idleTimeoutMs,
      maxParallel: pipeline.maxParallel,
      maxBatch: pipeline.maxBatch,
      shadowTimeoutMs: pipeline.shadowTimeoutMs,
    },
  };
  await deps.client.workflow.signalWithStart('commitWorkflow', {
    workflowId,
    taskQueue: temporal.taskQueue,
    args: [args],
    signal: uploadSignal,
    signalArgs: [{ uploadId }],
    typedSearchAttributes: [
      { key: RepoSlug, value: repo },
      { key: CommitSha, value: sha },
    ],
    staticSummary: `Coverage of ${repo} @ ${sha.slice(0, 12)}`,
  });
  return workflowId;
}
