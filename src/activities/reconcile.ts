import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { commitWorkflowStart, nudgeCommitWorkflow } from '../services/commit-nudge';
import { commitWorkflowId } from '../workflows/commit-contracts';
import type { ActivityDeps } from './deps';
import { ReconcileInput, type ReconcileResult } from './contracts';
import { validateInput } from './validate';

/**
 * The reconciler: nothing accepted stays stuck. An upload whose registration committed but whose
 * nudge failed waits 'uploaded' with no run to claim it; a run an operator terminated leaves its
 * claims 'processing'. For each commit with uploads stale past the bound it asks Temporal which
 * run is open, releases the claims of every other run (only one run of a commit is open at a
 * time, so those no longer exist; a run that starts meanwhile is not among the ones named, so its
 * claims are never touched), and nudges the commit's workflow as registration does. Claims of the
 * open run are left alone: a long batch is not a stuck one. Running it again, or beside live
 * traffic, only repeats nudges, which the workflow counts once per upload; claims stay in the
 * database, so nothing is processed twice.
 */
export function createReconcile(deps: ActivityDeps) {
  return async function reconcile(input: ReconcileInput): Promise<ReconcileResult> {
    const v = validateInput(ReconcileInput, input, 'reconcile');
    const temporal = deps.temporal;
    if (temporal === undefined) {
      throw ApplicationFailure.nonRetryable('reconcile: this worker was started without a Temporal client', 'ReconcilerUnavailable');
    }
    const stale = await deps.store.findStaleCommits({ olderThanMs: v.olderThanMs, afterCommitId: v.afterCommitId, limit: v.limit });
    let released = 0;
    let nudged = 0;
    for (const [i, commit] of stale.entries()) {
      const open = await openRunOf(temporal.client, commitWorkflowId(commit.repo, commit.sha));
      const dead = commit.claimRuns.filter((run) => run !== open);
      const freed = dead.length === 0 ? 0 : await deps.store.releaseClaimsOf({ repo: commit.repo, sha: commit.sha, runIds: dead });
      released += freed;
      if (commit.waiting > 0 || freed > 0) {
        const start = await commitWorkflowStart({ store: deps.store, config: temporal.config }, commit.repo, commit.sha);
        await nudgeCommitWorkflow(temporal, commit.repo, commit.sha, commit.firstUploadId, start);
        nudged++;
      }
      Context.current().heartbeat({ examined: i + 1, of: stale.length });
    }
    const last = stale[stale.length - 1];
    return { examined: stale.length, released, nudged, next: stale.length === v.limit && last ? last.commitId : null };
  };
}

/** The run id of the workflow's open run, or null when its latest run is closed or it has none. */
async function openRunOf(client: Client, workflowId: string): Promise<string | null> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    return d.status.name === 'RUNNING' ? d.runId : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
