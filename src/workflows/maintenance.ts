import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MaintenanceActivities } from '../activities';
import type { GcPageResult, GcPosition } from '../activities/contracts';
import type { RetentionPolicy } from '../config';
import type { GcPrefix } from '../storage/blob-store';
import type { GcReason } from '../storage/gc-plan';

/** Sweeps page through the database or a listing; each page heartbeats. */
const sweep = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes: ['InvalidActivityInput'] },
});

export interface ReconcileWorkflowInput {
  olderThanMs: number;
  /** Commits per activity call. */
  pageSize?: number;
}

export interface ReconcileSummary {
  examined: number;
  released: number;
  nudged: number;
}

const RECONCILE_PAGE = 100;
/** A run looks at this many pages at most; what is left waits for the next run, a minute later. */
const RECONCILE_MAX_PAGES = 50;

/** The `tributary-reconcile` schedule's workflow: pages through the commits with stuck uploads. */
export async function reconcileWorkflow(input: ReconcileWorkflowInput): Promise<ReconcileSummary> {
  const total: ReconcileSummary = { examined: 0, released: 0, nudged: 0 };
  let after = 0;
  for (let page = 0; page < RECONCILE_MAX_PAGES; page++) {
    const r = await sweep.reconcile({ olderThanMs: input.olderThanMs, afterCommitId: after, limit: input.pageSize ?? RECONCILE_PAGE });
    total.examined += r.examined;
    total.released += r.released;
    total.nudged += r.nudged;
    if (r.next === null) break;
    after = r.next;
  }
  return total;
}

export interface GcWorkflowInput {
  policy: RetentionPolicy;
  dryRun: boolean;
  verbose: boolean;
  /** Keys listed per page (1000 at most). */
  pageSize?: number;
  /** The time lifetimes are measured to (ms since the epoch); the workflow's start by default. */
  now?: number;
  /** Where a continued sweep resumes, and what it found so far. */
  resume?: { now: number; position: GcPosition; summary: GcSummary };
}

export interface GcPrefixSummary {
  prefix: GcPrefix;
  listed: number;
  deleted: number;
  deletedBytes: number;
  kept: number;
  keptBytes: number;
  byReason: Partial<Record<GcReason, number>>;
  /** With `verbose`: the keys that went (or would go), up to GC_MAX_KEYS over the sweep. */
  keys: string[];
  /** Keys beyond that bound, counted only. */
  keysOmitted: number;
}

export interface GcSummary {
  dryRun: boolean;
  /** The sweep's time (ms since the epoch): every lifetime is measured to it. */
  now: number;
  prefixes: GcPrefixSummary[];
}

/** Keys a verbose sweep returns at most: its result is one payload. */
export const GC_MAX_KEYS = 5_000;

/**
 * The `tributary-gc` schedule's workflow (and `tributary gc`'s): every swept prefix, page by
 * page, all measured to one time. Long sweeps continue-as-new with their position and counts.
 */
export async function gcWorkflow(input: GcWorkflowInput): Promise<GcSummary> {
  const now = input.resume?.now ?? input.now ?? Date.now();
  const summary: GcSummary = input.resume?.summary ?? { dryRun: input.dryRun, now, prefixes: [] };
  let keysHeld = summary.prefixes.reduce((n, p) => n + p.keys.length, 0);
  // The activity names the next page (and the order of the prefixes): null is the first.
  let position: GcPosition | null = input.resume?.position ?? null;
  do {
    const page: GcPageResult = await sweep.gcPage({ position, pageSize: input.pageSize ?? 1000, dryRun: input.dryRun, verbose: input.verbose, policy: input.policy, now });
    let into = summary.prefixes.find((p) => p.prefix === page.prefix);
    if (into === undefined) {
      into = { prefix: page.prefix, listed: 0, deleted: 0, deletedBytes: 0, kept: 0, keptBytes: 0, byReason: {}, keys: [], keysOmitted: 0 };
      summary.prefixes.push(into);
    }
    into.listed += page.listed;
    into.deleted += page.deleted;
    into.deletedBytes += page.deletedBytes;
    into.kept += page.kept;
    into.keptBytes += page.keptBytes;
    for (const [reason, n] of Object.entries(page.byReason) as [keyof GcPrefixSummary['byReason'], number][]) {
      into.byReason[reason] = (into.byReason[reason] ?? 0) + n;
    }
    const room = Math.max(0, GC_MAX_KEYS - keysHeld);
    into.keys.push(...page.keys.slice(0, room));
    into.keysOmitted += Math.max(0, page.keys.length - room);
    keysHeld += Math.min(room, page.keys.length);
    position = page.next;
    if (position !== null && workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof gcWorkflow>({ ...input, resume: { now, position, summary } });
    }
  } while (position !== null);
  return summary;
}
