import type { WorkflowExecutionInfo } from '@temporalio/client';
import { z } from 'zod';
import { EXPERIMENT_OUTCOMES, RepoSlugSchema, UPLOAD_MODES, WORKFLOW_OUTCOMES } from '../../vocabulary';
import { CommitSha, ExperimentOutcome, Outcome, RepoSlug, UploadCount, UploadMode } from '../../temporal/search-attributes';
import { commitWorkflow } from '../../workflows';
import { adminOnly } from '../auth';
import { bearerSecurity, errorResponses, Sha } from '../schemas';
import type { RoutePlugin } from '../server';

/** Workflow statuses as the API spells them, and as Temporal's visibility queries do. */
const STATUSES = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  continued_as_new: 'ContinuedAsNew',
  timed_out: 'TimedOut',
} as const;
type Status = keyof typeof STATUSES;
const STATUS_NAMES = Object.keys(STATUSES) as [Status, ...Status[]];

const FROM_SDK_STATUS: Record<string, Status> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  CONTINUED_AS_NEW: 'continued_as_new',
  TIMED_OUT: 'timed_out',
};

const TasksQuery = z.object({
  repo: RepoSlugSchema.optional(),
  commit: Sha.optional(),
  mode: z.enum(UPLOAD_MODES).optional(),
  status: z.enum(STATUS_NAMES).optional(),
  outcome: z.enum(WORKFLOW_OUTCOMES).optional(),
  experimentOutcome: z.enum(EXPERIMENT_OUTCOMES).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const TaskSchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  repo: z.string().nullable(),
  sha: z.string().nullable(),
  status: z.string(),
  mode: z.string().nullable(),
  outcome: z.string().nullable(),
  experimentOutcome: z.string().nullable(),
  uploadCount: z.number().int().nullable(),
  startTime: z.string(),
  closeTime: z.string().nullable(),
});

/** Values are validated against closed vocabularies or strict patterns; quoting is belt and braces. */
const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function visibilityQuery(q: z.infer<typeof TasksQuery>): string {
  const terms = [`WorkflowType = '${commitWorkflow.name}'`];
  if (q.repo) terms.push(`${RepoSlug.name} = ${quote(q.repo)}`);
  if (q.commit) terms.push(`${CommitSha.name} = ${quote(q.commit)}`);
  if (q.mode) terms.push(`${UploadMode.name} = ${quote(q.mode)}`);
  if (q.status) terms.push(`ExecutionStatus = ${quote(STATUSES[q.status])}`);
  if (q.outcome) terms.push(`${Outcome.name} = ${quote(q.outcome)}`);
  if (q.experimentOutcome) terms.push(`${ExperimentOutcome.name} = ${quote(q.experimentOutcome)}`);
  if (q.since) terms.push(`StartTime >= ${quote(new Date(q.since).toISOString())}`);
  if (q.until) terms.push(`StartTime <= ${quote(new Date(q.until).toISOString())}`);
  return terms.join(' AND ');
}

function toTask(info: WorkflowExecutionInfo): z.infer<typeof TaskSchema> {
  const sa = info.typedSearchAttributes;
  const count = sa.get(UploadCount);
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    repo: sa.get(RepoSlug) ?? null,
    sha: sa.get(CommitSha) ?? null,
    status: FROM_SDK_STATUS[info.status.name] ?? info.status.name.toLowerCase(),
    mode: sa.get(UploadMode) ?? null,
    outcome: sa.get(Outcome) ?? null,
    experimentOutcome: sa.get(ExperimentOutcome) ?? null,
    uploadCount: count === undefined ? null : Number(count),
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime ? info.closeTime.toISOString() : null,
  };
}

export const taskRoutes: RoutePlugin = async (app, { ctx }) => {
  const { client } = ctx.deps;

  app.get(
    '/tasks',
    {
      onRequest: adminOnly,
      schema: {
        summary: "Commit workflows from Temporal's visibility store, filtered (admin)",
        tags: ['tasks'],
        security: bearerSecurity,
        querystring: TasksQuery,
        response: { 200: z.object({ tasks: z.array(TaskSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const tasks: z.infer<typeof TaskSchema>[] = [];
      for await (const info of client.workflow.list({ query: visibilityQuery(request.query), pageSize: Math.min(request.query.limit, 1000) })) {
        tasks.push(toTask(info));
        if (tasks.length >= request.query.limit) break;
      }
      return { tasks };
    },
  );

  app.post(
    '/tasks/:workflowId/cancel',
    {
      onRequest: adminOnly,
      // Unknown, or already closed: either way there is nothing running to cancel.
      config: { missing: 'task' },
      schema: {
        summary: 'Cancel a commit workflow: its uploads not yet merged or failed end cancelled (admin)',
        tags: ['tasks'],
        security: bearerSecurity,
        params: z.object({ workflowId: z.string().min(1).max(1000) }),
        response: { 202: z.object({ workflowId: z.string(), cancelRequested: z.literal(true) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { workflowId } = request.params;
      await client.workflow.getHandle(workflowId).cancel();
      return reply.code(202).send({ workflowId, cancelRequested: true as const });
    },
  );
};
