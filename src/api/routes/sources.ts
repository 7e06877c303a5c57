import { z } from 'zod';
import { createPathResolver, uploadPathOptions } from '../../coverage/paths';
import { MAX_SOURCE_FILE_BYTES, MAX_SOURCE_FILES, readCommitSource, saveCommitSources, SourcePathSchema } from '../../storage/sources';
import { canWrite, knownCaller, repositoryAccess, assertCanSee } from '../auth';
import { ErrorBodySchema, forbidden, notFound } from '../errors';
import { bearerSecurity, CommitParams, errorResponses, repoSlugOf, UploadIdParam } from '../schemas';
import type { RoutePlugin } from '../server';

/** What `tributary upload --sources` sends for one upload: the report's paths as the report names them, with their text. */
export const SourcesBodySchema = z.object({
  /** Cobertura `<source>` bases of the report, so its relative paths resolve as the processor resolves them. */
  sourceBases: z.array(z.string().min(1).max(4096)).max(100).optional(),
  files: z
    .array(
      z.object({
        path: SourcePathSchema,
        content: z.string().refine((t) => Buffer.byteLength(t, 'utf8') <= MAX_SOURCE_FILE_BYTES, `expected a file of at most ${MAX_SOURCE_FILE_BYTES} bytes`),
      }),
    )
    .max(MAX_SOURCE_FILES),
});
export type SourcesBody = z.infer<typeof SourcesBodySchema>;

export const sourceRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, blobs, config } = ctx.deps;

  app.post(
    '/uploads/:id/sources',
    {
      bodyLimit: config.api.maxSourcesBytes,
      schema: {
        summary: 'Attach the source text of the files an upload names (what `tributary upload --sources` sends)',
        description:
          "Each path is the report's own name for the file; it is resolved with the upload's path fixes, file list and its repository's settings, " +
          'as the report is, and stored for the commit (content-addressed: the same text is kept once). Paths that resolve to nothing (ignored) are skipped. ' +
          'The admin or the repository\'s upload token; a read token is 403.',
        tags: ['uploads'],
        security: bearerSecurity,
        params: UploadIdParam,
        body: SourcesBodySchema,
        response: { 200: z.object({ stored: z.number().int(), skipped: z.array(z.string()) }), ...errorResponses, 413: ErrorBodySchema },
      },
    },
    async (request) => {
      const caller = knownCaller(request);
      const upload = await store.getUpload(request.params.id);
      if (upload === null) throw notFound('upload');
      assertCanSee(caller, upload.repo, 'upload');
      if (!canWrite(caller, upload.repo)) throw forbidden();
      const repository = await store.getRepository(upload.repo);
      let repoFiles: string[] | undefined;
      if (upload.repoFilesKey) {
        const list = await blobs.get(upload.repoFilesKey);
        repoFiles = list ? Buffer.from(list).toString('utf8').split('\n').filter(Boolean) : undefined;
      }
      const resolver = createPathResolver(uploadPathOptions(repository?.settings ?? {}, upload.pathFixes, repoFiles));
      resolver.setSourceBases(request.body.sourceBases ?? []);
      const files = new Map<string, string>();
      const skipped: string[] = [];
      for (const f of request.body.files) {
        const resolved = resolver.resolve(f.path);
        if (resolved === null) skipped.push(f.path);
        else files.set(resolved, f.content);
      }
      const stored = await saveCommitSources({ store, blobs }, upload.commitId, files);
      return { stored: stored.length, skipped };
    },
  );

  app.get(
    '/repos/:owner/:repo/commits/:sha/sources/*',
    {
      onRequest: repositoryAccess,
      schema: {
        summary: 'The source text of one file of the commit, as its upload sent it (`tributary upload --sources`); text/plain',
        tags: ['commits'],
        security: bearerSecurity,
        params: CommitParams.and(z.object({ '*': SourcePathSchema })),
        response: { 200: z.string(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const text = await readCommitSource({ store, blobs }, repoSlugOf(request.params), request.params.sha, request.params['*']);
      if (text === null) throw notFound('source');
      return reply.type('text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send(text);
    },
  );
};

