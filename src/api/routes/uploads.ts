import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { registerUploads, UnknownRepositoryError, type RegisteredUpload, type RegisterUploadRequest } from '../../services/register-upload';
import { ConflictError, IdempotencyConflictError } from '../../storage/store';
import { assertCanSee } from '../auth';
import { ApiError, badRequest, ErrorBodySchema, notFound, payloadTooLarge, unauthorized, unsupportedMediaType } from '../errors';
import { WaitSchema } from '../long-poll';
import { BodyIdleTimer, readBounded } from '../upload-body';
import { addField, collectQuery, parseMetadata, UploadQuerySchema, type RawFields } from '../upload-metadata';
import { bearerSecurity, CommitParams, errorResponses, UploadErrorSchema, UploadIdParam, UploadWarningsSchema } from '../schemas';
import type { RouteContext, ZodApp } from '../server';
import { commitPath, uploadError, uploadPath, uploadTimings } from '../views';
import { isGzip, isTerminalUploadState as isTerminal, publicUploadState as publicState, PublicUploadStateSchema } from '../../vocabulary';

const IdempotencyKeySchema = z.string().min(1).max(400).optional();

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
  commitUrl: z.string(),
});

interface ReceivedFile {
  body: Buffer;
  filename?: string;
}

const ACCEPTED_ENCODINGS = new Set(['identity', 'gzip', 'x-gzip']);

export async function registerUploadRoutes(app: ZodApp, ctx: RouteContext): Promise<void> {
  const { store, blobs, client, config } = ctx.deps;
  const limit = config.api.maxUploadBytes;

  // Upload bodies are the client's bytes whatever their type (a JSON report stays unparsed), so
  // this scope has its own parsers: multipart, and everything else handed over as the raw stream.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    await scope.register(multipart, {
      limits: { fileSize: limit, files: 1000, fields: 1000, fieldSize: 64 * 1024 * 1024, parts: 2000 },
    });
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/v1/repos/:owner/:repo/commits/:sha/uploads',
      {
        // Authenticated before the body is read: an unknown caller never gets to send 256 MiB.
        onRequest: async (request) => {
          const p = request.params as { owner?: string; repo?: string };
          await ctx.auth.requireRepository(request, `${p.owner}/${p.repo}`);
        },
        schema: {
          summary: 'Upload coverage reports for a commit',
          description:
            'The body is one report as raw bytes (any content type but multipart; gzip as sent or with Content-Encoding: gzip), ' +
            'or multipart/form-data with one upload per file part (a part named `files` is the repository file list) and metadata fields. ' +
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
        const repo = `${request.params.owner}/${request.params.repo}`;
        const sha = request.params.sha;
        const keyHeader = request.headers['idempotency-key'];
        const keyParsed = IdempotencyKeySchema.safeParse(Array.isArray(keyHeader) ? keyHeader.join(',') : keyHeader);
        if (!keyParsed.success) throw badRequest('Idempotency-Key', 'Idempotency-Key must be 1 to 400 characters');
        const idempotencyKey = keyParsed.data;

        const fields = collectQuery(request.query);
        const files: ReceivedFile[] = [];
        if (request.isMultipart()) {
          await readMultipart(request, fields, files, limit, config.api.bodyIdleTimeoutMs);
          if (files.length === 0) throw badRequest('file', 'the multipart body has no file part');
        } else {
          files.push({ body: await readRawBody(request, limit) });
        }
        const meta = parseMetadata(fields);

        const multi = request.isMultipart();
        const requests: RegisterUploadRequest[] = files.map((file, index) => ({
          repo,
          sha,
          body: file.body,
          ...meta,
          name: meta.name ?? file.filename,
          idempotencyKey: idempotencyKey === undefined ? undefined : multi ? `${idempotencyKey}:${index}` : idempotencyKey,
          idempotencyScope: multi ? 'multipart' : 'raw',
        }));
        let registered: RegisteredUpload[];
        try {
          // One at a time, in the order sent: sessions follow the order of the parts.
          registered = await registerUploads({ client, blobs, store, config }, requests);
        } catch (err) {
          if (err instanceof UnknownRepositoryError) throw notFound('repository');
          if (err instanceof IdempotencyConflictError) {
            const part = requests.findIndex((r) => r.idempotencyKey === err.idempotencyKey);
            const what = multi ? `file part ${part} (key ${JSON.stringify(err.idempotencyKey)})` : 'an upload';
            throw new ApiError(
              409,
              'idempotency_conflict',
              `Idempotency-Key ${JSON.stringify(idempotencyKey)} was already used on this commit for ${what} with a different body ` +
                `(upload ${err.uploadId}); a retry must send the same bytes, a new upload needs a new key`,
              'Idempotency-Key',
            );
          }
          if (err instanceof ConflictError) throw new ApiError(409, 'conflict', err.message, 'Idempotency-Key');
          throw err;
        }
        const uploads = registered.map((r, index) => {
          if (r.created) {
            ctx.metrics.uploadsAccepted.inc();
            ctx.metrics.uploadBytes.inc(files[index]!.body.byteLength);
          }
          return {
            uploadId: r.uploadId,
            session: r.session,
            state: 'uploaded' as const,
            statusUrl: ctx.url(request, uploadPath(r.uploadId)),
            created: r.created,
          };
        });
        return reply.code(202).send({ uploads, commitUrl: ctx.url(request, commitPath(repo, sha)) });
      },
    );
  });

  app.get(
    '/api/v1/uploads/:id',
    {
      onRequest: async (request) => {
        if ((await ctx.auth.identify(request)).kind === 'unknown') throw unauthorized();
      },
      schema: {
        summary: "An upload's state, error, warnings and timings; ?wait= long-polls for a terminal state",
        tags: ['uploads'],
        security: bearerSecurity,
        params: UploadIdParam,
        querystring: z.object({ wait: WaitSchema }),
        response: { 200: UploadStatusSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const caller = await ctx.auth.identify(request);
      const first = await store.getUpload(request.params.id);
      if (first === null) throw notFound('upload');
      assertCanSee(caller, first.repo, 'upload');
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
        commitUrl: ctx.url(request, commitPath(u.repo, u.sha)),
      };
    },
  );
}

