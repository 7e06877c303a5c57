import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { registerUploads, type RegisteredUpload, type RegisterUploadRequest } from '../../services/register-upload';
import { estimatedWaitSeconds, type Store, type UploadRow } from '../../storage/store';
import { assertCanSee, knownCaller, repositoryWriteAccess } from '../auth';
import { ErrorBodySchema, notFound } from '../errors';
import { partKey } from '../idempotency';
import { WaitQuery } from '../long-poll';
import { idempotencyKeyOf, readUploadBody, type ReceivedUpload } from '../upload-request';
import { discardRawBodies } from '../upload-body';
import { collectQuery, parseMetadata, UploadQuerySchema } from '../upload-metadata';
import { bearerSecurity, CommitParams, errorResponses, repoSlugOf, UploadErrorSchema, UploadIdParam, UploadWarningsSchema } from '../schemas';
import type { RouteContext, RoutePlugin } from '../server';
import { commitPath, uploadError, uploadPath, uploadTimings } from '../views';
import { isTerminalUploadState as isTerminal, publicUploadState as publicState, PublicUploadStateSchema } from '../../vocabulary';

const AcceptedSchema = z.object({
  uploads: z.array(
    z.object({
      uploadId: z.string(),
      session: z.number().int(),
      state: z.literal('uploaded'),
      statusUrl: z.string(),
      created: z.boolean(),
    }),
  ),
  commitUrl: z.string(),
});

const UploadStatusSchema = z.object({
  uploadId: z.string(),
  repo: z.string(),
  sha: z.string(),
  session: z.number().int(),
  state: PublicUploadStateSchema,
  error: UploadErrorSchema,
  warnings: UploadWarningsSchema,
  timings: z.object({
    createdAt: z.string().nullable(),
    processingStartedAt: z.string().nullable(),
    processedAt: z.string().nullable(),
    mergedAt: z.string().nullable(),
  }),
  queuedFor: z
    .number()
    .nonnegative()
    .nullable()
    .describe('seconds from registration to processing started; while waiting, so far; null if processing never started'),
  estimatedWait: z
    .number()
    .nonnegative()
    .nullable()
    .describe('while waiting: seconds until its processing should start, from the uploads ahead of it and the recent merge rate (null: no recent merges); else null'),
  commitUrl: z.string(),
});

type Accepted = z.infer<typeof AcceptedSchema>;

/**
 * One registration per report, in the order sent (sessions follow it); a part's key is its own.
 * Every part carries the request's commit metadata; registerUploads records it once.
 */
function registrations(repo: string, sha: string, key: string | undefined, received: ReceivedUpload): RegisterUploadRequest[] {
  const meta = parseMetadata(received.fields);
  return received.files.map((file, index) => ({
    repo,
    sha,
    body: file.body,
    ...meta,
    name: meta.name ?? file.filename,
    idempotencyKey: key === undefined ? undefined : received.multipart ? partKey(key, index) : key,
    idempotencyScope: received.multipart ? 'multipart' : 'raw',
  }));
}

/** The 202 answer; uploads answered again from their key are not counted again. */
function accepted(ctx: RouteContext, request: FastifyRequest, repo: string, sha: string, received: ReceivedUpload, registered: readonly RegisteredUpload[]): Accepted {
  const uploads = registered.map((r, index) => {
    if (r.created) {
      ctx.metrics.uploadsAccepted.inc();
      ctx.metrics.uploadBytes.inc(received.files[index]!.body.bytes);
    }
    return {
      uploadId: r.uploadId,
      session: r.session,
      state: 'uploaded' as const,
      statusUrl: ctx.url(request, uploadPath(r.uploadId)),
      created: r.created,
    };
  });
  return { uploads, commitUrl: ctx.url(request, commitPath(repo, sha)) };
}

