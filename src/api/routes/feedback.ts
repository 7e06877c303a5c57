import { z } from 'zod';
import { nudgeNotifier } from '../../services/notify';
import { repositoryAccess } from '../auth';
import { notFound } from '../errors';
import { bearerSecurity, CommitParams, errorResponses, RepoParams, repoSlugOf } from '../schemas';
import type { RoutePlugin } from '../server';

const DeliverySchema = z.object({
  id: z.string(),
  sha: z.string(),
  kind: z.enum(['github_status', 'github_comment', 'webhook']),
  target: z.string().describe('where it goes: github:OWNER/NAME:status:CONTEXT, github:OWNER/NAME:pull/N:comment, webhook:URL'),
  reportVersion: z.number().int(),
  state: z.enum(['pending', 'sent', 'failed']),
  attempts: z.number().int(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  log: z.array(z.object({ attempt: z.number().int(), statusCode: z.number().int().nullable(), error: z.string().nullable(), startedAt: z.string(), finishedAt: z.string().nullable() })),
});

/** The uploader's "done" (readiness) and the delivery log of a repository's feedback. */
export const feedbackRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, client, config } = ctx.deps;

  app.post(
    '/repos/:owner/:repo/commits/:sha/done',
    {
      onRequest: repositoryAccess,
      schema: {
        summary: "The uploader is done with the commit: it settles (and notifies) once its open uploads are processed",
        tags: ['commits'],
        security: bearerSecurity,
        params: CommitParams,
        response: { 202: z.object({ repo: z.string(), sha: z.string(), notifier: z.string() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const repo = repoSlugOf(request.params);
      const sha = request.params.sha.toLowerCase();
      if ((await store.getRepository(repo)) === null) throw notFound('repository');
      const notifier = await nudgeNotifier({ client, config }, repo, sha, { kind: 'done' });
      return reply.code(202).send({ repo, sha, notifier });
    },
  );

  app.get(
    '/repos/:owner/:repo/deliveries',
    {
      onRequest: repositoryAccess,
      schema: {
        summary: 'Feedback deliveries (commit statuses, PR comments, webhooks), newest first, with each try',
        tags: ['repositories'],
        security: bearerSecurity,
        params: RepoParams,
        querystring: z.object({ sha: z.string().regex(/^[0-9a-fA-F]{7,64}$/).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: z.object({ deliveries: z.array(DeliverySchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const repo = repoSlugOf(request.params);
      if ((await store.getRepository(repo)) === null) throw notFound('repository');
      const rows = await store.listDeliveries(repo, { sha: request.query.sha?.toLowerCase(), limit: request.query.limit });
      return {
        deliveries: rows.map((d) => ({
          id: d.id,
          sha: d.sha,
          kind: d.kind,
          target: d.target,
          reportVersion: d.reportVersion,
          state: d.state,
          attempts: d.attempts,
          lastStatus: d.lastStatus,
          lastError: d.lastError,
          createdAt: d.createdAt.toISOString(),
          sentAt: d.sentAt?.toISOString() ?? null,
          log: d.log.map((a) => ({ attempt: a.attempt, statusCode: a.statusCode, error: a.error, startedAt: a.startedAt.toISOString(), finishedAt: a.finishedAt?.toISOString() ?? null })),
        })),
      };
    },
  );
};
