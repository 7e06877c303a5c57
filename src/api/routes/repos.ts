import { z } from 'zod';
import { mergeSecrets, MissingSecretError, redactSettings } from '../../feedback/settings';
import { RepoSettingsSchema } from '../../storage/store';
import { NewRepoSlugSchema } from '../../vocabulary';
import { adminOnly, confinedTo, knownCaller } from '../auth';
import { badRequest, ErrorBodySchema, notFound } from '../errors';
import type { RepoSettings } from '../../storage/rows';
import { bearerSecurity, errorResponses, ModeOrNull, RepoParams, repoSlugOf } from '../schemas';
import type { RoutePlugin } from '../server';
import { generateToken, hashToken } from '../tokens';

export const repoRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, config } = ctx.deps;

  app.post(
    '/repos',
    {
      onRequest: adminOnly,
      config: { conflictField: 'slug' },
      schema: {
        summary: 'Create a repository (admin); answers its upload token, once',
        tags: ['repositories'],
        security: bearerSecurity,
        body: z.object({ slug: NewRepoSlugSchema, settings: RepoSettingsSchema.optional() }),
        response: {
          201: z.object({ slug: z.string(), uploadToken: z.string() }),
          ...errorResponses,
          409: ErrorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const uploadToken = generateToken();
      const settings = withSecrets(request.body.settings ?? {}, {});
      const repo = await store.createRepository(request.body.slug, hashToken(uploadToken), settings);
      return reply.code(201).send({ slug: repo.slug, uploadToken });
    },
  );

  app.get(
    '/repos',
    {
      schema: {
        summary: 'The repositories the caller may see: all of them for the admin token, its own for an upload or read token',
        tags: ['repositories'],
        security: bearerSecurity,
        response: {
          200: z.object({
            repos: z.array(z.object({ slug: z.string(), mode: ModeOrNull, settings: RepoSettingsSchema, createdAt: z.string() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const caller = knownCaller(request);
      const visible = await store.listRepositories(confinedTo(caller));
      return {
        repos: visible.map(({ repository, mode }) => ({
          slug: repository.slug,
          mode,
          settings: redactSettings(repository.settings),
          createdAt: repository.createdAt.toISOString(),
        })),
      };
    },
  );

  app.put(
    '/repos/:owner/:repo/settings',
    {
      onRequest: adminOnly,
      config: { missing: 'repository' },
      schema: {
        summary: "Replace the repository's settings (admin): path fixes, ignores, default branch, urgent, public, flags, readiness, statuses, GitHub, webhooks",
        description:
          'A commit of the default branch (`defaultBranch`, else TRIBUTARY_DEFAULT_BRANCH) is processed before pull requests and other branches when workers are saturated; every commit of an `urgent` repository before both. Applies to commit workflows started afterwards. ' +
          'A `public` repository\'s pages and badge are readable without a token; its API is not. ' +
          '`flags` declares the upload flags (`[{"name", "carryforward"}]`, names as upload flags, each once): a commit whose merged uploads lack a carryforward flag carries that flag\'s sessions from its nearest complete ancestor, at most `carryforwardDepth` (1-100, default 10) parents up. Decided once per commit, after its first batch.',
        tags: ['repositories'],
        security: bearerSecurity,
        params: RepoParams,
        body: RepoSettingsSchema,
        response: { 200: z.object({ slug: z.string(), settings: RepoSettingsSchema }), ...errorResponses },
      },
    },
    async (request) => {
      const slug = repoSlugOf(request.params);
      const stored = await store.getRepository(slug);
      if (stored === null) throw notFound('repository');
      // Two writers at once: the last one wins, as with any replace; secrets kept are the stored ones.
      const repo = await store.setRepositorySettings(slug, withSecrets(request.body, stored.settings));
      if (repo === null) throw notFound('repository');
      return { slug, settings: redactSettings(repo.settings) };
    },
  );

  app.get(
    '/repos/:owner/:repo/settings',
    {
      onRequest: adminOnly,
      schema: {
        summary: "The repository's settings (admin); secrets (github.token, webhook secrets) answered as \"***\"",
        tags: ['repositories'],
        security: bearerSecurity,
        params: RepoParams,
        response: { 200: z.object({ slug: z.string(), settings: RepoSettingsSchema }), ...errorResponses },
      },
    },
    async (request) => {
      const slug = repoSlugOf(request.params);
      const repo = await store.getRepository(slug);
      if (repo === null) throw notFound('repository');
      return { slug, settings: redactSettings(repo.settings) };
    },
  );

  app.put(
    '/repos/:owner/:repo/mode',
    {
      onRequest: adminOnly,
      config: { missing: 'repository' },
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
      const slug = repoSlugOf(request.params);
      await store.setModeOverride(slug, request.body.mode);
      return { slug, mode: request.body.mode };
    },
  );

  app.get(
    '/flags',
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
};

function withSecrets(incoming: RepoSettings, stored: RepoSettings): RepoSettings {
  try {
    return mergeSecrets(incoming, stored);
  } catch (err) {
    if (err instanceof MissingSecretError) throw badRequest(err.field, err.message);
    throw err;
  }
}
