import { createHash, randomUUID } from 'node:crypto';
import { ApplicationFailure, log } from '@temporalio/activity';
import type { CommitComparison } from '../coverage/commit-comparison';
import { canonicalJson } from '../coverage/report-format';
import { COMMENT_MARKER, renderComment } from '../feedback/comment';
import { GitHubProvider } from '../feedback/github';
import { DeliveryError, type FeedbackProvider } from '../feedback/provider';
import { commitStatuses, type CommitStatus } from '../feedback/statuses';
import { WebhookProvider } from '../feedback/webhook';
import { loadComparison } from '../services/comparison';
import { nudgeNotifier } from '../services/notify';
import type { PlannedDelivery, DeliveryRow } from '../storage/store';
import type { RepoSettings } from '../storage/rows';
import { isTerminalUploadState } from '../vocabulary';
import { ReportTotalsSchema } from './contracts';
import {
  AbandonDeliveryInput,
  AnnounceReportInput,
  CommitReadiness,
  DeliverFeedbackInput,
  DeliverFeedbackResult,
  PlanFeedbackInput,
  PlannedFeedback,
} from './contracts';
import type { ActivityDeps, FeedbackDeps } from './deps';
import { validateInput } from './validate';

/** The webhook event of a settled commit's (new) report. */
export const WEBHOOK_EVENT = 'coverage.settled';

/** The failure type of a delivery try that may succeed later. */
export const DELIVERY_RETRY = 'DeliveryRetry';

/** The commit workflow's step after a batch: the commit's notifier looks again. */
export function createAnnounceReport(deps: ActivityDeps) {
  return async function announceReport(input: AnnounceReportInput): Promise<boolean> {
    const { repo, sha, version } = validateInput(AnnounceReportInput, input, 'announceReport');
    if (deps.temporal === undefined) {
      // A worker built without a Temporal client (some tests): it sends no feedback.
      log.warn('no Temporal client: the commit notifier is not nudged', { repo, sha });
      return false;
    }
    await nudgeNotifier(deps.temporal, repo, sha, { kind: 'report', version });
    return true;
  };
}

export function createFeedbackActivities(deps: ActivityDeps) {
  const feedbackDeps = (): FeedbackDeps => {
    if (deps.feedback === undefined) throw ApplicationFailure.nonRetryable('the worker has no feedback configuration', 'NoFeedbackConfig');
    return deps.feedback;
  };

  return {
    /** What the notifier decides on: uploads open and finished, the saved version, the setting. */
    async commitReadiness(input: PlanFeedbackInput): Promise<CommitReadiness> {
      const { repo, sha } = validateInput(PlanFeedbackInput, input, 'commitReadiness');
      const uploads = await deps.store.listUploads(repo, sha);
      const report = await deps.store.getCommitReport(repo, sha);
      const [facts, notifiedBefore] = await Promise.all([deps.store.getCommitStartFacts(repo, sha), deps.store.hasDeliveries(repo, sha)]);
      return CommitReadiness.parse({
        afterNBuilds: facts?.settings.afterNBuilds ?? null,
        terminal: uploads.filter((u) => u.state === 'merged' || u.state === 'error').length,
        open: uploads.filter((u) => !isTerminalUploadState(u.state)).length,
        version: report?.version ?? 0,
        notifiedBefore,
      });
    },

    /**
     * Computes the feedback of the saved report (comparison, statuses, comment, webhook body) and
     * records one delivery per target under its idempotency key: repo, sha, report version, the
     * digest of what is sent, and the target. Keys planned before are answered as they are, so a
     * redelivered notification sends nothing twice.
     */
    async planFeedback(input: PlanFeedbackInput): Promise<PlannedFeedback> {
      const { repo, sha } = validateInput(PlanFeedbackInput, input, 'planFeedback');
      const fb = feedbackDeps();
      const [facts, saved] = await Promise.all([deps.store.getCommitStartFacts(repo, sha), deps.store.getCommitReport(repo, sha)]);
      if (facts === null || saved === null) return { version: saved?.version ?? 0, pending: [], known: 0 };
      const settings = facts.settings;
      const headTotals = ReportTotalsSchema.parse(saved.totals);
      const comparison = await loadComparison(deps, repo, sha);
      const statuses = commitStatuses({ headCoverage: headTotals.coverage, comparison, rules: settings.statuses });
      const commitUrl = `${fb.publicUrl}/${repo}/commit/${sha}`;
      const digest = createHash('sha256')
        .update(canonicalJson({ comparison, headTotals }))
        .digest('hex')
        .slice(0, 16);
      const keyOf = (target: string) => `${repo}@${sha}:v${saved.version}:${digest}:${target}`;
      const planned: PlannedDelivery[] = [];
      if (settings.github?.token !== undefined) {
        const ghRepo = settings.github.repository ?? repo;
        for (const s of statuses) {
          const target = `github:${ghRepo}:status:${s.context}`;
          planned.push({ id: randomUUID(), idempotencyKey: keyOf(target), kind: 'github_status', target, payload: { repository: ghRepo, sha, ...s, targetUrl: commitUrl } });
        }
        const pr = facts.metadata.pullRequest;
        if (pr !== undefined) {
          const target = `github:${ghRepo}:pull/${pr}:comment`;
          const body = renderComment({ repo, headSha: sha, headTotals, comparison, statuses, commitUrl });
          planned.push({ id: randomUUID(), idempotencyKey: keyOf(target), kind: 'github_comment', target, payload: { repository: ghRepo, pullRequest: pr, body } });
        }
      }
      for (const hook of settings.webhooks ?? []) {
        const target = `webhook:${hook.url}`;
        const id = randomUUID();
        const body = JSON.stringify(webhookBody({ id, repo, sha, metadata: facts.metadata, version: saved.version, headTotals, comparison, statuses, commitUrl }));
        planned.push({ id, idempotencyKey: keyOf(target), kind: 'webhook', target, payload: { url: hook.url, body } });
      }
      const rows = await deps.store.planDeliveries({ repo, sha, reportVersion: saved.version, deliveries: planned });
      const fresh = new Set(planned.map((p) => p.id));
      return {
        version: saved.version,
        pending: rows.filter((r) => r.state === 'pending').map((r) => r.id),
        known: rows.filter((r) => !fresh.has(r.id)).length,
      };
    },

    /**
     * One try of one delivery. A delivery already sent (or given up) is not sent again; each try
     * is logged with its status code or error. A try that may succeed later fails retryably
     * (with the receiver's Retry-After as the next delay); a refusal ends the delivery failed.
     */
    async deliverFeedback(input: DeliverFeedbackInput): Promise<DeliverFeedbackResult> {
      const { deliveryId } = validateInput(DeliverFeedbackInput, input, 'deliverFeedback');
      const fb = feedbackDeps();
      const delivery = await deps.store.getDelivery(deliveryId);
      if (delivery === null) throw ApplicationFailure.nonRetryable(`delivery ${deliveryId} does not exist`, 'NotFound');
      if (delivery.state !== 'pending') return { state: delivery.state, statusCode: delivery.lastStatus };
      const attempt = await deps.store.startDeliveryAttempt(deliveryId);
      if (attempt === null) {
        const now = await deps.store.getDelivery(deliveryId);
        return { state: now?.state === 'failed' ? 'failed' : 'sent', statusCode: now?.lastStatus ?? null };
      }
      const facts = await deps.store.getCommitStartFacts(delivery.repo, delivery.sha);
      try {
        const { statusCode } = await sendDelivery(delivery, facts?.settings ?? {}, fb);
        await deps.store.finishDeliveryAttempt(deliveryId, attempt, { outcome: 'sent', statusCode, error: null });
        return { state: 'sent', statusCode };
      } catch (err) {
        const e = err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.message : String(err), null, false);
        const message = e.message.slice(0, 2000);
        await deps.store.finishDeliveryAttempt(deliveryId, attempt, { outcome: e.retryable ? 'retry' : 'failed', statusCode: e.statusCode, error: message });
        if (!e.retryable) return { state: 'failed', statusCode: e.statusCode };
        throw ApplicationFailure.create({ message, type: DELIVERY_RETRY, nextRetryDelay: e.retryAfterMs });
      }
    },

    /** Retries exhausted: the delivery is recorded as failed (its tries stay in the log). */
    async abandonDelivery(input: AbandonDeliveryInput): Promise<void> {
      const { deliveryId, error } = validateInput(AbandonDeliveryInput, input, 'abandonDelivery');
      const attempt = await deps.store.startDeliveryAttempt(deliveryId);
      if (attempt !== null) await deps.store.finishDeliveryAttempt(deliveryId, attempt, { outcome: 'failed', statusCode: null, error: `given up: ${error}`.slice(0, 2000) });
    },
  };
}

