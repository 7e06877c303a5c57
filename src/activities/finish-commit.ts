import { ApplicationFailure } from '@temporalio/activity';
import { gzipSync } from 'node:zlib';
import { replacedCarried, uploadedFlags } from '../coverage/carryforward';
import { filterSessions } from '../coverage/merge';
import { mergeSerializedReports, readReport, readReportHeader, serializeFileTotals, serializeReport } from '../coverage/report-format';
import { mapWindowed } from '../shared/map-windowed';
import { keys } from '../storage/blob-store';
import type { ActivityDeps } from './deps';
import { FinishInput, type FinishResult } from './contracts';
import { RUN_SUPERSEDED, validateInput } from './validate';
import { throttledHeartbeat } from './heartbeat';
import { intermediateKey } from './intermediates';

const DEFAULT_FAN_IN = 16;
const READ_CONCURRENCY = 64;

/**
 * Finisher: merges a batch's intermediate reports into the base report and writes the result as
 * a new version. Missing intermediates are reported, not fatal: the workflow re-runs their
 * processors. Re-running after a crash gives the same bytes: the batch's sessions are first
 * taken out of the base, then merged in again (a union of sessions, whatever the order); so are
 * the carried-forward sessions the batch's flags replace.
 *
 * A finisher of a run that was terminated (or timed out) may still be running when the next run
 * has released its uploads and merged them itself. Its blob key names its batch, so it cannot
 * overwrite the live run's report; and the save is fenced by the claim (saveBatchReport): it
 * saves nothing and marks nothing merged once its uploads belong to another batch, and never
 * replaces a higher version. It then fails as superseded, which only its dead run could see.
 */
export function createFinishCommit(deps: ActivityDeps) {
  return async function finishCommit(input: FinishInput): Promise<FinishResult> {
    const { repo, sha, target, baseKey, version, uploads } = validateInput(FinishInput, input, 'finishCommit');
    const real = target.kind === 'commit';
    // An intermediate is an upload's own or a part several uploads of one processor chunk share:
    // each is read once. Every read is issued at once (bounded), so blob-store latency is paid
    // about once, not per group; the base is read alongside. A missing intermediate reads as
    // null: no existence check before (a stat, or an S3 HEAD, per blob), since missing ones are
    // the rare case; all the uploads of a missing part are missing.
    const holders = new Map<string, string[]>();
    for (const u of uploads) {
      const name = u.part ?? u.uploadId;
      const held = holders.get(name);
      if (held) held.push(u.uploadId);
      else holders.set(name, [u.uploadId]);
    }
    const names = [...holders.keys()];
    const basePromise = baseKey ? deps.blobs.get(baseKey) : Promise.resolve(null);
    const blobs = await mapWindowed(names, READ_CONCURRENCY, (name) => deps.blobs.get(intermediateKey(repo, sha, target, name)));
    const baseBytes = await basePromise;
    const missing = names.filter((_, k) => blobs[k] === null).flatMap((name) => holders.get(name)!);
    if (missing.length > 0) return { status: 'missing', missing };
    if (baseKey && baseBytes === null) throw new Error(`base report ${baseKey} is missing`);

    // Tree-merge on the serialized form: groups of `fanIn` intermediates, then the groups and the
    // base; only one path's files are decoded at a time, so memory stays near the blobs' size.
    const fanIn = Math.max(2, deps.mergeFanIn ?? DEFAULT_FAN_IN);
    const heartbeat = throttledHeartbeat();
    const partials: Uint8Array[] = [];
    const batchFlags = new Set<string>();
    const batchSessions = new Set(uploads.map((u) => u.session));
    for (let i = 0; i < blobs.length; i += fanIn) {
      const part = mergeSerializedReports(blobs.slice(i, i + fanIn) as Uint8Array[], { name: `batch of v${version}` });
      // A session outside the batch would be merged as if uploaded in it (one merged twice the merge refuses itself).
      const stray = part.sessions.find((s) => !batchSessions.has(s.id));
      if (stray) throw ApplicationFailure.nonRetryable(`the intermediates of batch ${target.batch} hold session ${stray.id}, which is not the batch's`, 'StraySession');
      partials.push(part.bytes);
      for (const f of uploadedFlags(part.sessions)) batchFlags.add(f);
      heartbeat({ merged: Math.min(i + fanIn, blobs.length), of: blobs.length });
    }
    const base = baseKey && baseBytes ? prepareBase(baseKey, baseBytes, batchSessions, batchFlags) : null;
    const merged = mergeSerializedReports(base ? [base, ...partials] : partials, { name: `v${version}` });
    const totals = merged.totals;

    const reportKey =
      target.kind === 'commit' ? keys.commitReport(repo, sha, version, target.batch) : keys.scratchReport(repo, sha, target.batch, target.area);
    const written = [deps.blobs.put(reportKey, gzipSync(merged.bytes, { level: 6 }))];
    // The commit page's tree reads these instead of decoding the whole report (its first view of
    // a 20,000-file report: ~1 s to decode, tens of ms to read these). They are written before
    // the save, so a saved report has them; reports saved before them are read the old way.
    if (real) written.push(deps.blobs.put(keys.reportTotals(reportKey), gzipSync(serializeFileTotals(merged.files), { level: 6 })));
    await Promise.all(written);
    if (real) {
      const uploadIds = uploads.map((u) => u.uploadId);
      const outcome = await deps.store.saveBatchReport({ repo, sha, batch: target.batch, version, reportKey, totals, uploadIds });
      if (outcome !== 'saved') {
        throw ApplicationFailure.nonRetryable(
          `v${version} of batch ${target.batch} was not saved (${outcome}): ${
            outcome === 'superseded' ? 'its uploads were released to a later run' : 'a newer report is saved'
          }`,
          RUN_SUPERSEDED,
        );
      }
    }
    return { status: 'ok', reportKey, totals };
  };

  /**
   * The report the batch is merged into. A re-run after a crash may find the batch's own sessions
   * already in it: they are taken out, so merging them again counts nothing twice. Carried-forward
   * sessions with a flag the batch uploads are taken out too: a real upload replaces them, in
   * whichever batch (and mode) it arrives.
   */
  function prepareBase(baseKey: string, bytes: Uint8Array, batchSessions: Set<number>, batchFlags: Set<string>): Uint8Array {
    // The header alone says whether the slow path is needed; either way the report is inflated
    // only here, and the merge takes the plain bytes.
    const head = readReportHeader(bytes, { name: baseKey });
    const replaced = replacedCarried(head.sessions, batchFlags);
    if (replaced.size === 0 && !head.sessions.some((s) => batchSessions.has(s.id))) return head.bytes;
    return serializeReport(filterSessions(readReport(head.bytes, { name: baseKey }), (s) => !batchSessions.has(s.id) && !replaced.has(s.id)));
  }
}
