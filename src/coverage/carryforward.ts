/**
 * Carryforward, the pure part: which sessions of a commit's ancestors a commit carries for the
 * carryforward flags its own uploads lack, the ids they get, and which carried sessions a real
 * upload replaces. No I/O: the activity (src/activities/carry-forward.ts) reads the reports.
 *
 * Order independence rests on two rules. Ids: the candidates are the sessions that could ever be
 * carried (for every carryforward flag, whatever was uploaded), numbered densely from
 * CARRIED_SESSION_BASE in (ancestor distance, source session id) order; an id depends only on the
 * ancestors and the declared flags, never on which uploads came first. Replacement: a real upload
 * with any flag of a carried session takes that session out. So whatever the order, the report
 * ends with the candidates none of whose flags was uploaded, under the same ids.
 */
import { filterSessions } from './merge';
import { CoverageReport, type Session } from './report';
import { FileCoverage } from './file-coverage';

/** A complete ancestor's sessions; `distance` 1 is the parent. */
export interface AncestorSessions {
  sha: string;
  distance: number;
  sessions: readonly Session[];
}

export interface CarriedSession {
  /** The ancestor it is copied from (the nearest that had the flag). */
  from: string;
  /** Its id in that ancestor's report. */
  sourceId: number;
  /** The session as the commit's report holds it: a new id, `carriedforward`, its origin commit. */
  session: Session;
}

export interface CarryPlanInput {
  /** The flags declared carryforward. */
  carryforwardFlags: readonly string[];
  /** Flags of the commit's own (uploaded) sessions. */
  uploadedFlags: ReadonlySet<string>;
  /** Complete ancestors, nearest first. */
  ancestors: readonly AncestorSessions[];
  /** The first carried id (CARRIED_SESSION_BASE). */
  firstId: number;
}

const hasFlag = (s: Session, flag: string) => s.flags?.includes(flag) ?? false;

/** The flags of a report's own sessions (carried ones excluded). */
export function uploadedFlags(sessions: readonly Session[]): Set<string> {
  const out = new Set<string>();
  for (const s of sessions) if (s.type !== 'carriedforward') for (const f of s.flags ?? []) out.add(f);
  return out;
}

/** Whether an ancestor search is needed at all: some carryforward flag was not uploaded. */
export function lacksCarryforwardFlag(carryforwardFlags: readonly string[], uploaded: ReadonlySet<string>): boolean {
  return carryforwardFlags.some((f) => !uploaded.has(f));
}

/**
 * Every carryforward flag found, in the ancestors given (nearest first): the caller may stop
 * reading ancestors once this is true.
 */
export function everyFlagFound(carryforwardFlags: readonly string[], ancestors: readonly AncestorSessions[]): boolean {
  return carryforwardFlags.every((f) => ancestors.some((a) => a.sessions.some((s) => hasFlag(s, f))));
}

/** The sessions to carry, in id order (see the module comment). */
export function planCarryforward({ carryforwardFlags, uploadedFlags: uploaded, ancestors, firstId }: CarryPlanInput): CarriedSession[] {
  const byDistance = [...ancestors].sort((a, b) => a.distance - b.distance);
  // Candidates, keyed by ancestor and source id so a session picked by two flags counts once.
  const candidates = new Map<string, { ancestor: AncestorSessions; source: Session }>();
  for (const flag of [...new Set(carryforwardFlags)].sort()) {
    const nearest = byDistance.find((a) => a.sessions.some((s) => hasFlag(s, flag)));
    if (nearest === undefined) continue;
    for (const s of nearest.sessions) if (hasFlag(s, flag)) candidates.set(`${nearest.distance}:${s.id}`, { ancestor: nearest, source: s });
  }
  const ordered = [...candidates.values()].sort((a, b) => a.ancestor.distance - b.ancestor.distance || a.source.id - b.source.id);
  const out: CarriedSession[] = [];
  ordered.forEach(({ ancestor, source }, rank) => {
    if ((source.flags ?? []).some((f) => uploaded.has(f))) return; // replaced by the commit's own upload
    const { id: _id, ...meta } = source;
    out.push({
      from: ancestor.sha,
      sourceId: source.id,
      // A session the ancestor carried itself keeps pointing at the commit it was uploaded to.
      session: { ...meta, id: firstId + rank, type: 'carriedforward', carriedFrom: source.carriedFrom ?? ancestor.sha },
    });
  });
  return out;
}

/**
 * The carried sessions' part of one ancestor's report, under their new ids. Ids are assigned in
 * source order within an ancestor, so renumbering keeps every line's entries sorted.
 */
export function carriedPart(ancestor: CoverageReport, carried: readonly CarriedSession[]): CoverageReport {
  const idOf = new Map(carried.map((c) => [c.sourceId, c.session.id]));
  const kept = filterSessions(ancestor, (s) => idOf.has(s.id));
  const files: FileCoverage[] = [];
  for (const f of kept) {
    const sessionIds = f.sessionIds.map((id) => idOf.get(id)!);
    files.push(new FileCoverage(f.path, { lines: f.lines, offsets: f.offsets, sessionIds, nums: f.nums, dens: f.dens, flags: f.flags, extras: f.extras }));
  }
  return new CoverageReport(files, carried.map((c) => c.session));
}

/** Carried sessions of `sessions` that an upload with any of `flags` replaces. */
export function replacedCarried(sessions: readonly Session[], flags: ReadonlySet<string>): Set<number> {
  const out = new Set<number>();
  if (flags.size === 0) return out;
  for (const s of sessions) if (s.type === 'carriedforward' && (s.flags ?? []).some((f) => flags.has(f))) out.add(s.id);
  return out;
}
