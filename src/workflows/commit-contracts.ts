import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { UploadMode } from '../config';

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
}

/** Small state carried across continue-as-new; never coverage data. */
export interface CommitCarry {
  pending: string[];
  received: number;
  merged: number;
  errors: number;
  batches: number;
}

export interface CommitWorkflowInput {
  repo: string;
  sha: string;
  settings: CommitSettings;
  carry?: CommitCarry;
}

export interface UploadSignal {
  uploadId: string;
}

export type CommitPhase = 'waiting' | 'debouncing' | 'processing' | 'closed';

export interface CommitProgress {
  phase: CommitPhase;
  mode?: UploadMode;
  modeReason?: string;
  received: number;
  pending: number;
  merged: number;
  errors: number;
  batches: number;
  /** Processed / total of the batch in flight. */
  batch?: { done: number; total: number };
}

export interface CommitResult {
  received: number;
  merged: number;
  errors: number;
  batches: number;
  reportKey?: string;
}

export const uploadSignal = defineSignal<[UploadSignal]>('upload');
export const progressQuery = defineQuery<CommitProgress>('progress');
