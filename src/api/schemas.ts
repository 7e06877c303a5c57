import { z } from 'zod';
import { ParseWarningsSchema } from '../coverage/warnings';
import { MODES } from '../storage/store';
import { ErrorBodySchema } from './errors';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const RepoParams = z.object({
  owner: z.string().regex(SEGMENT, 'expected a repository owner'),
  repo: z.string().regex(SEGMENT, 'expected a repository name'),
});

export const Sha = z
  .string()
  .regex(/^[0-9a-fA-F]{7,64}$/, 'expected a hex commit sha')
  .transform((s) => s.toLowerCase());

export const CommitParams = RepoParams.extend({ sha: Sha });

/** The repository a route's `:owner/:repo` names, as the store spells it. */
export function repoSlugOf(params: { owner?: string; repo?: string }): string {
  return `${params.owner}/${params.repo}`;
}

export const UploadIdParam = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'expected an upload id'),
});

export const ModeOrNull = z.enum(MODES).nullable();

export const UploadErrorSchema = z.object({ code: z.string(), message: z.string() }).nullable();

/**
 * Per-line anomalies the processor skipped or clamped: one entry per code with its count and the
 * first positions. Empty when there were none (or the upload is not processed yet).
 */
export const UploadWarningsSchema = ParseWarningsSchema.describe(
  'lines the processor skipped or clamped: per code, the count and the first few positions in the upload',
);

export const PUBLIC_UPLOAD_STATES = ['uploaded', 'processing', 'merged', 'error', 'cancelled'] as const;
export const PublicUploadState = z.enum(PUBLIC_UPLOAD_STATES);

/** Error answers every route may give; routes add their own statuses to this. */
export const errorResponses = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  404: ErrorBodySchema,
  429: ErrorBodySchema,
};

export const bearerSecurity = [{ bearer: [] as string[] }];
