import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { Writable } from 'node:stream';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { BlobStore } from '../storage/blob-store';
import type { Queryable } from '../storage/database';
import type { Store } from '../storage/store';
import { createAuthenticator, type Authenticator } from './auth';
import { errorHandler, notFound } from './errors';
import { MAX_WAIT_MS, pollUntil } from './long-poll';
import { GatewayMetrics } from './metrics';
import { registerRateLimits } from './rate-limit';
import { hashToken } from './tokens';
import { idleGuardedBody } from './upload-body';
import { API_PREFIX } from './views';
import { apiRoutes } from './routes/api';
import { codecovRoutes } from './routes/codecov';
import { healthRoutes } from './routes/health';
import { readCommitSource } from '../storage/sources';
import { registerWebAccess } from '../web/access';
import { registerBadges } from '../web/badge';
import { webPages } from '../web/pages';
import { ensureSessionSecret } from '../web/session';
import type { SourceReader } from '../web/sources';

export interface GatewayDeps {
  config: Config;
  store: Store;
  blobs: BlobStore;
  /** For the readiness check only. */
  db: Queryable;
  client: Client;
  adminToken: string;
  /** Signs the pages' session cookies; undefined: TRIBUTARY_SESSION_SECRET, else `<data>/session-secret`. */
  sessionSecret?: string;
  /** pino level, or false for no request log (tests). */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | false;
  /** Where the log goes (standard output by default). */
  logStream?: Writable;
  /** The sources packed with uploads, for the file page (none by default). */
  sources?: SourceReader;
}

/** What route modules share: the dependencies, the authenticator, metrics and URL building. */
export interface RouteContext {
  deps: GatewayDeps;
  auth: Authenticator;
  metrics: GatewayMetrics;
  /** An absolute URL for `path`, under TRIBUTARY_PUBLIC_URL or the request's own origin. */
  url(request: FastifyRequest, path: string): string;
  /** pollUntil for a request: stops when its client goes away, and is counted while it waits. */
  poll<T>(reply: FastifyReply, load: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T>;
}

/** The Fastify instance with zod schemas typing every route. */
export type ZodApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** A group of routes, registered as a plugin with the context they share. */
export type RoutePlugin = FastifyPluginAsync<{ ctx: RouteContext }, RawServerDefault, ZodTypeProvider>;

/** The HTTP gateway (not listening yet): `await app.listen({ host, port })`. */
export async function buildServer(deps: GatewayDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      deps.logLevel === false || deps.logLevel === undefined
        ? false
        : {
            level: deps.logLevel,
            // Tokens must never reach a log, whatever a serializer or a route decides to include.
            // Session cookies too: they name a token, and a signed one is a credential until it expires.
            redact: {
              paths: [
                'req.headers.authorization',
                'headers.authorization',
                'request.headers.authorization',
                'req.headers.cookie',
                'headers.cookie',
                'request.headers.cookie',
                'req.headers["x-upload-token"]',
                'res.headers["set-cookie"]',
                'headers["set-cookie"]',
              ],
              censor: '[redacted]',
            },
            ...(deps.logStream ? { stream: deps.logStream } : {}),
          },
    // Upload bodies are read by the upload route itself, under TRIBUTARY_MAX_UPLOAD_BYTES; this
    // limit is for the small JSON bodies of the other routes.
    bodyLimit: 1024 * 1024,
    trustProxy: false,
    // The router refuses (414) a longer parameter, as sent (percent-encoded), before any schema
    // sees it; its default, 100, is shorter than a nested owner, a Codecov slug or a workflow id
    // (at most 1000 characters, each up to 3 encoded). Each route's schema bounds its own.
    routerOptions: { maxParamLength: 3 * 1000 },
    // Receiving a request (headers and body) is bounded as a whole; answering it is not, so
    // long-polls are untouched. A body that stalls is cut sooner, by the idle guard below.
    requestTimeout: deps.config.api.requestTimeoutMs,
    // Idle sockets, the backstop: above the longest long-poll, which writes nothing while it waits.
    connectionTimeout: MAX_WAIT_MS + 30_000,
  });
  app.server.headersTimeout = deps.config.api.headersTimeoutMs;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send(notFound('route').toBody());
  });

  // Closing waits for open requests: long-polls answer at once instead of holding a shutdown.
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());

  const adminTokenHash = hashToken(deps.adminToken);
  // First: its security headers and session hook must apply to every route registered after.
  await registerWebAccess(app, {
    store: deps.store,
    sessionSecret: deps.sessionSecret ?? (await ensureSessionSecret(deps.config)),
    adminTokenHash,
    sessionTtlMs: deps.config.api.sessionTtlMs,
    publicUrl: deps.config.api.publicUrl,
  });

  const metrics = new GatewayMetrics();
  metrics.instrument(app);
  metrics.watchStore(deps.store);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Tributary API',
        version: '1',
        description: 'Upload coverage reports for a commit, follow their processing, read the merged report.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          codecovToken: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`token <upload token>` as the Codecov uploaders send it (Bearer works too)' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Not global: the plugin would append its hook after the API's authentication hook; ours runs first.
  await app.register(rateLimit, { global: false });
  const auth = createAuthenticator(app, deps.store, adminTokenHash);
  registerRateLimits(app, auth, adminTokenHash, deps.config.api.rateLimitPerMinute);

  // Multipart bodies are read by the upload route straight from the request, with a timer of its own.
  const idleMs = deps.config.api.bodyIdleTimeoutMs;
  app.addHook('preParsing', async (request, reply, payload) => {
    const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    if (!hasBody || /^\s*multipart\//i.test(request.headers['content-type'] ?? '')) return payload;
    const guarded = idleGuardedBody(payload, idleMs);
    reply.raw.once('close', guarded.stop);
    return guarded.body;
  });

  const ctx: RouteContext = {
    deps,
    auth,
    metrics,
    url(request, path) {
      const base = deps.config.api.publicUrl ?? `${request.protocol}://${request.host}`;
      return `${base}${path}`;
    },
    async poll(reply, load, done, timeoutMs) {
      if (timeoutMs <= 0) return load();
      // The response closes first when the client leaves before the answer: stop waiting then.
      const controller = new AbortController();
      const onClose = () => controller.abort();
      reply.raw.once('close', onClose);
      metrics.longPolls.inc();
      try {
        return await pollUntil(load, done, timeoutMs, AbortSignal.any([controller.signal, closing.signal]));
      } finally {
        metrics.longPolls.dec();
        reply.raw.removeListener('close', onClose);
      }
    },
  };
  const typed = app.withTypeProvider<ZodTypeProvider>();
  // Health routes stay at the root, unauthenticated: probes and scrapers carry no token.
  await typed.register(healthRoutes, { ctx });
  await typed.register(apiRoutes, { ctx, prefix: API_PREFIX });
  // The Codecov uploaders' paths are fixed (/upload/…): a drop-in target needs them at the root.
  await typed.register(codecovRoutes, { ctx });
  await registerBadges(app, { store: deps.store, blobs: deps.blobs, defaultBranch: deps.config.pipeline.defaultBranch, adminTokenHash });
  // The web pages at the root (`/`, `/{owner}/{repo}/…`), a plugin of their own under the access
  // layer registered first (its session hook and security headers apply to them).
  const sources: SourceReader = deps.sources ?? { read: (repo, sha, path) => readCommitSource({ store: deps.store, blobs: deps.blobs }, repo, sha, path) };
  await app.register(webPages, { config: deps.config, store: deps.store, blobs: deps.blobs, client: deps.client, adminToken: deps.adminToken, sources });
  return app;
}
