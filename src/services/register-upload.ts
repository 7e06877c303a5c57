import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { encodeStoredFixes, type StoredFixes } from '../codecov/fixes';
import type { Config } from '../config';
import type { BlobStore } from '../storage/blob-store';
import { keys } from '../storage/blob-store';
import { digestsConflict, IdempotencyConflictError, NotFoundError, type CommitMetadata, type RegisteredUploadWithStart as StoredUpload, type Store, type UploadRow } from '../storage/store';
import { CommitShaSchema, RepoSlugSchema, type IdempotencyScope } from '../vocabulary';
import { commitWorkflowStart, nudgeCommitWorkflow, nudgeCommitWorkflowSoon, workflowStartOf, type NudgeLog, type WorkflowStart } from './commit-nudge';
import { commitWorkflowId } from '../workflows/commit-contracts';

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
  /** Codecov's line fixes sent with the upload (src/codecov/fixes.ts), applied by the processor. */
  reportFixes?: StoredFixes;
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
  /**
   * What CI says about the commit, recorded before the upload (first value wins, later ones fill
   * gaps); when given, the commit workflow is started with its Branch and PullRequest.
   */
  commit?: CommitMetadata;
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
  /** Where a nudge sent after the answer reports its failure. */
  log?: NudgeLog;
}

/**
 * Accepts an upload: stores the raw body, registers it with the next dense session number of its
 * commit (one database transaction), then signals-with-start the commit's workflow. Only then is
 * the upload acknowledged, so a caller that saw success never loses it; unless the commit's run
 * has promised its next claim (a batch in hand), when the upload is acknowledged once registered
 * and nudged soon after, in case that run has died. A caller that retries with
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
 * uploads is registered; the bodies are written to the blob store meanwhile (each under its own
 * fresh key, removed again when the request is refused or answered from an earlier upload).
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
  const prepared = reqs.map(prepare);
  const writes = prepared.map((p) => writeBlobs(deps.blobs, p));
  if (prepared.length === 1) return [await registerSingle(deps, prepared[0]!, writes[0]!, kept)];
  let checked: (UploadRow | null)[];
  try {
    checked = await Promise.all(prepared.map((p) => (p.key === undefined ? null : deps.store.findUploadByIdempotencyKey(p.repo, p.sha, p.scope, p.key))));
    prepared.forEach((p, i) => {
      const existing = checked[i];
      if (existing && digestsConflict(existing.bodyDigest, p.digest)) throw new IdempotencyConflictError(p.key!, p.scope, existing.uploadId);
    });
  } catch (err) {
    await Promise.all(writes.map((w) => w.then((b) => discard(deps.blobs, b.written), () => undefined)));
    throw err;
  }
  // Recorded once per commit of the request, after every key was checked: a refused request
  // changes nothing but metadata it would have recorded anyway.
  const metadata = new Map<string, CommitMetadata>();
  for (const p of prepared) {
    const commitKey = `${p.repo}@${p.sha}`;
    const commit = commitMetadataOf(p.req);
    if (commit === undefined || metadata.has(commitKey)) continue;
    metadata.set(commitKey, await deps.store.recordCommitMetadata(p.repo, p.sha, commit));
  }
  const starts = new Map<string, Promise<WorkflowStart>>();
  const answers: RegisteredUpload[] = [];
  for (const [i, p] of prepared.entries()) {
    const existing = checked[i];
    let registered: StoredUpload;
    if (existing) {
      // A retry already registered: nothing is written again, but the workflow is nudged, in case
      // the first attempt's nudge is what failed.
      void writes[i]!.then((b) => discard(deps.blobs, b.written), () => undefined);
      registered = { uploadId: existing.uploadId, session: existing.session, created: false };
    } else {
      try {
        registered = await storeNew(deps, p, await writes[i]!);
      } catch (err) {
        // The uploads after a failed one are not registered: their blobs go too.
        await Promise.all(writes.slice(i + 1).map((w) => w.then((b) => discard(deps.blobs, b.written), () => undefined)));
        throw err;
      }
    }
    kept.add(registered.uploadId);
    const commitKey = `${p.repo}@${p.sha}`;
    if (!starts.has(commitKey)) starts.set(commitKey, commitWorkflowStart(deps, p.repo, p.sha, metadata.get(commitKey)));
    const workflowId = await nudgeCommitWorkflow(deps, p.repo, p.sha, registered.uploadId, await starts.get(commitKey)!);
    answers.push({ ...registered, workflowId });
  }
  return answers;
}

/**
 * The one-upload request (every raw body): its key needs no check of its own, since the
 * registering statement's unique constraint refuses a repeated key and the upload holding it
 * answers (or conflicts), and the same statement records the commit's metadata and answers the
 * workflow start's facts. One round trip to the database instead of four; only a retry, answered
 * from its earlier upload, records the metadata and reads the facts apart.
 */
