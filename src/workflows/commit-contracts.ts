import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ExperimentOutcome, UploadMode } from '../vocabulary';
import type { BatchUpload, ReportTotalsJson } from '../activities/contracts';

/** Workflow id of a commit's single writer. */
export function commitWorkflowId(repo: string, sha: string): string {
  return `commit:${repo}:${sha}`;
}

export interface CommitSettings {
  /** Quiet time after the last upload before a batch starts. */
  debounceMs: number;
  /** Upper bound on the debounce, so a steady trickle of uploads still gets processed. */
  maxDebounceMs: number;
  /** With no upload for this long, the workflow closes. */
  idleTimeoutMs: number;
  /** Window of processor activities in flight at once in parallel mode. */
  maxParallel: number;
  /**
   * Uploads one processor activity takes at most in parallel mode, when the batch is larger
   * than the window; absent (runs started before it) or 1: one activity per upload.
   */
  processChunk?: number;
  /** Uploads taken per batch (bounded so every payload stays small). */
  maxBatch?: number;
  /** How long an experiment waits for its shadow after the real path is done. */
  shadowTimeoutMs?: number;
}

export interface ExperimentTally {
  batches: number;
  matches: number;
  /** First outcome that was not a match, if any; it sticks. */
  firstProblem?: ExperimentOutcome;
  last?: ExperimentOutcome;
}

/**
 * Small state carried across continue-as-new; never coverage data, never upload lists. The report
 * (version, key, totals) and the merged and error counts are what the run returns; a new run
 * takes them from the database (`startRun`), which also holds them for a run that never carried.
 */
export interface CommitCarry {
  received: number;
  merged: number;
  errors: number;
  batches: number;
  version: number;
  reportKey?: string;
  totals?: ReportTotalsJson;
  experiment: ExperimentTally;
  /** Uploads whose processor skipped or clamped lines (their warnings are on the upload). */
  warned?: number;
}

export interface CommitWorkflowInput {
  repo: string;
  sha: string;
  settings: CommitSettings;
  carry?: CommitCarry;
}

/** A nudge: the upload itself is in the database, which is the queue. */
export interface UploadSignal {
  uploadId: string;
  /** Further uploads registered while the previous signal was in flight, nudged by this one. */
  more?: string[];
}

export type CommitPhase = 'waiting' | 'debouncing' | 'processing' | 'closed';

export interface CommitProgress {
  phase: CommitPhase;
  mode?: UploadMode;
  modeReason?: string;
  received: number;
  merged: number;
  errors: number;
  batches: number;
  version: number;
  totals?: ReportTotalsJson;
  /** Processed / total of the batch in flight. */
  batch?: { done: number; total: number };
  experiment: ExperimentTally;
  warned?: number;
  /** The latest upload error, so the Web UI says why an upload failed. */
  lastError?: { uploadId: string; code: string; message: string };
}

/** What a closed commit workflow returns: the same small summary it carries across runs. */
export type CommitResult = CommitCarry;

export interface ShadowWorkflowInput {
  repo: string;
  sha: string;
  batch: number;
  /** The commit report the batch started from (read only). */
  baseKey: string | null;
  baseVersion: number;
  uploads: BatchUpload[];
  maxParallel: number;
}

export interface ShadowResult {
  reportKey: string | null;
}

export const uploadSignal = defineSignal<[UploadSignal]>('upload');
export const progressQuery = defineQuery<CommitProgress>('progress');
