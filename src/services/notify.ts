import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { CommitSha, RepoSlug } from '../temporal/search-attributes';
import { doneSignal, notifyWorkflowId, reportSignal, type NotifyWorkflowInput } from '../workflows/notify-contracts';
import { notifyWorkflow } from '../workflows/notify-workflow';

export interface NotifierDeps {
  client: Client;
  config: Config;
}

/**
 * Tells the commit's notifier (started if it is not running, with a deterministic id) that a
 * report was saved, or that the uploader is done. Signal-with-start: no lock, no check-then-act;
 * the notifier reads the database itself, so a repeated nudge only makes it look again.
 */
export async function nudgeNotifier(deps: NotifierDeps, repo: string, sha: string, news: { kind: 'report'; version: number } | { kind: 'done' }): Promise<string> {
  const workflowId = notifyWorkflowId(repo, sha);
  const args: NotifyWorkflowInput = {
    repo,
    sha,
    settings: { settleAfterMs: deps.config.feedback.settleAfterMs, idleTimeoutMs: deps.config.feedback.notifyIdleTimeoutMs },
  };
  const common = {
    workflowId,
    taskQueue: deps.config.temporal.taskQueue,
    args: [args] as [NotifyWorkflowInput],
    typedSearchAttributes: [
      { key: RepoSlug, value: repo },
      { key: CommitSha, value: sha },
    ],
    staticSummary: `Feedback of ${repo} @ ${sha.slice(0, 12)}`,
  };
  if (news.kind === 'done') await deps.client.workflow.signalWithStart(notifyWorkflow, { ...common, signal: doneSignal, signalArgs: [] });
  else await deps.client.workflow.signalWithStart(notifyWorkflow, { ...common, signal: reportSignal, signalArgs: [{ version: news.version }] });
  return workflowId;
}