async function readRawBody(request: FastifyRequest, limit: number): Promise<Buffer> {
  const type = request.headers['content-type'] ?? '';
  if (/^\s*multipart\//i.test(type)) {
    throw unsupportedMediaType(`${type.split(';')[0]} is not supported: send multipart/form-data or a raw body`);
  }
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (!ACCEPTED_ENCODINGS.has(encoding)) {
    throw unsupportedMediaType(`Content-Encoding ${encoding} is not supported: send gzip or plain bytes`);
  }
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw payloadTooLarge(limit);
  const stream = (request.body as Readable | undefined) ?? request.raw;
  const body = await readBounded(stream, limit);
  if (body.byteLength === 0) throw badRequest('body', 'the upload is empty');
  // Stored as sent (the parser decompresses); only a body claiming gzip must look like it.
  if (encoding !== 'identity' && !isGzip(body)) throw badRequest('body', 'Content-Encoding is gzip but the body is not gzip data');
  return body;
}

async function readMultipart(request: FastifyRequest, fields: RawFields, files: ReceivedFile[], limit: number, idleMs: number): Promise<void> {
  // Multipart reads the request itself, past the server's idle guard: it gets a timer of its own.
  const idle = new BodyIdleTimer(idleMs);
  const parts = request.parts()[Symbol.asyncIterator]();
  let total = 0;
  try {
    for (let next = await idle.race(parts.next()); next.done !== true; next = await idle.race(parts.next())) {
      const part = next.value;
      idle.touch();
      if (part.type === 'field') {
        if (typeof part.value !== 'string') throw badRequest(part.fieldname, `${part.fieldname}: expected text`);
        total += Buffer.byteLength(part.value);
        if (total > limit) throw payloadTooLarge(limit);
        addField(fields, part.fieldname, part.value);
        continue;
      }
      // The whole request counts against the limit, not each part alone.
      const body = await idle.race(readBounded(part.file, limit - total, limit, idle));
      total += body.byteLength;
      if (part.fieldname === 'files') {
        addField(fields, 'files', body.toString('utf8'));
        continue;
      }
      if (body.byteLength === 0) throw badRequest(part.fieldname, `${part.fieldname}: the file part is empty`);
      files.push({ body, filename: part.filename || undefined });
    }
  } catch (err) {
    // As `for await` would: let the parser release the request (not awaited: a part may still
    // be waiting on a stalled client).
    void parts.return?.(undefined).catch(() => undefined);
    throw err;
  } finally {
    idle.stop();
  }
}
