import { z } from 'zod';
import { ReportTotalsSchema } from '../../activities/contracts';
import { flagReport } from '../../coverage/flags';
import { addSessionWarnings, toParseJson } from '../../coverage/json-output';
import { readReport } from '../../coverage/report-format';
import { CommitMetadataSchema, type UploadRow } from '../../storage/store';
import { ExperimentOutcomeSchema, isTerminalUploadState as isTerminal, PublicCommitStateSchema, PublicUploadStateSchema } from '../../vocabulary';
import { repositoryAccess } from '../auth';
import { commitView, isSettled } from '../commit-view';
import { ApiError, notFound } from '../errors';
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
  flags: z
    .record(z.string(), ParseTotalsSchema.extend({ sessions: z.number().int() }))
    .optional()
    .describe('per flag, the totals of the report restricted to the sessions carrying it; only when some session carries a flag'),
  sessions: z.array(
    z.object({
      id: z.number().int(),
      format: z.string().optional(),
      file: z.string().optional(),
      type: z.literal('carriedforward').optional().describe('present on a session carried forward from an ancestor (its flag was not uploaded to this commit)'),
      flags: z.array(z.string()).optional().describe("a carried session's flags"),
      carriedFrom: z.string().optional().describe('the commit a carried session was uploaded to'),
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
        summary: 'The merged report, in the shape of `tributary parse --json`; ?file= for one file, ?flag= for one flag',
        description:
          'With `file`, `files` holds only that file (404 when the report has no such file); `totals` and `sessions` stay those of the whole report. ' +
          'With `flag`, the report is restricted to the sessions carrying that flag (each line derived from them only), files, totals and sessions alike. ' +
          "A session whose upload had lines skipped or clamped carries that upload's `warnings`.",
        tags: ['commits'],
        security: bearerSecurity,
        params: CommitParams,
        querystring: z.object({ file: z.string().min(1).max(4096).optional(), flag: z.string().min(1).max(1000).optional() }),
        response: { 200: ReportSchema, ...errorResponses },
      },
    },
    async (request) => {
      const repo = repoSlugOf(request.params);
      const [saved, uploads] = await Promise.all([store.getCommitReport(repo, request.params.sha), store.listUploads(repo, request.params.sha)]);
      if (saved === null) throw new ApiError(404, 'not_found', whyNoReport(uploads));
      const bytes = await blobs.get(saved.reportKey);
      if (bytes === null) throw new Error(`commit report blob ${saved.reportKey} is missing`);
      // Warnings belong to an upload's input, not to the merged coverage: they stay on the
      // uploads (database) and are joined to the report's sessions by session number.
      const full = readReport(bytes);
      const report = request.query.flag === undefined ? full : flagReport(full, request.query.flag);
      const json = addSessionWarnings(toParseJson(report), new Map(uploads.map((u) => [u.session, u.warnings])));
      const file = request.query.file;
      if (file === undefined) return json;
      const one = json.files[file];
      if (one === undefined) throw notFound('file');
      return { ...json, files: { [file]: one } };
    },
  );
};

/**
 * Why a commit has no report, in words a user can act on: nothing uploaded, still at work, or
 * every upload failed (with the first error, since that is what they need to fix).
 */
export function whyNoReport(uploads: readonly UploadRow[]): string {
  if (uploads.length === 0) return 'report not found: the commit has no uploads';
  const pending = uploads.filter((u) => !isTerminal(u.state)).length;
  if (pending > 0) return `report not found yet: ${pending} of ${uploads.length} uploads are still processing`;
  const failed = uploads.find((u) => u.state === 'error');
  const detail = failed?.errorMessage ? ` (session ${failed.session}: ${failed.errorCode ?? 'error'}: ${failed.errorMessage})` : '';
  return `report not found: none of the commit's ${uploads.length} uploads was merged${detail}; the commit's uploads show each one's error`;
}
