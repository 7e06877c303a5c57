import { z } from 'zod';
import { ParseWarningsSchema } from '../coverage/warnings-schema';
import { COMMIT_SHA_ANY_CASE, MAX_SLUG_LENGTH, REPO_OWNER, SLUG_SEGMENT, UPLOAD_MODES, UploadIdSchema } from '../vocabulary';
import { ErrorBodySchema } from './errors';

// find-my-way decodes a parameter's %2F, so a nested owner arrives here with its slashes.
const owner = z
  .string()
  .regex(REPO_OWNER, 'expected a repository owner: one segment, or a group path with each / sent as %2F')
  .describe('the repository owner; a nested owner (a GitLab group path, group/subgroup) is one path segment with each / percent-encoded: group%2Fsubgroup');
const repo = z.string().regex(SLUG_SEGMENT, 'expected a repository name');
/** The owner and name bound their own segments; the whole slug's length is checked here. */
const slugWithinLength = (p: { owner: string; repo: string }) => repoSlugOf(p).length <= MAX_SLUG_LENGTH;
const slugTooLong = { message: `expected a repository slug of at most ${MAX_SLUG_LENGTH} characters`, path: ['owner'] };

export const RepoParams = z.object({ owner, repo }).refine(slugWithinLength, slugTooLong);

/** Callers may send a sha in upper case; it is stored and compared in lower case. */
export const Sha = z
  .string()
  .regex(COMMIT_SHA_ANY_CASE, 'expected a hex commit sha')
  .transform((s) => s.toLowerCase());

export const CommitParams = z.object({ owner, repo, sha: Sha }).refine(slugWithinLength, slugTooLong);

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
