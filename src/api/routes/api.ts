import { unauthorized } from '../errors';
import type { RoutePlugin } from '../server';
import { commitRoutes } from './commits';
import { compareRoutes } from './compare';
import { feedbackRoutes } from './feedback';
import { queueRoutes } from './queue';
import { repoRoutes } from './repos';
import { sourceRoutes } from './sources';
import { taskRoutes } from './tasks';
import { tokenRoutes } from './tokens';
import { uploadRoutes } from './uploads';
import { verificationRoutes } from './verifications';

/**
 * Every route under the API prefix. All of them need a known caller: resolved here, after the
 * root's rate limit (which may already have asked) and before each route's own check (admin, or
 * this repository) and before any body is read.
 */
export const apiRoutes: RoutePlugin = async (app, { ctx }) => {
  app.addHook('onRequest', async (request) => {
    if ((await ctx.auth.identify(request)).kind === 'unknown') throw unauthorized();
  });
  await app.register(repoRoutes, { ctx });
  await app.register(uploadRoutes, { ctx });
  await app.register(commitRoutes, { ctx });
  await app.register(compareRoutes, { ctx });
  await app.register(taskRoutes, { ctx });
  await app.register(queueRoutes, { ctx });
  await app.register(verificationRoutes, { ctx });
  await app.register(feedbackRoutes, { ctx });
  await app.register(tokenRoutes, { ctx });
  await app.register(sourceRoutes, { ctx });
};
