import type { ParseWarning } from '../coverage/warnings';
import type { ClaimUploadsInput, StartRunInput, StartVerificationInput } from '../activities/contracts';
import type { IdempotencyScope, UploadMode } from '../vocabulary';
import { getCommit } from './commits';
import type { Database } from './database';
import { ExperimentStore, type RecordExperimentInput } from './experiments';
import { QueueStore } from './queue';
import { ReportStore, type SaveBatchReportInput } from './reports';
import { RepositoryStore } from './repositories';
import type { RepoSettings } from './rows';
import { RunStore } from './runs';
import { UploadStore, type RegisterUploadInput } from './uploads';
import { VerificationStore, type ListVerificationsInput, type RecordVerificationInput } from './verifications';

// What callers of the store use besides it, so they need not know its modules.
export { ConflictError, IdempotencyConflictError, NotFoundError, SupersededRunError } from './errors';
export type { SaveBatchOutcome } from './reports';
export { RepoSettingsSchema, type UploadRow } from './rows';
export { digestsConflict, type RegisteredUpload, type RegisterUploadInput } from './uploads';
export { estimatedWaitSeconds, type QueueSnapshot, type WindowFigures } from './queue';
export type { SampledCommit, VerificationRow, VerificationRun } from './verifications';

/**
 * Tributary's rows over one database, one aggregate per module: repositories (and their mode
 * overrides), uploads (registration, reads, state changes), runs (ownership and batch claims),
 * reports, experiments, re-verifications and the queue's figures. This facade keeps one object for callers (the gateway, the activities,
 * tests and benches take a `Store`), and each method is the aggregate's own. Every method
 * validates its input and is safe to retry: registrations are idempotent by upload id and
 * idempotency key, claims by run and claim count, state changes only move forward.
 */
export class Store {
  private readonly repositories: RepositoryStore;
  private readonly uploads: UploadStore;
  private readonly runs: RunStore;
  private readonly reports: ReportStore;
  private readonly experiments: ExperimentStore;
  private readonly verifications: VerificationStore;
  private readonly queue: QueueStore;

  constructor(private readonly db: Database) {
    this.repositories = new RepositoryStore(db);
    this.uploads = new UploadStore(db);
    this.runs = new RunStore(db);
    this.reports = new ReportStore(db);
    this.experiments = new ExperimentStore(db);
    this.verifications = new VerificationStore(db);
    this.queue = new QueueStore(db);
  }

  createRepository(slug: string, uploadTokenHash: string, settings?: RepoSettings) {
    return this.repositories.createRepository(slug, uploadTokenHash, settings);
  }
  getRepository(slug: string) {
    return this.repositories.getRepository(slug);
  }
  findRepositoryByTokenHash(uploadTokenHash: string) {
    return this.repositories.findRepositoryByTokenHash(uploadTokenHash);
  }
  setModeOverride(slug: string, mode: UploadMode | null) {
    return this.repositories.setModeOverride(slug, mode);
  }
  getModeOverride(slug: string) {
    return this.repositories.getModeOverride(slug);
  }
  listModeOverrides() {
    return this.repositories.listModeOverrides();
  }

  registerUpload(input: RegisterUploadInput) {
    return this.uploads.registerUpload(input);
  }
  markProcessed(uploadId: string, intermediateKey: string, warnings?: readonly ParseWarning[]) {
    return this.uploads.markProcessed(uploadId, intermediateKey, warnings);
  }
  markError(uploadId: string, code: string, message: string) {
    return this.uploads.markError(uploadId, code, message);
  }
  markMerged(uploadIds: string[]) {
    return this.uploads.markMerged(uploadIds);
  }
  markCancelled(uploadIds: string[]) {
    return this.uploads.markCancelled(uploadIds);
  }
  getUpload(uploadId: string) {
    return this.uploads.getUpload(uploadId);
  }
  findUploadByIdempotencyKey(repo: string, sha: string, scope: IdempotencyScope, key: string) {
    return this.uploads.findUploadByIdempotencyKey(repo, sha, scope, key);
  }
  listUploads(repo: string, sha: string) {
    return this.uploads.listUploads(repo, sha);
  }

  getCommit(repo: string, sha: string) {
    return getCommit(this.db, repo, sha);
  }

  startRun(input: StartRunInput) {
    return this.runs.startRun(input);
  }
  claimUploads(input: ClaimUploadsInput) {
    return this.runs.claimUploads(input);
  }

  saveBatchReport(input: SaveBatchReportInput) {
    return this.reports.saveBatchReport(input);
  }
  getCommitReport(repo: string, sha: string) {
    return this.reports.getCommitReport(repo, sha);
  }

  recordExperiment(input: RecordExperimentInput) {
    return this.experiments.recordExperiment(input);
  }
  listExperiments(repo: string, sha: string) {
    return this.experiments.listExperiments(repo, sha);
  }

  startVerificationRun(input: StartVerificationInput) {
    return this.verifications.startRun(input);
  }
  recordVerification(input: RecordVerificationInput) {
    return this.verifications.record(input);
  }
  listVerifications(input?: ListVerificationsInput) {
    return this.verifications.list(input);
  }
  verificationCounts() {
    return this.verifications.outcomeCounts();
  }

  queueSnapshot() {
    return this.queue.snapshot();
  }
  queueWindows() {
    return this.queue.windows();
  }
  waitingAhead(uploadId: string) {
    return this.queue.waitingAhead(uploadId);
  }
  queueSettledUntil(settleMs: number) {
    return this.queue.settledUntil(settleMs);
  }
  queueTimesSince(after: Date, settleMs: number, limit?: number) {
    return this.queue.queueTimesSince(after, settleMs, limit);
  }
}
