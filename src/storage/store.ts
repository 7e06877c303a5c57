import type { ClaimUploadsInput, StartRunInput, StartVerificationInput } from '../activities/contracts';
import type { IdempotencyScope, UploadMode } from '../vocabulary';
import { branchCoverage, defaultBranchCoverage, listBranches, listCommits, type ListCommitsInput } from './commit-lists';
import { CarryforwardStore, type RecordCarryforwardInput } from './carryforward';
import { getCommit, getCommitStartFacts, recordCommitMetadata } from './commits';
import type { Database } from './database';
import { DiffStore, type SaveCommitDiffInput } from './diffs';
import { DeliveryStore, type AttemptOutcome, type PlanDeliveriesInput } from './deliveries';
import { ExperimentStore, type RecordExperimentInput } from './experiments';
import { MaintenanceStore, type FindStaleInput, type ReleaseClaimsInput } from './maintenance';
import { QueueStore } from './queue';
import { ReportStore, type SaveBatchReportInput } from './reports';
import { RepositoryStore } from './repositories';
import type { CommitMetadata, RepoSettings } from './rows';
import { PendingUploadStore, type PendingMetadata } from './pending-uploads';
import { ReadTokenStore } from './read-tokens';
import { RunStore } from './runs';
import { SourceStore, type SourceEntry } from './sources';
import { UploadStore, type ProcessedMark, type RegisterUploadInput } from './uploads';
import { VerificationStore, type ListVerificationsInput, type RecordVerificationInput } from './verifications';

// What callers of the store use besides it, so they need not know its modules.
export { ConflictError, IdempotencyConflictError, NotFoundError, SupersededRunError } from './errors';
export type { SaveBatchOutcome } from './reports';
export type { CommitStartFacts } from './commits';
export type { CommitDiffRow, SaveCommitDiffInput } from './diffs';
export type { CarryforwardAncestor, RecordCarryforwardOutcome } from './carryforward';
export { CommitMetadataSchema, RepoSettingsSchema, type CommitMetadata, type RepoSettings, type UploadRow } from './rows';
export type { StaleCommit } from './maintenance';
export type { PendingMetadata, PendingUpload } from './pending-uploads';
export { digestsConflict, type ProcessedMark, type RegisteredUpload, type RegisteredUploadWithStart, type RegisterUploadInput } from './uploads';
export { estimatedWaitSeconds, type QueueSnapshot, type WindowFigures } from './queue';
export type { DeliveryAttempt, DeliveryKind, DeliveryRow, DeliveryState, PlannedDelivery } from './deliveries';
export type { CommitListItem, CoveragePoint } from './commit-lists';
export type { SampledCommit, VerificationRow, VerificationRun } from './verifications';
export type { ReadToken } from './read-tokens';

