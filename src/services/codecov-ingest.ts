import type { CodecovPayload } from '../codecov/payload-stream';
import { IdempotencyConflictError, type PendingUpload } from '../storage/store';
import { registerUploads, type RegisteredUpload, type RegistrationDeps, type StoredRawBody } from './register-upload';

/**
 * A Codecov uploader's payload, PUT to the location its POST was answered and split as it
 * streamed (src/codecov/payload.ts, each coverage file already in its raw blob), becomes Tributary
 * uploads: one per coverage file in payload order (so sessions follow it), each with the POST's
 * metadata, the payload's file list for path resolution, and an idempotency key derived from the
 * pending upload and the file's index, so the same PUT again answers the same uploads and creates
 * none. The payload's fixes go with each of its uploads (the processor applies them) and are kept
 * with the pending upload. `digest` is the sha256 of the payload as received; a stored body that
 * does not become an upload is deleted again.
 */
export async function acceptCodecovPayload(
  deps: RegistrationDeps,
  pending: PendingUpload,
  payload: CodecovPayload<StoredRawBody>,
  digest: string,
): Promise<{ uploads: RegisteredUpload[]; created: boolean }> {
  if (pending.bodyDigest !== null && pending.bodyDigest !== digest) {
    await Promise.allSettled(payload.files.map((f) => deps.blobs.delete(f.body.rawKey)));
    throw new PendingUploadUsedError(pending.id);
  }
  const m = pending.metadata;
  const hasFixes = Object.keys(payload.fixes.files).length > 0 || payload.fixes.warnings.length > 0;
  const commit = { branch: m.branch, ciService: m.ciService, build: m.build, job: m.job, ciUrl: m.ciUrl };
  const uploads = await registerUploads(
    deps,
    payload.files.map((file, index) => ({
      repo: pending.repo,
      sha: pending.sha,
      body: file.body,
      flags: m.flags,
      name: m.name ?? file.filename,
      build: m.build,
      job: m.job,
      branch: m.branch,
      ciUrl: m.ciUrl,
      repoFiles: payload.network.length > 0 ? payload.network : undefined,
      reportFixes: hasFixes ? payload.fixes : undefined,
      idempotencyKey: `codecov:${pending.id}:${index}`,
      idempotencyScope: 'raw' as const,
      commit,
    })),
  ).catch((err: unknown) => {
    // Another payload won the race for the same location: its keys hold other bodies.
    throw err instanceof IdempotencyConflictError ? new PendingUploadUsedError(pending.id) : err;
  });
  const filled = await deps.store.fillPendingUpload(
    pending.id,
    digest,
    uploads.map((u) => u.uploadId),
    payload.fixes.files,
  );
  if (!filled) throw new PendingUploadUsedError(pending.id);
  return { uploads, created: uploads.some((u) => u.created) };
}

/** The location was already used for another payload: single use. */
export class PendingUploadUsedError extends Error {
  constructor(readonly pendingId: string) {
    super(`this upload location was already used for a different payload (upload ${pendingId}); ask for a new one`);
    this.name = 'PendingUploadUsedError';
  }
}