async function registerSingle(deps: RegistrationDeps, p: Prepared, write: Promise<WrittenBlobs>, kept: Set<string>): Promise<RegisteredUpload> {
  const commit = commitMetadataOf(p.req);
  const registered = await storeNew(deps, p, await write, commit);
  kept.add(registered.uploadId);
  if (registered.claimPromised === true && registered.start !== undefined) {
    // The commit's run claims again after the batch in hand and finds this upload committed: it
    // is answered at once, and nudged soon (one signal for the uploads of a moment) only in case
    // that run has died since.
    nudgeCommitWorkflowSoon(deps, p.repo, p.sha, registered.uploadId, workflowStartOf(deps.config, registered.start));
    return { uploadId: registered.uploadId, session: registered.session, created: true, workflowId: commitWorkflowId(p.repo, p.sha) };
  }
  const start =
    registered.start !== undefined
      ? workflowStartOf(deps.config, registered.start)
      : await commitWorkflowStart(deps, p.repo, p.sha, commit === undefined ? undefined : await deps.store.recordCommitMetadata(p.repo, p.sha, commit));
  const workflowId = await nudgeCommitWorkflow(deps, p.repo, p.sha, registered.uploadId, start);
  return { uploadId: registered.uploadId, session: registered.session, created: registered.created, workflowId };
}

/** The request's commit metadata, else what its upload fields say of the commit. */
function commitMetadataOf(req: RegisterUploadRequest): CommitMetadata | undefined {
  return req.commit ?? commitOfUpload(req);
}

/** What an upload without commit metadata says of its commit all the same (its CI's fields). */
function commitOfUpload(req: UploadMetadata): CommitMetadata | undefined {
  const m: CommitMetadata = {};
  if (req.branch !== undefined && req.branch !== '') m.branch = req.branch;
  if (req.build !== undefined && req.build !== '') m.build = req.build;
  if (req.job !== undefined && req.job !== '') m.job = req.job;
  if (req.ciUrl !== undefined && req.ciUrl !== '') m.ciUrl = req.ciUrl;
  return Object.keys(m).length === 0 ? undefined : m;
}

interface Prepared {
  req: RegisterUploadRequest;
  repo: string;
  sha: string;
  key: string | undefined;
  scope: IdempotencyScope;
  digest: string;
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

interface WrittenBlobs {
  uploadId: string;
  rawKey: string;
  repoFilesKey?: string;
  reportFixesKey?: string;
  written: string[];
}

/**
 * Writes the blobs under keys of this attempt alone (a fresh upload id), so an existing upload's
 * blobs are never overwritten: when a concurrent twin registered first, or registration fails,
 * they are removed again. A failed write removes what it wrote and rejects.
 */
async function writeBlobs(blobs: BlobStore, p: Prepared): Promise<WrittenBlobs> {
  const body = p.req.body;
  const uploadId = isStoredBody(body) ? body.uploadId : randomUUID();
  const rawKey = keys.raw(uploadId);
  const files = p.req.repoFiles && p.req.repoFiles.length > 0 ? p.req.repoFiles : undefined;
  const repoFilesKey = files ? keys.repoFiles(uploadId) : undefined;
  const fixes = p.req.reportFixes;
  const reportFixesKey = fixes ? keys.reportFixes(uploadId) : undefined;
  const written = [rawKey, ...(repoFilesKey ? [repoFilesKey] : []), ...(reportFixesKey ? [reportFixesKey] : [])];
  try {
    await Promise.all([
      isStoredBody(body) ? undefined : blobs.put(rawKey, body),
      files && repoFilesKey ? blobs.put(repoFilesKey, Buffer.from(files.join('\n'))) : undefined,
      fixes && reportFixesKey ? blobs.put(reportFixesKey, encodeStoredFixes(fixes)) : undefined,
    ]);
  } catch (err) {
    await discard(blobs, written);
    throw err;
  }
  return { uploadId, rawKey, repoFilesKey, reportFixesKey, written };
}

/** Registers the row pointing at blobs already written (the database is the last step). */
async function storeNew(deps: RegistrationDeps, p: Prepared, blobs: WrittenBlobs, commit?: CommitMetadata): Promise<StoredUpload> {
  const { req } = p;
  let registered: StoredUpload;
  try {
    registered = await deps.store.registerUploadWithStart({
      repo: p.repo,
      sha: p.sha,
      uploadId: blobs.uploadId,
      rawKey: blobs.rawKey,
      rawBytes: isStoredBody(req.body) ? req.body.bytes : req.body.byteLength,
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
      repoFilesKey: blobs.repoFilesKey,
      reportFixesKey: blobs.reportFixesKey,
      commit,
    });
  } catch (err) {
    await discard(deps.blobs, blobs.written);
    // The registration's one statement finds the repository: none means it does not exist.
    if (err instanceof NotFoundError) throw new UnknownRepositoryError(p.repo);
    throw err;
  }
  if (registered.uploadId !== blobs.uploadId) await discard(deps.blobs, blobs.written);
  return registered;
}

/** Best effort: a blob left behind is unreferenced garbage, never a wrong answer. */
async function discard(blobs: BlobStore, blobKeys: readonly string[]): Promise<void> {
  await Promise.allSettled(blobKeys.map((k) => blobs.delete(k)));
}