export type FeedbackActivities = ReturnType<typeof createFeedbackActivities>;

/** Sends a planned delivery with the repository's current secrets (never stored with it). */
async function sendDelivery(d: DeliveryRow, settings: RepoSettings, fb: FeedbackDeps): Promise<{ statusCode: number }> {
  const p = d.payload as Record<string, unknown>;
  let provider: FeedbackProvider;
  switch (d.kind) {
    case 'github_status':
    case 'github_comment': {
      const token = settings.github?.token;
      if (token === undefined) throw new DeliveryError('the repository has no GitHub token any more', null, false);
      const github = new GitHubProvider({ apiUrl: fb.githubApiUrl, token, repository: String(p.repository), fetch: fb.fetch });
      if (d.kind === 'github_status') {
        return github.setCommitStatus({ sha: String(p.sha), context: String(p.context), state: p.state === 'success' ? 'success' : 'failure', description: String(p.description), targetUrl: String(p.targetUrl) });
      }
      return github.upsertPullRequestComment({ pullRequest: Number(p.pullRequest), body: String(p.body), marker: COMMENT_MARKER });
    }
    case 'webhook': {
      const hook = (settings.webhooks ?? []).find((w) => w.url === p.url);
      if (hook?.secret === undefined) throw new DeliveryError(`webhook ${String(p.url)} is no longer configured (or has no secret)`, null, false);
      provider = new WebhookProvider({ url: hook.url, secret: hook.secret, event: WEBHOOK_EVENT, fetch: fb.fetch });
      return provider.sendEvent!({ deliveryId: d.id, body: String(p.body) });
    }
  }
}

function webhookBody(x: {
  id: string;
  repo: string;
  sha: string;
  metadata: { branch?: string; pullRequest?: number; parentSha?: string };
  version: number;
  headTotals: unknown;
  comparison: CommitComparison | null;
  statuses: CommitStatus[];
  commitUrl: string;
}) {
  return {
    event: WEBHOOK_EVENT,
    deliveryId: x.id,
    repository: x.repo,
    commit: { sha: x.sha, branch: x.metadata.branch ?? null, pullRequest: x.metadata.pullRequest ?? null, parentSha: x.metadata.parentSha ?? null },
    report: { version: x.version, totals: x.headTotals },
    comparison: x.comparison,
    statuses: x.statuses,
    url: x.commitUrl,
  };
}
