/**
 * The commit statuses `tributary/project` and `tributary/patch`, computed from a comparison and
 * the repository's rules with Codecov's semantics (https://docs.codecov.com/docs/commit-status):
 * `target: auto` is the base commit's coverage, a number is a fixed percentage; `threshold` is the
 * drop below the target still allowed; a missing base is a success (Codecov's `if_not_found:
 * success`); a patch without coverable lines is a success ("not affected").
 */
import type { CommitComparison } from '../coverage/commit-comparison';
import type { StatusRule } from '../storage/rows';
import { numberUnits, percentUnits, showDelta, showPercent } from './percent';

export const STATUS_CONTEXTS = { project: 'tributary/project', patch: 'tributary/patch' } as const;
export type StatusKind = keyof typeof STATUS_CONTEXTS;

export type StatusState = 'success' | 'failure';

export interface CommitStatus {
  context: string;
  state: StatusState;
  /** One line, at most DESCRIPTION_MAX characters (GitHub refuses longer ones). */
  description: string;
}

/** GitHub's limit on a commit status's description. */
export const DESCRIPTION_MAX = 140;

export interface StatusInput {
  /** The head's coverage (five-decimal string), known even when nothing can be compared. */
  headCoverage: string;
  /** Null when the base (or its report) is unknown. */
  comparison: CommitComparison | null;
  rules?: { project?: StatusRule; patch?: StatusRule };
}

export function commitStatuses(input: StatusInput): CommitStatus[] {
  return [projectStatus(input), patchStatus(input)];
}

export function projectStatus({ headCoverage, comparison, rules }: StatusInput): CommitStatus {
  const rule = rules?.project ?? {};
  const head = percentUnits(headCoverage);
  const threshold = numberUnits(rule.threshold ?? 0);
  const context = STATUS_CONTEXTS.project;
  if (rule.target !== undefined && rule.target !== 'auto') {
    const target = numberUnits(rule.target);
    return status(context, head >= target - threshold, `${showPercent(head)} (target ${showPercent(target)})`);
  }
  if (comparison === null) return status(context, true, `${showPercent(head)} (no base report to compare against)`);
  const base = percentUnits(comparison.base.totals.coverage);
  return status(context, head >= base - threshold, `${showPercent(head)} (${showDelta(head - base)}) compared to ${comparison.base.sha.slice(0, 7)}`);
}

export function patchStatus({ comparison, rules }: StatusInput): CommitStatus {
  const rule = rules?.patch ?? {};
  const threshold = numberUnits(rule.threshold ?? 0);
  const context = STATUS_CONTEXTS.patch;
  const patch = comparison?.patch ?? null;
  if (patch === null) return status(context, true, 'No diff stored for this commit: patch coverage unknown');
  const baseRef = comparison === null ? '' : ` compared to ${comparison.base.sha.slice(0, 7)}`;
  if (patch.coverage === null) return status(context, true, `Coverage not affected${baseRef}`);
  const covered = percentUnits(patch.coverage);
  let target: number | null = null;
  if (rule.target !== undefined && rule.target !== 'auto') target = numberUnits(rule.target);
  else if (comparison !== null) target = percentUnits(comparison.base.totals.coverage);
  if (target === null) return status(context, true, `${showPercent(covered)} of diff hit (no base report to compare against)`);
  return status(context, covered >= target - threshold, `${showPercent(covered)} of diff hit (target ${showPercent(target)})`);
}

function status(context: string, ok: boolean, description: string): CommitStatus {
  return { context, state: ok ? 'success' : 'failure', description: oneLine(description) };
}

/** One line of at most DESCRIPTION_MAX characters (code points, so no surrogate is cut). */
export function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length <= DESCRIPTION_MAX ? flat : `${chars.slice(0, DESCRIPTION_MAX - 1).join('')}…`;
}
