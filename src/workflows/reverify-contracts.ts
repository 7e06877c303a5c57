import type { VerificationOutcome } from '../vocabulary';

/** The server schedule that starts re-verification runs (one name for the CLI, main and tests). */
export const REVERIFY_SCHEDULE_ID = 'tributary-reverify';

export interface ReverifyInput {
  /** Completed commits to sample per run. */
  sampleSize: number;
  /** Only these repositories; empty: all. */
  repositories: string[];
  /** Processors in flight per path (the parallel path's window). */
  maxParallel: number;
  /** The sample's seed; absent: the run's workflow id, which names its scheduled time. */
  seed?: string;
}

export interface ReverifyCommitInput {
  runId: string;
  repo: string;
  sha: string;
  maxParallel: number;
}

export interface ReverifySummary {
  runId: string;
  seed: string;
  sampled: number;
  /** Compared (match or mismatch); skipped ones are not. */
  verified: number;
  matches: number;
  mismatches: number;
  skipped: number;
  /** The commits that did not match, `owner/repo@sha`. */
  mismatched: string[];
}

export interface ReverifyCommitResult {
  outcome: VerificationOutcome;
  differingFiles: number;
  differingLines: number;
}
