import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { splitPayload } from '../../codecov/payload';
import { CodecovPayloadError } from '../../codecov/payload-stream';
import {
  checkUploadLocation,
  CommitBodySchema,
  EmptyBodySchema,
  EncodedSlugSchema,
  given,
  GitServiceSchema,
  LegacyQuerySchema,
  pullNumber,
  ReportBodySchema,
  splitFlags,
  UploadBodySchema,
  UploadCoverageBodySchema,
  uploadLocationPath,
  uploadLocationSecret,
} from '../../codecov/protocol';
import { nudgeNotifier } from '../../services/notify';
import { acceptCodecovPayload, PendingUploadUsedError } from '../../services/codecov-ingest';
import type { CommitMetadata, PendingMetadata } from '../../storage/store';
import { CommitShaSchema, RepoSlugSchema, UploadIdSchema } from '../../vocabulary';
import { ApiError, badRequest, ErrorBodySchema, notFound, payloadTooLarge } from '../errors';
import { canWrite } from '../auth';
import { Sha } from '../schemas';
import type { RoutePlugin } from '../server';
import { drain, meteredBody, rawBlobSink, readBounded } from '../upload-body';
import { parseMetadata, type RawFields } from '../upload-metadata';
import { commitPath, uploadPath } from '../views';

/**
 * The Codecov uploaders' protocol (codecov-cli's upload-process, its create-commit, create-report
 * and do-upload steps, upload-coverage, --legacy, send-notifications, empty-upload), at the root:
 * their paths are /upload/…. Each POST answers an upload location of ours, `PUT /upload/put/{id}`
 * signed with an HMAC over the pending upload's id and expiry; the PUT's payload is split into
 * Tributary uploads by acceptCodecovPayload. Errors keep the API's JSON body, which the clients
 * print as it is.
 */

const TAG = 'codecov';
const tokenSecurity = [{ codecovToken: [] as string[] }];

const SlugParams = z.object({ service: GitServiceSchema, slug: z.string().max(400) });
const CommitParams = SlugParams.extend({ sha: Sha });
const UploadParams = CommitParams.extend({ code: z.string().max(200) });

const LocationSchema = z.object({ raw_upload_location: z.string(), url: z.string() });
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema, 429: ErrorBodySchema };

