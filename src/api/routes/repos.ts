import { z } from 'zod';
import { ConflictError, NotFoundError, RepoSettingsSchema } from '../../storage/store';
import { RepoSlugSchema } from '../../vocabulary';
import { ApiError, ErrorBodySchema, notFound } from '../errors';
import { bearerSecurity, errorResponses, ModeOrNull, RepoParams } from '../schemas';
import type { RouteContext, ZodApp } from '../server';
import { generateToken, hashToken } from '../tokens';

export function registerRepoRoutes(app: ZodApp, ctx: RouteContext): void {
  const { store, config } = ctx.deps;
  const adminOnly = async (request: Parameters<typeof ctx.auth.requireAdmin>[0]) => ctx.auth.requireAdmin(request);

  app.post(
    '/api/v1/repos',
    {
      onRequest: adminOnly,
      schema: {
        summary: 'Create a repository (admin); answers its upload token, once',
        tags: ['repositories'],
        security: bearerSecurity,
        body: z.object({ slug: RepoSlugSchema, settings: RepoSettingsSchema.optional() }),
        response: {
          201: z.object({ slug: z.string(), uploadToken: z.string() }),
          ...errorResponses,
          409: ErrorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const uploadToken = generateToken();
      try {
        const repo = await store.createRepository(request.body.slug, hashToken(uploadToken), request.body.settings ?? {});
        return reply.code(201).send({ slug: repo.slug, uploadToken });
      } catch (err) {
        if (err instanceof ConflictError) throw new ApiError(409, 'conflict', `repository ${request.body.slug} already exists`, 'slug');
        throw err;
      }
    },
  );

  app.put(
    '/api/v1/repos/:owner/:repo/mode',
    {
      onRequest: adminOnly,
      schema: {
        summary: "Set (or, with null, clear) the repository's mode override (admin)",
        tags: ['repositories'],
        security: bearerSecurity,
        params: RepoParams,
        body: z.object({ mode: ModeOrNull }),
        response: { 200: z.object({ slug: z.string(), mode: ModeOrNull }), ...errorResponses },
      },
    },
    async (request) => {
      const slug = `${request.params.owner}/${request.params.repo}`;
      try {
        await store.setModeOverride(slug, request.body.mode);
      } catch (err) {
        if (err instanceof NotFoundError) throw notFound('repository');
        throw err;
      }
      return { slug, mode: request.body.mode };
    },
  );

  app.get(
    '/api/v1/flags',
    {
      onRequest: adminOnly,
      schema: {
        summary: 'The mode rollout configuration and the per-repository overrides (admin)',
        tags: ['repositories'],
        security: bearerSecurity,
        response: {
          200: z.object({
            defaultMode: z.string(),
            rollout: z.record(z.string(), z.number()),
            overrides: z.array(z.object({ slug: z.string(), mode: z.string() })),
          }),
          ...errorResponses,
        },
      },
    },
    async () => ({
      defaultMode: config.pipeline.defaultMode,
      rollout: Object.fromEntries(Object.entries(config.flags.rollout).filter(([, v]) => typeof v === 'number')) as Record<string, number>,
      overrides: await store.listModeOverrides(),
    }),
  );
}
