import { z } from 'zod';
import { ReadTokenIdSchema, ReadTokenNameSchema } from '../../storage/read-tokens';
import { adminOnly } from '../auth';
import { notFound } from '../errors';
import { bearerSecurity, errorResponses, RepoParams, repoSlugOf } from '../schemas';
import type { RoutePlugin } from '../server';
import { generateToken, hashToken } from '../tokens';

const TokenSchema = z.object({
  id: z.string(),
  kind: z.literal('read'),
  repo: z.string(),
  name: z.string().nullable(),
  createdAt: z.string(),
});
const view = (t: { id: string; repo: string; name: string | null; createdAt: Date }) => ({
  id: t.id,
  kind: 'read' as const,
  repo: t.repo,
  name: t.name,
  createdAt: t.createdAt.toISOString(),
});

/** A repository's read-only tokens (admin): created (the token is answered once), listed, revoked. */
export const tokenRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store } = ctx.deps;

  app.post(
    '/repos/:owner/:repo/tokens',
    {
      onRequest: adminOnly,
      config: { missing: 'repository' },
      schema: {
        summary: 'Create a read-only token of the repository (admin); answers the token, once',
        description:
          'A read token reads everything of its repository (reports, commits, uploads, sources, pages, badge) and changes nothing: uploads and settings are 403. Only its sha256 is stored.',
        tags: ['tokens'],
        security: bearerSecurity,
        params: RepoParams,
        body: z.object({ kind: z.literal('read').default('read'), name: ReadTokenNameSchema.optional() }).default({ kind: 'read' }),
        response: { 201: TokenSchema.extend({ token: z.string() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const token = generateToken();
      const created = await store.createReadToken(repoSlugOf(request.params), hashToken(token), request.body.name);
      return reply.code(201).send({ ...view(created), token });
    },
  );

  app.get(
    '/repos/:owner/:repo/tokens',
    {
      onRequest: adminOnly,
      config: { missing: 'repository' },
      schema: {
        summary: "The repository's read-only tokens (admin): ids, names and creation times, never the tokens",
        tags: ['tokens'],
        security: bearerSecurity,
        params: RepoParams,
        response: { 200: z.object({ tokens: z.array(TokenSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ tokens: (await store.listReadTokens(repoSlugOf(request.params))).map(view) }),
  );

  app.delete(
    '/repos/:owner/:repo/tokens/:id',
    {
      onRequest: adminOnly,
      schema: {
        summary: 'Revoke a read-only token of the repository (admin): its API calls and page sessions stop at once',
        tags: ['tokens'],
        security: bearerSecurity,
        params: RepoParams.and(z.object({ id: ReadTokenIdSchema })),
        response: { 200: TokenSchema, ...errorResponses },
      },
    },
    async (request) => {
      const revoked = await store.revokeReadToken(request.params.id, repoSlugOf(request.params));
      if (revoked === null) throw notFound('token');
      return view(revoked);
    },
  );

  app.delete(
    '/tokens/:id',
    {
      onRequest: adminOnly,
      schema: {
        summary: 'Revoke a read-only token by its id alone (admin), whichever repository it reads',
        tags: ['tokens'],
        security: bearerSecurity,
        params: z.object({ id: ReadTokenIdSchema }),
        response: { 200: TokenSchema, ...errorResponses },
      },
    },
    async (request) => {
      const revoked = await store.revokeReadToken(request.params.id);
      if (revoked === null) throw notFound('token');
      return view(revoked);
    },
  );
};
