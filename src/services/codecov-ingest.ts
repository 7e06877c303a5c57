import { createHash } from 'node:crypto';
import { splitPayload, type PayloadLimits } from '../codecov/payload';
import { IdempotencyConflictError, type PendingUpload } from '../storage/store';
import { registerUploads, type RegisteredUpload, type RegistrationDeps } from './register-upload';

/**
 * A Codecov uploader's payload, PUT to the location its POST was answered, becomes Tributary
 * uploads: one per coverage file in payload order (so sessions follow it), each with the POST's
 * metadata, the payload's file list for path resolution, and an idempotency key derived from the
 * pending upload and the file's index, so the same PUT again answers the same uploads and creates
 * none. The payload's fixes go with each of its uploads (the processor applies them) and are kept
 * with the pending upload. The one place the body's bytes meet
 * registration: swap `body` for a stored blob here when bodies are streamed to storage.
 */
export async function acceptCodecovPayload(
  deps: RegistrationDeps,
  pending: PendingUpload,
  body: Buffer,
  limits: PayloadLimits,
): Promise<{ uploads: RegisteredUpload[]; created: boolean }> {
  const digest = createHash('sha256').update(body).digest('hex');
  if (pending.bodyDigest !== null && pending.bodyDigest !== digest) throw new PendingUploadUsedError(pending.id);
  const payload = splitPayload(body, limits);
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
