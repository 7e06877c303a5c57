import { Context } from '@temporalio/activity';
import { mapWindowed } from '../shared/map-windowed';
import { GC_PREFIXES } from '../storage/blob-store';
import { planGc } from '../storage/gc-plan';
import type { ActivityDeps } from './deps';
import { GcPageInput, type GcPageResult } from './contracts';
import { validateInput } from './validate';

const DELETE_CONCURRENCY = 16;

/**
 * Retention, one listed page at a time, prefix after prefix (GC_PREFIXES): lists the page, asks the database what refers to its
 * blobs, plans (gc-plan.ts) and, unless a dry run, applies the plan. A raw upload's row is
 * marked before its blob goes: a crash in between leaves a marked row whose blob the next sweep
 * deletes, never a deleted blob that a re-verification would look for. Every decision is stable
 * (finished uploads stay finished, versions only grow), so a page applied twice deletes nothing
 * more.
 */
export function createGcPage(deps: ActivityDeps) {
  return async function gcPage(input: GcPageInput): Promise<GcPageResult> {
    const v = validateInput(GcPageInput, input, 'gcPage');
    const { prefix, after } = v.position ?? { prefix: GC_PREFIXES[0], after: null };
    const page = await deps.blobs.list(`${prefix}/`, { after: after ?? undefined, limit: v.pageSize });
    const refs = await deps.store.blobReferences(page.blobs.map((b) => b.key));
    const plan = planGc(page.blobs, refs, v.policy, new Date(v.now));
    if (!v.dryRun && plan.delete.length > 0) {
      await deps.store.markRawDeleted(plan.delete.flatMap((d) => (d.rawOf === undefined ? [] : [d.rawOf])));
      Context.current().heartbeat({ prefix, deleting: plan.delete.length });
      await mapWindowed(plan.delete, DELETE_CONCURRENCY, (d) => deps.blobs.delete(d.key));
    }
    const byReason: GcPageResult['byReason'] = {};
    for (const d of plan.delete) byReason[d.reason] = (byReason[d.reason] ?? 0) + 1;
    // The sweep's order lives here, so the workflow needs no storage names.
    const following = GC_PREFIXES[GC_PREFIXES.indexOf(prefix) + 1];
    return {
      prefix,
      listed: page.blobs.length,
      deleted: plan.delete.length,
      deletedBytes: plan.delete.reduce((n, d) => n + d.size, 0),
      kept: plan.kept,
      keptBytes: plan.keptBytes,
      byReason,
      keys: v.verbose ? plan.delete.map((d) => d.key) : [],
      next: page.next !== null ? { prefix, after: page.next } : following !== undefined ? { prefix: following, after: null } : null,
    };
  };
}