/** How long the upload waited (or has waited) for processing, and while waiting, how much longer. */
async function queueFigures(store: Store, u: UploadRow): Promise<{ queuedFor: number | null; estimatedWait: number | null }> {
  const seconds = (from: Date, to: Date) => Math.max(0, (to.getTime() - from.getTime()) / 1000);
  if (u.state !== 'uploaded') return { queuedFor: u.processingStartedAt === null ? null : seconds(u.createdAt, u.processingStartedAt), estimatedWait: null };
  const [{ at, windows }, ahead] = await Promise.all([store.queueWindows(), store.waitingAhead(u.uploadId)]);
  return { queuedFor: seconds(u.createdAt, at), estimatedWait: estimatedWaitSeconds(ahead, windows) };
}

export const uploadRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, blobs, client, config } = ctx.deps;
  const limits = { maxBytes: config.api.maxUploadBytes, idleMs: config.api.bodyIdleTimeoutMs };

  // Upload bodies are the client's bytes whatever their type (a JSON report stays unparsed), so
  // this scope has its own parsers: multipart, and everything else handed over as the raw stream.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    await scope.register(multipart, {
      limits: { fileSize: limits.maxBytes, files: 1000, fields: 1000, fieldSize: 64 * 1024 * 1024, parts: 2000 },
    });
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    scope.withTypeProvider<ZodTypeProvider>().post(
      '/repos/:owner/:repo/commits/:sha/uploads',
      {
        // Authenticated before the body is read: an unknown caller never gets to send 256 MiB.
        onRequest: repositoryWriteAccess,
        config: { conflictField: 'Idempotency-Key' },
        schema: {
          summary: 'Upload coverage reports for a commit',
          description:
            'The body is one report as raw bytes (any content type but multipart; gzip as sent or with Content-Encoding: gzip), ' +
            'or multipart/form-data with one upload per file part (a part named `files` is the repository file list) and metadata fields. ' +
            'The commit fields (branch, parent, pr, ci_service, build, job, ci_url) are recorded for the commit: the first upload giving a value sets it, later ones fill gaps. ' +
            'An Idempotency-Key header makes a retry with the same body answer with the same upload; the same key with a different body is ' +
            '409 idempotency_conflict and changes nothing. Raw and multipart keys are separate (a multipart part\'s key is key + ":" + part index).',
          tags: ['uploads'],
          security: bearerSecurity,
          params: CommitParams,
          querystring: UploadQuerySchema,
          response: { 202: AcceptedSchema, ...errorResponses, 409: ErrorBodySchema, 413: ErrorBodySchema, 415: ErrorBodySchema },
        },
      },
      async (request, reply) => {
        const repo = repoSlugOf(request.params);
        const { sha } = request.params;
        const key = idempotencyKeyOf(request);
        const received = await readUploadBody(request, collectQuery(request.query), limits, blobs);
        let reqs: RegisterUploadRequest[];
        try {
          reqs = registrations(repo, sha, key, received);
        } catch (err) {
          // Multipart metadata arrives with the bodies: a bad field is known only once they are stored.
          await discardRawBodies(blobs, received.files.map((f) => f.body));
          throw err;
        }
        const registered = await registerUploads({ client, blobs, store, config, log: request.log }, reqs);
        return reply.code(202).send(accepted(ctx, request, repo, sha, received, registered));
      },
    );
  });

  app.get(
    '/uploads/:id',
    {
      schema: {
        summary: "An upload's state, error, warnings and timings; ?wait= long-polls for a terminal state",
        tags: ['uploads'],
        security: bearerSecurity,
        params: UploadIdParam,
        querystring: WaitQuery,
        response: { 200: UploadStatusSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const first = await store.getUpload(request.params.id);
      if (first === null) throw notFound('upload');
      assertCanSee(knownCaller(request), first.repo, 'upload');
      const u = isTerminal(first.state)
        ? first
        : await ctx.poll(reply, async () => (await store.getUpload(first.uploadId)) ?? first, (row) => isTerminal(row.state), request.query.wait);
      return {
        uploadId: u.uploadId,
        repo: u.repo,
        sha: u.sha,
        session: u.session,
        state: publicState(u.state),
        error: uploadError(u),
        warnings: u.warnings,
        timings: uploadTimings(u),
        ...(await queueFigures(store, u)),
        commitUrl: ctx.url(request, commitPath(u.repo, u.sha)),
      };
    },
  );
};
