import type { RepoSettings } from '../storage/rows';

/**
 * Temporal task priority keys of commit workflows (their activities and children inherit them):
 * a lower key is dispatched first when workers are saturated, and tasks of one key keep their
 * order. Four levels and no more, because priorities work when used sparingly: a repository an
 * operator marked urgent, then the default branch, then commits nothing is known of (the server's
 * default, 3 of 1..5), then pull requests and other branches.
 */
export const PRIORITY_KEYS = { urgent: 1, default_branch: 2, unknown: 3, other_branch: 4 } as const;

export type PriorityReason = keyof typeof PRIORITY_KEYS;

export interface CommitPriority {
  key: (typeof PRIORITY_KEYS)[PriorityReason];
  reason: PriorityReason;
}

export interface PriorityInput {
  branch?: string;
  pullRequest?: number;
  settings: RepoSettings;
  /** The deployment's default branch, for repositories that do not name their own. */
  defaultBranch: string;
}

/** The priority of a commit's processing, from what CI said of it and its repository's settings. */
export function commitPriority({ branch, pullRequest, settings, defaultBranch }: PriorityInput): CommitPriority {
  const of = (reason: PriorityReason): CommitPriority => ({ key: PRIORITY_KEYS[reason], reason });
  if (settings.urgent === true) return of('urgent');
  // A pull request's upload names its head branch, which may even be called like the default one.
  if (pullRequest !== undefined) return of('other_branch');
  if (branch === undefined) return of('unknown');
  return of(branch === (settings.defaultBranch ?? defaultBranch) ? 'default_branch' : 'other_branch');
}
