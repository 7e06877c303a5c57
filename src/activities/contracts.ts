import { z } from 'zod';
import { UPLOAD_MODES } from '../config';

/**
 * Activity inputs and outputs. Activities validate their inputs with these schemas (a boundary
 * like any other); the workflow imports only the inferred types. Payloads carry ids, keys and
 * small summaries, never coverage data.
 */
export const RepoSlugSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'expected OWNER/NAME');
export const CommitShaSchema = z.string().regex(/^[0-9a-f]{7,64}$/, 'expected a hex commit sha');
export const UploadIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'expected an upload id');

export const ResolveModeInput = z.object({ repo: RepoSlugSchema });
export type ResolveModeInput = z.infer<typeof ResolveModeInput>;
export const ModeDecision = z.object({ mode: z.enum(UPLOAD_MODES), reason: z.string() });
export type ModeDecision = z.infer<typeof ModeDecision>;

export const ProcessUploadInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  uploadId: UploadIdSchema,
});
export type ProcessUploadInput = z.infer<typeof ProcessUploadInput>;

export const UploadErrorCode = z.enum(['file_not_in_storage', 'report_empty', 'unknown_processing']);
export type UploadErrorCode = z.infer<typeof UploadErrorCode>;

export const ProcessSummary = z.object({
  uploadId: UploadIdSchema,
  /** Intermediate report key; absent when the upload ended in error. */
  key: z.string().optional(),
  rawBytes: z.number().int().nonnegative(),
  lines: z.number().int().nonnegative(),
  error: z.object({ code: UploadErrorCode, message: z.string() }).optional(),
});
export type ProcessSummary = z.infer<typeof ProcessSummary>;

export const FinishCommitInput = z.object({
  repo: RepoSlugSchema,
  sha: CommitShaSchema,
  uploads: z.array(ProcessSummary).max(10_000),
});
export type FinishCommitInput = z.infer<typeof FinishCommitInput>;

export const CommitTotals = z.object({
  /** Uploads merged into the commit report so far (all batches). */
  merged: z.number().int().nonnegative(),
  lines: z.number().int().nonnegative(),
  reportKey: z.string(),
});
export type CommitTotals = z.infer<typeof CommitTotals>;