/**
 * Tributary's rows over one database, one aggregate per module: repositories (and their mode
 * overrides), uploads (registration, reads, state changes), runs (ownership and batch claims),
 * reports, experiments, the maintenance schedules' reads and marks, re-verifications and the queue's figures. This facade keeps one object for callers (the gateway, the activities,
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
  private readonly diffs: DiffStore;
  private readonly maintenance: MaintenanceStore;
  private readonly pending: PendingUploadStore;
  private readonly verifications: VerificationStore;
  private readonly queue: QueueStore;
  private readonly deliveries: DeliveryStore;
  private readonly readTokens: ReadTokenStore;
  private readonly sources: SourceStore;
  private readonly carryforward: CarryforwardStore;

  constructor(private readonly db: Database) {
    this.repositories = new RepositoryStore(db);
    this.uploads = new UploadStore(db);
    this.runs = new RunStore(db);
    this.reports = new ReportStore(db);
    this.experiments = new ExperimentStore(db);
    this.diffs = new DiffStore(db);
    this.maintenance = new MaintenanceStore(db);
    this.pending = new PendingUploadStore(db);
    this.verifications = new VerificationStore(db);
    this.queue = new QueueStore(db);
    this.deliveries = new DeliveryStore(db);
    this.readTokens = new ReadTokenStore(db);
    this.sources = new SourceStore(db);
    this.carryforward = new CarryforwardStore(db);
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
  setRepositorySettings(slug: string, settings: RepoSettings) {
    return this.repositories.setSettings(slug, settings);
  }
  setModeOverride(slug: string, mode: UploadMode | null) {
    return this.repositories.setModeOverride(slug, mode);
  }
  getModeOverride(slug: string) {
    return this.repositories.getModeOverride(slug);
  }
  listRepositories(only?: string) {
    return this.repositories.listRepositories(only);
  }

  createReadToken(slug: string, tokenHash: string, name?: string) {
    return this.readTokens.create(slug, tokenHash, name);
  }
  listReadTokens(slug: string) {
    return this.readTokens.list(slug);
  }
  revokeReadToken(id: string, slug?: string) {
    return this.readTokens.revoke(id, slug);
  }
  getReadToken(id: string) {
    return this.readTokens.get(id);
  }
  findReadTokenByHash(tokenHash: string) {
    return this.readTokens.findByHash(tokenHash);
  }

  recordCommitSources(commitId: number, entries: readonly SourceEntry[]) {
    return this.sources.record(commitId, entries);
  }
  findCommitSource(repo: string, sha: string, path: string) {
    return this.sources.find(repo, sha, path);
  }
  listCommitSourcePaths(repo: string, sha: string) {
    return this.sources.paths(repo, sha);
  }

  listModeOverrides() {
    return this.repositories.listModeOverrides();
  }

  registerUpload(input: RegisterUploadInput) {
    return this.uploads.registerUpload(input);
  }
  registerUploadWithStart(input: RegisterUploadInput) {
    return this.uploads.registerUploadWithStart(input);
  }
  markProcessedMany(marks: readonly ProcessedMark[]) {
    return this.uploads.markProcessedMany(marks);
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
  getUploads(uploadIds: readonly string[]) {
    return this.uploads.getUploads(uploadIds);
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
  recordCommitMetadata(repo: string, sha: string, metadata: CommitMetadata) {
    return recordCommitMetadata(this.db, repo, sha, metadata);
  }

  /** A repository's commits, newest first (the repository page). */
  listCommits(input: ListCommitsInput) {
    return listCommits(this.db, input);
  }

  listBranches(repo: string, limit?: number) {
    return listBranches(this.db, repo, limit);
  }

  /** A branch's saved reports, oldest first (the coverage chart). */
  branchCoverage(repo: string, branch: string, limit: number) {
    return branchCoverage(this.db, repo, branch, limit);
  }

  /** Per repository its default branch's last saved reports (the home page). */
  defaultBranchCoverage(slugs: readonly string[], fallbackBranch: string, limit: number) {
    return defaultBranchCoverage(this.db, slugs, fallbackBranch, limit);
  }

  getCommitStartFacts(repo: string, sha: string) {
    return getCommitStartFacts(this.db, repo, sha);
  }

  createPendingUpload(input: { id: string; repo: string; sha: string; metadata: PendingMetadata; expiresAt: Date }) {
    return this.pending.createPendingUpload(input);
  }
  getPendingUpload(id: string) {
    return this.pending.getPendingUpload(id);
  }
  fillPendingUpload(id: string, digest: string, uploadIds: string[], fixes: Record<string, { eof: number | null; lines: number[] }>) {
    return this.pending.fillPendingUpload(id, digest, uploadIds, fixes);
  }

  listCarryforwardAncestors(repo: string, sha: string, depth: number) {
    return this.carryforward.listAncestors(repo, sha, depth);
  }
  recordCarryforward(input: RecordCarryforwardInput) {
    return this.carryforward.recordCarryforward(input);
  }

  startRun(input: StartRunInput) {
    return this.runs.startRun(input);
  }
  claimUploads(input: ClaimUploadsInput) {
    return this.runs.claimUploads(input);
  }
  withdrawClaimPromise(repo: string, sha: string) {
    return this.runs.withdrawClaimPromise(repo, sha);
  }

  saveBatchReport(input: SaveBatchReportInput) {
    return this.reports.saveBatchReport(input);
  }
  getCommitReport(repo: string, sha: string) {
    return this.reports.getCommitReport(repo, sha);
  }
  latestCompleteReport(repo: string, branch: string) {
    return this.reports.latestCompleteReport(repo, branch);
  }

  saveCommitDiff(input: SaveCommitDiffInput) {
    return this.diffs.saveCommitDiff(input);
  }
  getCommitDiff(repo: string, sha: string) {
    return this.diffs.getCommitDiff(repo, sha);
  }

  recordExperiment(input: RecordExperimentInput) {
    return this.experiments.recordExperiment(input);
  }
  listExperiments(repo: string, sha: string) {
    return this.experiments.listExperiments(repo, sha);
  }

  findStaleCommits(input: FindStaleInput) {
    return this.maintenance.findStaleCommits(input);
  }
  releaseClaimsOf(input: ReleaseClaimsInput) {
    return this.maintenance.releaseClaimsOf(input);
  }
  blobReferences(keys: readonly string[]) {
    return this.maintenance.blobReferences(keys);
  }
  markRawDeleted(uploadIds: readonly string[]) {
    return this.maintenance.markRawDeleted(uploadIds);
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

  planDeliveries(input: PlanDeliveriesInput) {
    return this.deliveries.plan(input);
  }
  hasDeliveries(repo: string, sha: string) {
    return this.deliveries.anyForCommit(repo, sha);
  }
  getDelivery(id: string) {
    return this.deliveries.get(id);
  }
  startDeliveryAttempt(id: string) {
    return this.deliveries.startAttempt(id);
  }
  finishDeliveryAttempt(id: string, attempt: number, outcome: AttemptOutcome) {
    return this.deliveries.finishAttempt(id, attempt, outcome);
  }
  listDeliveries(repo: string, opts?: { sha?: string; limit?: number }) {
    return this.deliveries.list(repo, opts);
  }
}
