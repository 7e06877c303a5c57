import { z } from 'zod';
import { ReportTotalsSchema } from '../../activities/contracts';
import { addSessionWarnings, toParseJson } from '../../coverage/json-output';
import { readReport } from '../../coverage/report-format';
import { CommitMetadataSchema } from '../../storage/store';
import { ExperimentOutcomeSchema, PublicCommitStateSchema, PublicUploadStateSchema } from '../../vocabulary';
import { repositoryAccess } from '../auth';
import { commitView, isSettled } from '../commit-view';
import { notFound } from '../errors';
import { PRIORITY_KEYS, type PriorityReason } from '../../services/commit-priority';
import { WaitQuery } from '../long-poll';
import { bearerSecurity, CommitParams, errorResponses, repoSlugOf, UploadErrorSchema, UploadWarningsSchema } from '../schemas';
import type { RoutePlugin } from '../server';
import { commitPath } from '../views';

const CommitStatusSchema = z.object({
  repo: z.string(),
  sha: z.string(),
  state: PublicCommitStateSchema,
  totals: ReportTotalsSchema.nullable(),
  mode: z.string().nullable(),
  experimentOutcome: ExperimentOutcomeSchema.nullable(),
  metadata: CommitMetadataSchema.describe('what CI said about the commit: the first upload giving a value sets it, later ones fill gaps'),
  priority: z
    .object({ key: z.number().int().min(1).max(5), reason: z.enum(Object.keys(PRIORITY_KEYS) as [PriorityReason, ...PriorityReason[]]) })
    .describe('task priority of its processing (1 first): urgent repository, default branch, unknown, other branch or pull request'),
  uploads: z.array(
    z.object({
      uploadId: z.string(),
      session: z.number().int(),
      state: PublicUploadStateSchema,
      error: UploadErrorSchema,
      warnings: z.number().int().nonnegative().describe('lines the processor skipped or clamped; the details are on the upload'),
    }),
  ),
  reportUrl: z.string(),
});

const ParseTotalsSchema = z.object({
  files: z.number(),
  lines: z.number(),
  hits: z.number(),
  misses: z.number(),
  partials: z.number(),
  branches: z.number(),
  methods: z.number(),
  coverage: z.string(),
});
const ReportSchema = z.object({
  files: z.record(
    z.string(),
    z.object({ lines: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])), totals: ParseTotalsSchema }),
  ),
  totals: ParseTotalsSchema,
  sessions: z.array(
    z.object({
      id: z.number().int(),
      format: z.string().optional(),
      file: z.string().optional(),
      warnings: UploadWarningsSchema.optional().describe("the session's upload's warnings, when it has any"),
    }),
  ),
});

export const commitRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, blobs, client, config } = ctx.deps;

  app.get(
    '/repos/:owner/:repo/commits/:sha',
    {
      onRequest: repositoryAccess,
      schema: {
        summary: "A commit's state, totals, uploads, mode and experiment outcome; ?wait= long-polls for complete",
        tags: ['commits'],
        security: bearerSecurity,
        params: CommitParams,
        querystring: WaitQuery,
        response: { 200: CommitStatusSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const repo = repoSlugOf(request.params);
      const { sha } = request.params;
      const found = await commitView(store, client, config.pipeline.defaultBranch, repo, sha, (load) => ctx.poll(reply, load, isSettled, request.query.wait));
      if (found === null) throw notFound('commit');
      return {
        ...found.view,
        reportUrl: ctx.url(request, `${commitPath(repo, sha)}/report`),
      };
    },
  );

  app.get(
    '/repos/:owner/:repo/commits/:sha/report',
    {
      onRequest: repositoryAccess,
      schema: {
        summary: 'The merged report, in the shape of `tributary parse --json`; ?file= for one file',
        description:
          'With `file`, `files` holds only that file (404 when the report has no such file); `totals` and `sessions` stay those of the whole report. ' +
          "A session whose upload had lines skipped or clamped carries that upload's `warnings`.",
        tags: ['commits'],
        security: bearerSecurity,
        params: CommitParams,
        querystring: z.object({ file: z.string().min(1).max(4096).optional() }),
        response: { 200: ReportSchema, ...errorResponses },
      },
    },
    async (request) => {
      const repo = repoSlugOf(request.params);
      const [saved, uploads] = await Promise.all([store.getCommitReport(repo, request.params.sha), store.listUploads(repo, request.params.sha)]);
      if (saved === null) throw notFound('report');
      const bytes = await blobs.get(saved.reportKey);
      if (bytes === null) throw new Error(`commit report blob ${saved.reportKey} is missing`);
      // Warnings belong to an upload's input, not to the merged coverage: they stay on the
      // uploads (database) and are joined to the report's sessions by session number.
      const json = addSessionWarnings(toParseJson(readReport(bytes)), new Map(uploads.map((u) => [u.session, u.warnings])));
      const file = request.query.file;
      if (file === undefined) return json;
      const one = json.files[file];
      if (one === undefined) throw notFound('file');
      return { ...json, files: { [file]: one } };
    },
  );
};
