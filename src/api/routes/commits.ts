import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { ReportTotalsSchema } from '../../activities/contracts';
import { addSessionWarnings, toParseJson } from '../../coverage/json-output';
import { readReport } from '../../coverage/report-format';
import { warningCount } from '../../coverage/warnings';
import { UploadMode } from '../../temporal/search-attributes';
import { commitWorkflowId } from '../../workflows/commit-contracts';
import { CommitMetadataSchema, type Store, type UploadRow } from '../../storage/store';
import {
  ExperimentOutcomeSchema,
  isTerminalUploadState as isTerminal,
  PublicCommitStateSchema,
  publicUploadState as publicState,
  PublicUploadStateSchema,
  type ExperimentOutcome,
  type PublicCommitState,
} from '../../vocabulary';
import { repositoryAccess } from '../auth';
import { notFound } from '../errors';
import { commitPriority, PRIORITY_KEYS, type PriorityReason } from '../../services/commit-priority';
import { WaitQuery } from '../long-poll';
import { bearerSecurity, CommitParams, errorResponses, repoSlugOf, UploadErrorSchema, UploadWarningsSchema } from '../schemas';
import type { RoutePlugin } from '../server';
import { commitPath, uploadError } from '../views';

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
      type: z.literal('carriedforward').optional().describe('present on a session carried forward from an ancestor (its flag was not uploaded to this commit)'),
      flags: z.array(z.string()).optional().describe("a carried session's flags"),
      carriedFrom: z.string().optional().describe('the commit a carried session was uploaded to'),
      warnings: UploadWarningsSchema.optional().describe("the session's upload's warnings, when it has any"),
    }),
  ),
});

interface CommitSnapshot {
  uploads: UploadRow[];
  totals: z.infer<typeof ReportTotalsSchema> | null;
  reportSaved: boolean;
  state: PublicCommitState;
  /** Read only once the uploads are done (null before): the workflow's mode and the verdicts. */
  mode: string | null;
  experiments: ExperimentOutcome[];
}

/**
 * The commit as callers see it: `complete` once every upload is terminal and the report holds
 * what was merged; `cancelled` when the run was cancelled (some upload ended so); `pending` before
 * anything started; `processing` otherwise.
 */
export function commitState(uploads: readonly UploadRow[], reportSaved: boolean): PublicCommitState {
  if (uploads.length === 0) return 'pending';
  if (uploads.every((u) => isTerminal(u.state))) {
    if (uploads.some((u) => u.state === 'cancelled')) return 'cancelled';
    // Every upload failing leaves nothing to save: the commit is done all the same.
    const merged = uploads.some((u) => u.state === 'merged');
    return !merged || reportSaved ? 'complete' : 'processing';
  }
  return uploads.every((u) => u.state === 'uploaded') ? 'pending' : 'processing';
}

async function snapshot(store: Store, client: Client, repo: string, sha: string): Promise<CommitSnapshot> {
  // Uploads first, the report after, never at once: a finisher marks its uploads merged and saves
  // the report in one transaction, so a report read after the uploads is at least as new as they
  // say. Read together, a merged upload could be shown beside the report from before its merge.
  const uploads = await store.listUploads(repo, sha);
  const report = await store.getCommitReport(repo, sha);
  const totals = report === null ? null : ReportTotalsSchema.safeParse(report.totals);
  let state = commitState(uploads, report !== null);
  let mode: string | null = null;
  let experiments: ExperimentOutcome[] = [];
  if (state === 'complete') {
    // In experiment mode the real (serial) path marks its uploads merged before the shadow's
    // comparison is recorded: the commit is complete only once its last batch has its verdict,
    // so a client waiting for `complete` also gets the experiment's outcome.
    const [m, rows] = await Promise.all([workflowMode(client, repo, sha), store.listExperiments(repo, sha)]);
    mode = m;
    experiments = rows.map((e) => e.outcome);
    const lastBatch = Math.max(-1, ...uploads.map((u) => u.batch ?? -1));
    if (mode === 'experiment' && lastBatch >= 0 && !rows.some((e) => e.batch === lastBatch)) state = 'processing';
  }
  return { uploads, totals: totals?.success ? totals.data : null, reportSaved: report !== null, state, mode, experiments };
}

/** The latest mode the commit's workflow ran a batch in; null when it never did or is unknown. */
async function workflowMode(client: Client, repo: string, sha: string): Promise<string | null> {
  try {
    const desc = await client.workflow.getHandle(commitWorkflowId(repo, sha)).describe();
    return desc.typedSearchAttributes.get(UploadMode) ?? null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

function experimentOutcome(outcomes: readonly ExperimentOutcome[]): ExperimentOutcome | null {
  if (outcomes.length === 0) return null;
  return outcomes.find((o) => o !== 'match') ?? 'match';
}

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
      const [commit, facts] = await Promise.all([store.getCommit(repo, sha), store.getCommitStartFacts(repo, sha)]);
      if (commit === null) throw notFound('commit');
      const priority = commitPriority({
        branch: commit.metadata.branch,
        pullRequest: commit.metadata.pullRequest,
        settings: facts?.settings ?? {},
        defaultBranch: config.pipeline.defaultBranch,
      });
      const done = (s: CommitSnapshot) => s.state === 'complete' || s.state === 'cancelled';
      const snap = await ctx.poll(reply, () => snapshot(store, client, repo, sha), done, request.query.wait);
      const [mode, experiments] =
        snap.state === 'complete'
          ? [snap.mode, snap.experiments]
          : await Promise.all([workflowMode(client, repo, sha), store.listExperiments(repo, sha).then((rows) => rows.map((e) => e.outcome))]);
      return {
        repo,
        sha,
        state: snap.state,
        totals: snap.totals,
        mode,
        experimentOutcome: experimentOutcome(experiments),
        metadata: commit.metadata,
        priority,
        uploads: snap.uploads.map((u) => ({
          uploadId: u.uploadId,
          session: u.session,
          state: publicState(u.state),
          error: uploadError(u),
          warnings: warningCount(u.warnings),
        })),
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
