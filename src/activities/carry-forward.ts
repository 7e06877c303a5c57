import { ApplicationFailure } from '@temporalio/activity';
import { gzipSync } from 'node:zlib';
import { carriedPart, everyFlagFound, lacksCarryforwardFlag, planCarryforward, uploadedFlags, type AncestorSessions, type CarriedSession } from '../coverage/carryforward';
import { mergeSerializedReports, readReport, readReportHeader, serializeReport } from '../coverage/report-format';
import { keys } from '../storage/blob-store';
import { CARRIED_SESSION_BASE, DEFAULT_CARRYFORWARD_DEPTH } from '../vocabulary';
import type { ActivityDeps } from './deps';
import { CarryForwardInput, ReportTotalsSchema, type CarryForwardResult } from './contracts';
import { RUN_SUPERSEDED, validateInput } from './validate';
import { throttledHeartbeat } from './heartbeat';

/**
 * Carryforward, once per commit, after its first batch: for each carryforward flag (repository
 * settings) none of the commit's merged uploads carries, the sessions with that flag of the
 * nearest complete ancestor on the recorded parent chain (within the depth bound) are merged into
 * the commit's report as a new version, as `carriedforward` sessions naming their source commit.
 * Later real uploads with such a flag replace them in the finisher (finish-commit.ts).
 *
 * An ancestor still processing is passed over for an older complete one, and the decision is not
 * revisited when it completes later: a commit's report never changes under it but by its own
 * uploads. Idempotent: the decision is recorded with the report in one transaction (only for the
 * run that owns the commit, only on the version it was made on); a retry after it answers the
 * saved report, one before it recomputes and rewrites the same key.
 */
export function createCarryForward(deps: ActivityDeps) {
  return async function carryForward(input: CarryForwardInput): Promise<CarryForwardResult> {
    const heartbeat = throttledHeartbeat();
    const { repo, sha, runId, batch } = validateInput(CarryForwardInput, input, 'carryForward');
    const [commit, saved, repository] = await Promise.all([deps.store.getCommit(repo, sha), deps.store.getCommitReport(repo, sha), deps.store.getRepository(repo)]);
    if (commit === null) throw ApplicationFailure.nonRetryable(`commit ${repo}@${sha} does not exist`, 'NotFound');
    // Nothing carried now (or decided earlier): the saved report as it stands.
    const unchanged = async (): Promise<CarryForwardResult> => {
      const now = await deps.store.getCommitReport(repo, sha);
      return { carried: 0, flags: [], version: now?.version ?? 0, reportKey: now?.reportKey ?? null, totals: now ? ReportTotalsSchema.parse(now.totals) : null };
    };
    if (commit.carryforwardAt !== null) return unchanged();

    const settings = repository?.settings ?? {};
    const flags = (settings.flags ?? []).filter((f) => f.carryforward).map((f) => f.name);
    // No carryforward flag: only the decision is recorded, without reading any report.
    const baseBytes = saved && flags.length > 0 ? await deps.blobs.get(saved.reportKey) : null;
    if (saved && flags.length > 0 && baseBytes === null) throw new Error(`report ${saved.reportKey} is missing`);
    const base = saved && baseBytes ? readReportHeader(baseBytes, { name: saved.reportKey }) : null;
    const uploaded = uploadedFlags(base?.sessions ?? []);

    let carried: CarriedSession[] = [];
    const reports = new Map<string, Uint8Array>();
    if (lacksCarryforwardFlag(flags, uploaded)) {
      // Every carryforward flag is looked for, not only the missing ones: the carried ids are
      // numbered over all candidates, so they do not depend on which uploads came first.
      const ancestors: AncestorSessions[] = [];
      for (const a of await deps.store.listCarryforwardAncestors(repo, sha, settings.carryforwardDepth ?? DEFAULT_CARRYFORWARD_DEPTH)) {
        if (a.reportKey === null) continue;
        const bytes = await deps.blobs.get(a.reportKey);
        if (bytes === null) throw new Error(`report ${a.reportKey} of ancestor ${a.sha} is missing`);
        const found = ancestors.length;
        ancestors.push({ sha: a.sha, distance: a.distance, sessions: readReportHeader(bytes, { name: a.reportKey }).sessions });
        // Only an ancestor that is the nearest with some flag can be carried from: keep its bytes alone.
        if (flags.some((f) => !everyFlagFound([f], ancestors.slice(0, found)) && everyFlagFound([f], ancestors))) reports.set(a.sha, bytes);
        heartbeat({ ancestor: a.distance });
        if (everyFlagFound(flags, ancestors)) break;
      }
      carried = planCarryforward({ carryforwardFlags: flags, uploadedFlags: uploaded, ancestors, firstId: CARRIED_SESSION_BASE });
    }

    let report: { reportKey: string; totals: unknown } | undefined;
    if (carried.length > 0) {
      const parts = [...new Set(carried.map((c) => c.from))].map((from) =>
        serializeReport(carriedPart(readReport(reports.get(from)!, { name: from }), carried.filter((c) => c.from === from))),
      );
      heartbeat({ merging: parts.length });
      const version = (saved?.version ?? 0) + 1;
      const merged = mergeSerializedReports(base ? [base.bytes, ...parts] : parts, { name: `v${version}` });
      const reportKey = keys.commitReport(repo, sha, version, batch);
      await deps.blobs.put(reportKey, gzipSync(merged.bytes, { level: 6 }));
      report = { reportKey, totals: merged.totals };
    }
    const outcome = await deps.store.recordCarryforward({ repo, sha, runId, baseVersion: saved?.version ?? 0, report });
    if (outcome !== 'saved') {
      throw ApplicationFailure.nonRetryable(`the carryforward of ${repo}@${sha} was not recorded (${outcome})`, RUN_SUPERSEDED);
    }
    if (report === undefined) return unchanged();
    return {
      carried: carried.length,
      flags: carriedFlags(carried, flags),
      version: (saved?.version ?? 0) + 1,
      reportKey: report.reportKey,
      totals: ReportTotalsSchema.parse(report.totals),
    };
  };
}

/** Each carried flag once, with the ancestor its sessions came from. */
function carriedFlags(carried: readonly CarriedSession[], carryforward: readonly string[]): CarryForwardResult['flags'] {
  const seen = new Map<string, string>();
  for (const c of carried) for (const f of c.session.flags ?? []) if (carryforward.includes(f) && !seen.has(f)) seen.set(f, c.from);
  return [...seen].sort(([a], [b]) => (a < b ? -1 : 1)).map(([flag, from]) => ({ flag, from }));
}
