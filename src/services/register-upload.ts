import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { BlobStore } from '../storage/blob-store';
import { keys } from '../storage/blob-store';
import { digestsConflict, IdempotencyConflictError, type RegisteredUpload as StoredUpload, type Store, type UploadRow } from '../storage/store';
import { CommitShaSchema, RepoSlugSchema, type IdempotencyScope } from '../vocabulary';
import { commitWorkflowId, uploadSignal, type CommitWorkflowInput } from '../workflows/commit-contracts';
import { commitWorkflow } from '../workflows/commit-workflow';
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

/**
 * A body already written to its raw blob as it arrived (streamToRawBlob in src/api/upload-body.ts),
 * under the upload id it will be registered with; not registered yet.
 */
export interface StoredRawBody {
  uploadId: string;
  rawKey: string;
  bytes: number;
  /** sha256 of the bytes as received, hex. */
  digest: string;
  /** The first bytes, to recognise the format (gzip) without reading the blob back. */
  head: Buffer;
}

export interface RegisterUploadRequest extends UploadMetadata {
  repo: string;
  sha: string;
  /**
   * The report: bytes, or a raw blob written already. A stored body that does not become an
   * upload (its key answered an earlier upload, or the request was refused) is deleted here.
   */
  body: Uint8Array | StoredRawBody;
  /** A client's key for retries: the same key with the same body answers with the same upload. */
  idempotencyKey?: string;
  /** Raw uploads and multipart parts keep their keys apart; raw by default. */
  idempotencyScope?: IdempotencyScope;
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
 * the upload acknowledged, so a caller that saw success never loses it. A caller that retries with
 * the same idempotency key and body gets the same upload; with another body, an
 * IdempotencyConflictError and nothing changes.
 */
export async function registerUpload(deps: RegistrationDeps, req: RegisterUploadRequest): Promise<RegisteredUpload> {
  const [registered] = await registerUploads(deps, [req]);
  return registered!;
}

/**
 * Registers the uploads of one request in order (sessions follow it). Every idempotency key is
 * checked first, so a request reusing a key with another body is refused before any of its
 * uploads is stored.
 */
export async function registerUploads(deps: RegistrationDeps, reqs: readonly RegisterUploadRequest[]): Promise<RegisteredUpload[]> {
  const stored = reqs.map((r) => r.body).filter(isStoredBody);
  const kept = new Set<string>();
  try {
    return await registerAll(deps, reqs, kept);
  } finally {
    // Streamed bodies were written before their keys could be checked (the digest is known only
    // at the end): every one that did not become an upload goes again.
    const refused = stored.filter((b) => !kept.has(b.uploadId));
    await Promise.allSettled(refused.map((b) => deps.blobs.delete(b.rawKey)));
  }
}

async function registerAll(deps: RegistrationDeps, reqs: readonly RegisterUploadRequest[], kept: Set<string>): Promise<RegisteredUpload[]> {
  const prepared: Prepared[] = [];
  const known = new Set<string>();
  for (const req of reqs) {
    const p = prepare(req);
    if (!known.has(p.repo)) {
      if (!(await deps.store.getRepository(p.repo))) throw new UnknownRepositoryError(p.repo);
      known.add(p.repo);
    }
    if (p.key !== undefined) {
      p.existing = await deps.store.findUploadByIdempotencyKey(p.repo, p.sha, p.scope, p.key);
      if (p.existing && digestsConflict(p.existing.bodyDigest, p.digest)) {
        throw new IdempotencyConflictError(p.key, p.scope, p.existing.uploadId);
      }
    }
    prepared.push(p);
  }
  const answers: RegisteredUpload[] = [];
  for (const p of prepared) {
    // A retry already registered: nothing is written again, but the workflow is nudged, in case
    // the first attempt's nudge is what failed.
    const registered: StoredUpload = p.existing ? { uploadId: p.existing.uploadId, session: p.existing.session, created: false } : await storeNew(deps, p);
    kept.add(registered.uploadId);
    const workflowId = await nudgeCommitWorkflow(deps, p.repo, p.sha, registered.uploadId);
    answers.push({ ...registered, workflowId });
  }
  return answers;
}

interface Prepared {
  req: RegisterUploadRequest;
  repo: string;
  sha: string;
  key: string | undefined;
  scope: IdempotencyScope;
  digest: string;
  existing?: UploadRow | null;
}

function prepare(req: RegisterUploadRequest): Prepared {
  return {
    req,
    repo: RepoSlugSchema.parse(req.repo),
    sha: CommitShaSchema.parse(req.sha.toLowerCase()),
    // An empty key is no key, as the store reads it.
    key: req.idempotencyKey === '' ? undefined : req.idempotencyKey,
    scope: req.idempotencyScope ?? 'raw',
    digest: isStoredBody(req.body) ? req.body.digest : createHash('sha256').update(req.body).digest('hex'),
  };
}

export function isStoredBody(body: Uint8Array | StoredRawBody): body is StoredRawBody {
  return !(body instanceof Uint8Array);
}

/**
 * Writes the blobs under keys of this attempt alone (a fresh upload id), then registers the row
 * pointing at them. An existing upload's blobs are therefore never overwritten: when a concurrent
 * twin registered first, or registration fails, this attempt's blobs are removed again.
 */
async function storeNew(deps: RegistrationDeps, p: Prepared): Promise<StoredUpload> {
  const { req } = p;
  const body = req.body;
  const uploadId = isStoredBody(body) ? body.uploadId : randomUUID();
  const rawKey = keys.raw(uploadId);
  const written: string[] = [rawKey];
  let repoFilesKey: string | undefined;
  let registered: StoredUpload;
  try {
    if (!isStoredBody(body)) await deps.blobs.put(rawKey, body);
    if (req.repoFiles && req.repoFiles.length > 0) {
      repoFilesKey = keys.repoFiles(uploadId);
      written.push(repoFilesKey);
      await deps.blobs.put(repoFilesKey, Buffer.from(req.repoFiles.join('\n')));
    }
    registered = await deps.store.registerUpload({
      repo: p.repo,
      sha: p.sha,
      uploadId,
      rawKey,
      rawBytes: isStoredBody(body) ? body.bytes : body.byteLength,
      idempotencyKey: p.key,
      idempotencyScope: p.key === undefined ? undefined : p.scope,
      bodyDigest: p.digest,
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
  } catch (err) {
    await discard(deps.blobs, written);
    throw err;
  }
  if (registered.uploadId !== uploadId) await discard(deps.blobs, written);
  return registered;
}

/** Best effort: a blob left behind is unreferenced garbage, never a wrong answer. */
async function discard(blobs: BlobStore, blobKeys: readonly string[]): Promise<void> {
  await Promise.allSettled(blobKeys.map((k) => blobs.delete(k)));
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
  await deps.client.workflow.signalWithStart(commitWorkflow, {
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
