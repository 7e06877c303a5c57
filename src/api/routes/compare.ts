import { gunzipSync, gzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CommitComparisonSchema } from '../../coverage/commit-comparison';
import { DiffParseError, parseUnifiedDiff } from '../../coverage/unified-diff';
import { diffText, resolveComparison, type ComparisonGap } from '../../services/comparison';
import { isGzip } from '../../shared/gzip-magic';
import { repositoryAccess } from '../auth';
import { ApiError, badRequest, ErrorBodySchema, notFound } from '../errors';
import { bearerSecurity, CommitParams, errorResponses, RepoParams, repoSlugOf, Sha } from '../schemas';
import type { RoutePlugin } from '../server';

const FlagQuery = z.string().min(1).max(1000).describe('restrict both reports to the sessions carrying this flag');

const CompareQuery = z.object({
  head: Sha.describe('the commit compared'),
  base: Sha.optional().describe("the commit compared against; default: the base recorded with head's diff, else head's recorded parent"),
  flag: FlagQuery.optional(),
});

const DiffSavedSchema = z.object({
  repo: z.string(),
  sha: z.string(),
  bytes: z.number().int().describe('size of the diff as stored, uncompressed'),
  files: z.number().int().describe('files the diff touches'),
  baseSha: z.string().nullable().describe('the commit the diff was taken against, when given'),
});

function gapError(gap: ComparisonGap): ApiError {
  switch (gap.kind) {
    case 'no_base':
      return new ApiError(404, 'not_found', "no base commit: give ?base=, or record head's parent (upload --parent) or a diff with its base (upload --diff-base)", 'base');
    case 'no_report':
      return new ApiError(404, 'not_found', `the ${gap.side} commit ${gap.sha} has no report`, gap.side);
    case 'not_complete':
      return new ApiError(409, 'not_complete', `the ${gap.side} commit ${gap.sha} still has uploads being processed; compare again once it is complete`, gap.side);
  }
}

/** The whole body, refused with 413 as soon as it passes `max` bytes (gunzipped too). */
async function readDiffBody(body: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += b.length;
    if (total > max) {
      body.destroy();
      throw tooLarge(max);
    }
    chunks.push(b);
  }
  const raw = Buffer.concat(chunks);
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: max });
  } catch (err) {
    if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(max);
    throw badRequest('body', `the gzipped diff does not inflate: ${(err as Error).message}`);
  }
}

const tooLarge = (max: number) => new ApiError(413, 'payload_too_large', `the diff is larger than the limit of ${max} bytes (TRIBUTARY_MAX_DIFF_BYTES)`);

export const compareRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, blobs, config } = ctx.deps;

  app.withTypeProvider<ZodTypeProvider>().get(
    '/repos/:owner/:repo/compare',
    {
      onRequest: repositoryAccess,
      schema: {
        summary: 'Compare two commits: totals of both and the delta, per-file deltas, patch coverage',
        description:
          "Patch coverage is the coverage in head of the lines head's stored diff adds or changes (lines moved without change are not new); " +
          'null without a diff. `baseSource` says where the base came from: `given`, `pullRequest` (the base recorded with the diff) or `parent`. ' +
          '404 when a commit has no report or no base is known, 409 while either commit still has uploads in processing.',
        tags: ['commits'],
        security: bearerSecurity,
        params: RepoParams,
        querystring: CompareQuery,
        response: { 200: CommitComparisonSchema, ...errorResponses, 409: ErrorBodySchema },
      },
    },
    async (request) => {
      const repo = repoSlugOf(request.params);
      const { head, base, flag } = request.query;
      if ((await store.getRepository(repo)) === null) throw notFound('repository');
      const result = await resolveComparison({ store, blobs }, repo, head, {
        requireComplete: true,
        ...(base !== undefined ? { baseSha: base } : {}),
        ...(flag !== undefined ? { flag } : {}),
      });
      if (!result.ok) throw gapError(result.gap);
      return result.comparison;
    },
  );

  // Diffs are text whatever the content type the client names: this scope reads every body raw.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    scope.withTypeProvider<ZodTypeProvider>().put(
      '/repos/:owner/:repo/commits/:sha/diff',
      {
        onRequest: repositoryAccess,
        config: { missing: 'repository' },
        schema: {
          summary: "Store the commit's unified diff (`git diff` of base...head); a later one replaces it",
          description:
            'The body is the diff as `git diff` writes it (plain or gzip), at most TRIBUTARY_MAX_DIFF_BYTES once inflated (413 past it); ' +
            'a body that is not a unified diff is 400 and nothing is stored. `base` records the commit it was taken against ' +
            '(the pull request base), which compare then uses when no base is given.',
          tags: ['commits'],
          security: bearerSecurity,
          params: CommitParams,
          querystring: z.object({ base: Sha.optional() }),
          response: { 200: DiffSavedSchema, ...errorResponses, 413: ErrorBodySchema },
        },
      },
      async (request) => {
        const repo = repoSlugOf(request.params);
        const { sha } = request.params;
        const max = config.api.maxDiffBytes;
        const body = request.body as Readable | undefined;
        const bytes = body === undefined ? Buffer.alloc(0) : await readDiffBody(body, max);
        const text = bytes.toString('utf8');
        let files: number;
        try {
          files = parseUnifiedDiff(text).length;
        } catch (err) {
          if (err instanceof DiffParseError) throw badRequest('body', `not a unified diff: ${err.message}`);
          throw err;
        }
        if (files === 0 && text.trim() !== '') throw badRequest('body', 'not a unified diff: no file in it (send the output of git diff)');
        await store.saveCommitDiff({ repo, sha, gzip: gzipSync(bytes), bytes: bytes.length, ...(request.query.base !== undefined ? { baseSha: request.query.base } : {}) });
        return { repo, sha, bytes: bytes.length, files, baseSha: request.query.base ?? null };
      },
    );
  });

  app.withTypeProvider<ZodTypeProvider>().get(
    '/repos/:owner/:repo/commits/:sha/diff',
    {
      onRequest: repositoryAccess,
      schema: {
        summary: "The commit's stored unified diff, as text/x-diff; its base (when recorded) in the Diff-Base header",
        tags: ['commits'],
        security: bearerSecurity,
        params: CommitParams,
        response: { 200: z.string().describe('the diff, text/x-diff'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await store.getCommitDiff(repoSlugOf(request.params), request.params.sha);
      if (row === null) throw notFound('diff');
      if (row.baseSha !== null) void reply.header('diff-base', row.baseSha);
      return reply.type('text/x-diff; charset=utf-8').send(diffText(row));
    },
  );
};
