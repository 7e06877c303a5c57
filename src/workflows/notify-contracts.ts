import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Workflow id of a commit's notifier: one per commit, so every nudge finds the same run. */
export function notifyWorkflowId(repo: string, sha: string): string {
  return `notify:${repo}:${sha}`;
}

export interface NotifySettings {
  /** Quiet period: a commit with no news for this long settles. */
  settleAfterMs: number;
  /** A settled notifier with no news for this long closes. */
  idleTimeoutMs: number;
}

/** What settled a commit: the uploader's "done", the expected uploads, the quiet period, or an earlier run. */
export type SettledBy = 'done' | 'after_n_builds' | 'quiet' | 'earlier_run';

export interface NotifyCarry {
  settledBy: SettledBy | null;
  done: boolean;
  notifiedVersion: number;
}

export interface NotifyWorkflowInput {
  repo: string;
  sha: string;
  settings: NotifySettings;
  carry?: NotifyCarry;
}

export interface NotifyState extends NotifyCarry {
  phase: 'waiting' | 'notifying' | 'closed';
  /** Notifications sent (report versions notified) by this run. */
  notifications: number;
}

export type NotifyResult = NotifyState;

/** The commit workflow saved a report version (or finished a batch): look again. */
export const reportSignal = defineSignal<[{ version: number }]>('report');
/** The uploader said no more uploads are coming (`tributary done`, Codecov's upload-complete). */
export const doneSignal = defineSignal('done');
export const notifyStateQuery = defineQuery<NotifyState>('notifyState');
