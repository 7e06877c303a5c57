import { z } from 'zod';
import { ParseWarningsSchema } from '../coverage/warnings';
import { COMMIT_SHA_ANY_CASE, SLUG_SEGMENT, UPLOAD_MODES, UploadIdSchema } from '../vocabulary';
import { ErrorBodySchema } from './errors';

export const RepoParams = z.object({
  owner: z.string().regex(SLUG_SEGMENT, 'expected a repository owner'),
  repo: z.string().regex(SLUG_SEGMENT, 'expected a repository name'),
});

/** Callers may send a sha in upper case; it is stored and compared in lower case. */
export const Sha = z
  .string()
  .regex(COMMIT_SHA_ANY_CASE, 'expected a hex commit sha')
  .transform((s) => s.toLowerCase());

export const CommitParams = RepoParams.extend({ sha: Sha });

export const UploadIdParam = z.object({ id: UploadIdSchema });

/** The repository a route's `:owner/:repo` names, as the store spells it. */
export function repoSlugOf(params: { owner?: string; repo?: string }): string {
  return `${params.owner}/${params.repo}`;
}

export const ModeOrNull = z.enum(UPLOAD_MODES).nullable();

export const UploadErrorSchema = z.object({ code: z.string(), message: z.string() }).nullable();

/**
 * Per-line anomalies the processor skipped or clamped: one entry per code with its count and the
 * first positions. Empty when there were none (or the upload is not processed yet).
 */
export const UploadWarningsSchema = ParseWarningsSchema.describe(
  'lines the processor skipped or clamped: per code, the count and the first few positions in the upload',
);


/** Error answers every route may give; routes add their own statuses to this. */
export const errorResponses = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  404: ErrorBodySchema,
  429: ErrorBodySchema,
};

export const bearerSecurity = [{ bearer: [] as string[] }];
