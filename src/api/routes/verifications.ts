import { z } from 'zod';
import { RepoSlugSchema, VERIFICATION_OUTCOMES } from '../../vocabulary';
import { adminOnly } from '../auth';
import { bearerSecurity, errorResponses } from '../schemas';
import type { RoutePlugin } from '../server';

const VerificationsQuery = z.object({
  repo: RepoSlugSchema.optional(),
  outcome: z.enum(VERIFICATION_OUTCOMES).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const VerificationSchema = z.object({
  runId: z.string().describe('the re-verification run (its workflow id)'),
  seed: z.string().describe("the run's sample seed"),
  repo: z.string(),
  sha: z.string(),
  outcome: z.enum(VERIFICATION_OUTCOMES),
  reportVersion: z.number().int().nullable().describe('the saved report version compared'),
  uploads: z.number().int(),
  differingFiles: z.number().int(),
  differingLines: z.number().int(),
  files: z.array(z.string()).describe('paths of the differing files (the first 100)'),
  sample: z.array(z.string()).describe('differences, e.g. "parallel: src/a.js:12 expected 3:line, got 4:line" (expected: the saved report)'),
  reason: z.string().nullable().describe('why it was skipped, or which path differed'),
  createdAt: z.string(),
});

export const verificationRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/verifications',
    {
      onRequest: adminOnly,
      schema: {
        summary: 'Outcomes of scheduled re-verification, newest first; filters repo, outcome, since (admin)',
        tags: ['verifications'],
        security: bearerSecurity,
        querystring: VerificationsQuery,
        response: { 200: z.object({ verifications: z.array(VerificationSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const { repo, outcome, since, limit } = request.query;
      const rows = await ctx.deps.store.listVerifications({ repo, outcome, since: since === undefined ? undefined : new Date(since), limit });
      return { verifications: rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })) };
    },
  );
};