export const codecovRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, blobs, client, config, adminToken } = ctx.deps;
  const secret = uploadLocationSecret(config.api.uploadUrlSecret, adminToken);
  const payloadLimits = { maxInflatedBytes: config.parseLimits.maxDecompressedBytes, maxFiles: 1000 };

  app.addHook('onRequest', async (request) => {
    // The PUT carries no token: its signature is its authority.
    if (request.url.startsWith('/upload/put/')) return;
    let caller;
    try {
      caller = await ctx.auth.identify(request);
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 401) throw noToken();
      throw err;
    }
    if (caller.kind === 'unknown') throw new ApiError(401, 'unauthorized', 'unknown upload token: use the Tributary upload token of this repository');
  });

  /** The repository a request names, after its caller may upload to it (404 otherwise, as Codecov does). */
  async function repositoryOf(request: FastifyRequest, slug: string | undefined): Promise<string> {
    const caller = request.caller;
    if (caller === null || caller.kind === 'unknown') throw noToken();
    let decoded: string;
    if (slug === undefined) {
      if (caller.kind !== 'repository' && caller.kind !== 'reader') throw badRequest('slug', 'slug: the admin token needs the repository slug');
      decoded = caller.slug;
    } else decoded = slug;
    if (!RepoSlugSchema.safeParse(decoded).success) {
      throw new ApiError(404, 'not_found', `repository ${decoded} not found: Tributary repositories are OWNER/NAME (OWNER may be a group path, group/subgroup)`);
    }
    // A read token uploads nothing: it is answered like a token of another repository.
    if (!canWrite(caller, decoded) || (await store.getRepository(decoded)) === null) {
      throw new ApiError(404, 'not_found', `repository ${decoded} not found for this token`);
    }
    return decoded;
  }

  const encodedRepository = (request: FastifyRequest, encoded: string) => {
    const parsed = EncodedSlugSchema.safeParse(encoded);
    if (!parsed.success) throw badRequest('slug', `slug: expected owner::::repo, got ${JSON.stringify(encoded.slice(0, 100))}`);
    return repositoryOf(request, parsed.data);
  };

  const commitSha = (raw: string | undefined) => {
    const parsed = CommitShaSchema.safeParse(raw?.toLowerCase());
    if (!parsed.success) throw badRequest('commitid', 'commitid: expected a hex commit sha');
    return parsed.data;
  };

  /** Validated once, at the POST, so a PUT never fails for the metadata it carries. */
  function pendingMetadata(fields: { flags?: readonly string[] | string | null; name?: unknown; build?: unknown; job?: unknown; branch?: unknown; ciUrl?: unknown; ciService?: unknown }): PendingMetadata {
    const raw: RawFields = new Map();
    const put = (k: string, v: unknown) => {
      const s = given(typeof v === 'string' || typeof v === 'number' ? v : undefined);
      if (s !== undefined) raw.set(k, [s]);
    };
    raw.set('flags', splitFlags(fields.flags));
    put('name', fields.name);
    put('build', fields.build);
    put('job', fields.job);
    put('branch', fields.branch);
    put('ci_url', fields.ciUrl);
    const meta = parseMetadata(raw);
    const ciService = given(typeof fields.ciService === 'string' ? fields.ciService : undefined);
    return {
      flags: meta.flags,
      name: meta.name,
      build: meta.build,
      job: meta.job,
      branch: meta.branch,
      ciUrl: meta.ciUrl,
      ciService: ciService === undefined ? undefined : z.string().max(200).parse(ciService),
    };
  }

  async function announce(request: FastifyRequest, repo: string, sha: string, metadata: PendingMetadata, commit: CommitMetadata) {
    await store.recordCommitMetadata(repo, sha, commit);
    const id = randomUUID();
    const expiresAtSec = Math.floor((Date.now() + config.api.uploadUrlTtlMs) / 1000);
    await store.createPendingUpload({ id, repo, sha, metadata, expiresAt: new Date(expiresAtSec * 1000) });
    return { location: ctx.url(request, uploadLocationPath(secret, id, expiresAtSec)), commitUrl: ctx.url(request, commitPath(repo, sha)) };
  }

  const commitOf = (m: PendingMetadata, extra: { branch?: string | null; parent?: string | null; pullid?: number }): CommitMetadata => ({
    branch: given(extra.branch) ?? m.branch,
    parentSha: given(extra.parent),
    pullRequest: extra.pullid,
    ciService: m.ciService,
    build: m.build,
    job: m.job,
    ciUrl: m.ciUrl,
  });

  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.post(
    '/upload/:service/:slug/commits',
    {
      schema: {
        summary: 'Codecov create-commit: records the commit and its branch, parent and pull request',
        tags: [TAG],
        security: tokenSecurity,
        params: SlugParams,
        body: CommitBodySchema,
        response: { 201: z.object({ commitid: z.string(), branch: z.string().nullable(), pullid: z.number().nullable(), parent_commit_id: z.string().nullable() }), ...errors },
      },
    },
    async (request, reply) => {
      const repo = await encodedRepository(request, request.params.slug);
      const sha = commitSha(request.body.commitid);
      const m = await store.recordCommitMetadata(repo, sha, {
        branch: given(request.body.branch),
        parentSha: given(request.body.parent_commit_id),
        pullRequest: request.body.pullid,
      });
      // An existing commit is answered the same: the client fails on anything but 2xx.
      return reply.code(201).send({ commitid: sha, branch: m.branch ?? null, pullid: m.pullRequest ?? null, parent_commit_id: m.parentSha ?? null });
    },
  );

  typed.post(
    '/upload/:service/:slug/commits/:sha/reports',
    {
      schema: {
        summary: 'Codecov create-report: a report code for the commit (every code is accepted; one report per commit)',
        tags: [TAG],
        security: tokenSecurity,
        params: CommitParams,
        body: ReportBodySchema,
        response: { 201: z.object({ code: z.string(), commitid: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      const repo = await encodedRepository(request, request.params.slug);
      await store.recordCommitMetadata(repo, request.params.sha, {});
      return reply.code(201).send({ code: given(request.body.code) ?? 'default', commitid: request.params.sha });
    },
  );

  typed.post(
    '/upload/:service/:slug/commits/:sha/reports/:code/uploads',
    {
      schema: {
        summary: 'Codecov do-upload: announces an upload; PUT its payload to raw_upload_location',
        tags: [TAG],
        security: tokenSecurity,
        params: UploadParams,
        body: UploadBodySchema,
        response: { 201: LocationSchema, ...errors },
      },
    },
    async (request, reply) => {
      const repo = await encodedRepository(request, request.params.slug);
      const b = request.body;
      const meta = pendingMetadata({ flags: b.flags, name: b.name, build: b.build_code ?? b.cli_args?.build_code, job: b.job_code, ciUrl: b.ci_url, ciService: b.ci_service });
      const { location, commitUrl } = await announce(request, repo, request.params.sha, meta, commitOf(meta, {}));
      return reply.code(201).send({ raw_upload_location: location, url: commitUrl });
    },
  );

  typed.post(
    '/upload/:service/:slug/upload-coverage',
    {
      schema: {
        summary: 'Codecov upload-coverage: commit, report and upload in one call; PUT the payload to raw_upload_location',
        tags: [TAG],
        security: tokenSecurity,
        params: SlugParams,
        body: UploadCoverageBodySchema,
        response: { 201: LocationSchema, ...errors },
      },
    },
    async (request, reply) => {
      const repo = await encodedRepository(request, request.params.slug);
      const b = request.body;
      const sha = commitSha(b.commitid);
      const meta = pendingMetadata({ flags: b.flags, name: b.name, build: b.build_code ?? b.cli_args?.build_code, job: b.job_code, branch: b.branch, ciUrl: b.ci_url, ciService: b.ci_service });
      const { location, commitUrl } = await announce(request, repo, sha, meta, commitOf(meta, { branch: b.branch, parent: b.parent_commit_id, pullid: b.pullid }));
      return reply.code(201).send({ raw_upload_location: location, url: commitUrl });
    },
  );

  typed.post(
    '/upload/:service/:slug/commits/:sha/upload-complete',
    {
      schema: {
        summary: "Codecov send-notifications: the uploader is done with the commit (it settles and notifies once its uploads are processed); answers its uploads so far",
        tags: [TAG],
        security: tokenSecurity,
        params: CommitParams,
        body: EmptyBodySchema.optional(),
        response: {
          200: z.object({ uploads_total: z.number(), uploads_success: z.number(), uploads_processing: z.number(), uploads_error: z.number() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const repo = await encodedRepository(request, request.params.slug);
      // codecov-cli's upload_completion_logic: POST /upload/{service}/{slug}/commits/{sha}/upload-complete
      // with {cli_args, version}; for us it is the uploader's "done".
      await nudgeNotifier({ client, config }, repo, request.params.sha.toLowerCase(), { kind: 'done' });
      const uploads = await store.listUploads(repo, request.params.sha);
      const count = (states: readonly string[]) => uploads.filter((u) => states.includes(u.state)).length;
      return {
        uploads_total: uploads.length,
        uploads_success: count(['merged']),
        uploads_processing: count(['uploaded', 'processing', 'processed']),
        uploads_error: count(['error', 'cancelled']),
      };
    },
  );

  typed.post(
    '/upload/:service/:slug/commits/:sha/empty-upload',
    {
      schema: {
        summary: 'Codecov empty-upload: acknowledged; a commit without uploads has no report',
        tags: [TAG],
        security: tokenSecurity,
        params: CommitParams,
        body: EmptyBodySchema.optional(),
        response: { 200: z.object({ result: z.string(), non_ignored_files: z.array(z.string()) }), ...errors },
      },
    },
    async (request) => {
      const repo = await encodedRepository(request, request.params.slug);
      await store.recordCommitMetadata(repo, request.params.sha, {});
      return { result: 'Tributary records no empty uploads: the commit has no report until coverage is uploaded', non_ignored_files: [] };
    },
  );

  // The legacy upload and the PUT take their bodies as streams (any content type, or none).
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const raw = scope.withTypeProvider<ZodTypeProvider>();

    raw.post(
      '/upload/v4',
      {
        config: { tokenInQuery: true },
        schema: {
          summary: 'Codecov legacy upload (--legacy, the bash and Node uploaders): answers "<commit URL>\\n<PUT URL>"',
          description: 'Token in X-Upload-Token, Authorization or ?token=. Flags repeated or comma-joined.',
          tags: [TAG],
          security: tokenSecurity,
          querystring: LegacyQuerySchema,
          response: { 200: z.string(), ...errors },
        },
      },
      async (request, reply) => {
        // Its body is the client's arguments, of no use here; read (bounded) so the socket stays usable.
        await readBounded((request.body as Readable | undefined) ?? request.raw, 1024 * 1024);
        const q = request.query;
        const repo = await repositoryOf(request, given(q.slug));
        const sha = commitSha(q.commit);
        const meta = pendingMetadata({ flags: q.flags, name: q.name, build: q.build, job: q.job, branch: q.branch, ciUrl: q.build_url, ciService: q.service });
        let pr: number | undefined;
        try {
          pr = pullNumber(given(q.pr));
        } catch {
          throw badRequest('pr', 'pr: expected a pull request number');
        }
        const { location, commitUrl } = await announce(request, repo, sha, meta, commitOf(meta, { pullid: pr }));
        // Exactly two parts, no trailing newline: the client splits on "\n" and unpacks two.
        return reply.code(200).type('text/plain; charset=utf-8').send(`${commitUrl}\n${location}`);
      },
    );

    raw.put(
      '/upload/put/:id',
      {
        schema: {
          summary: 'The upload location: the payload of an announced upload (signed, short-lived, single use)',
          description:
            'The v1 JSON payload or the legacy text, gzip or plain. The same payload again answers the same uploads; another payload is 409.',
          tags: [TAG],
          params: z.object({ id: UploadIdSchema }),
          querystring: z.object({ expires: z.string().max(20), signature: z.string().max(128) }),
          response: {
            200: z.object({ uploads: z.array(z.object({ uploadId: z.string(), session: z.number(), statusUrl: z.string() })), commitUrl: z.string() }),
            400: ErrorBodySchema,
            403: ErrorBodySchema,
            404: ErrorBodySchema,
            409: ErrorBodySchema,
            413: ErrorBodySchema,
          },
        },
      },
      async (request) => {
        const { id } = request.params;
        const check = checkUploadLocation(secret, id, request.query.expires, request.query.signature, Date.now());
        if (check === 'forged') throw new ApiError(403, 'forbidden', 'this upload location is not valid: its signature does not match');
        if (check === 'expired') throw new ApiError(403, 'expired', 'this upload location has expired: run the upload again for a new one');
        const pending = await store.getPendingUpload(id);
        if (pending === null) throw notFound('upload location');
        const declared = Number(request.headers['content-length'] ?? NaN);
        const limit = config.api.maxUploadBytes;
        if (Number.isFinite(declared) && declared > limit) throw payloadTooLarge(limit);
        const source = (request.body as Readable | undefined) ?? request.raw;
        try {
          const received = meteredBody(source, limit);
          const payload = await splitPayload(received.chunks, rawBlobSink(blobs), payloadLimits);
          const { uploads } = await acceptCodecovPayload({ client, blobs, store, config }, pending, payload, received.digest());
          if (uploads.some((u) => u.created)) ctx.metrics.uploadsAccepted.inc(uploads.filter((u) => u.created).length);
          return {
            uploads: uploads.map((u) => ({ uploadId: u.uploadId, session: u.session, statusUrl: ctx.url(request, uploadPath(u.uploadId)) })),
            commitUrl: ctx.url(request, commitPath(pending.repo, pending.sha)),
          };
        } catch (err) {
          if (err instanceof CodecovPayloadError) throw err.tooLarge ? new ApiError(413, 'payload_too_large', err.message) : badRequest('body', err.message);
          if (err instanceof PendingUploadUsedError) throw new ApiError(409, 'conflict', err.message);
          throw err;
        } finally {
          drain(source);
        }
      },
    );
  });
};

function noToken(): ApiError {
  return new ApiError(401, 'unauthorized', "an upload token is required: pass the repository's Tributary upload token (codecov-cli -t, the action's token:)");
}
