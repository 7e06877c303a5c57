import { Context } from '@temporalio/activity';
import { decodeStoredFixes, resolveFixes, type StoredFixes } from '../codecov/fixes';
import { compressSerialized, mergeSerializedReports, serializeReport } from '../coverage/report-format';
import { isReportParseError, type ReportParseError } from '../coverage/errors';
import { parseReport } from '../coverage/parse';
import { createPathResolver, uploadPathOptions } from '../coverage/paths';
import { reportTotals } from '../coverage/totals';
import { FORMATS, type FormatName } from '../coverage/types';
import { PARSE_WARNING_CODES, warningCount, type ParseWarning } from '../coverage/warnings';
import { intermediatePartName } from '../storage/blob-store';
import { intermediateKey } from './intermediates';
import type { RepoSettings, UploadRow } from '../storage/store';
import type { ActivityDeps } from './deps';
import { throttledHeartbeat } from './heartbeat';
import { ProcessUploadInput, ProcessUploadsInput, type ProcessSummary, type Target, type UploadError, type UploadErrorCode } from './contracts';
import { validateInput } from './validate';

/**
 * Intermediates up to this size are stored without gzip: they live only until merged, and on a
 * small report gzip's set-up (about 55 µs here) and the finisher's inflate cost more than the
 * bytes they save.
 */
const PLAIN_INTERMEDIATE_MAX_BYTES = 64 * 1024;

/**
 * A chunk's parsed reports are written together, as one part, until they reach this size: one
 * blob where there were one per upload (a file created, read and deleted, or an S3 PUT, GET and
 * DELETE, for each small upload), while a chunk of large uploads holds at most this much at once.
 */
const DEFAULT_PART_MAX_BYTES = 8 * 1024 * 1024;

/** What processing one upload came to, before its report is written. */
type Parsed =
  | { ok: false; summary: ProcessSummary }
  | {
      ok: true;
      /** The summary without the intermediate's key, which the write gives. */
      summary: ProcessSummary;
      /** Its serialized report (a one-session report, plain). */
      bytes: Uint8Array;
      warnings: ParseWarning[];
    };

/**
 * Processor: raw upload -> intermediate report (one session, numbered at registration).
 * Idempotent: the intermediate key derives from the upload id (or the experiment batch), so a
 * re-run overwrites the same blob (a part's name derives from all of its upload ids). In scratch
 * mode (an experiment's shadow) nothing is written to the database. A processor of a terminated run that finishes late, after the next run took its
 * upload over, is left unfenced on purpose: it rewrites the same intermediate from the same raw
 * bytes and session, its state changes never touch a merged upload, and an error it records is
 * the one the next run's processor finds too. Only the finisher's save is fenced (see it).
 */
export function createProcessUpload(deps: ActivityDeps) {
  const parseOne = createParseOne(deps);
  return async function processUpload(input: ProcessUploadInput): Promise<ProcessSummary> {
    const { repo, sha, uploadId, session, target } = validateInput(ProcessUploadInput, input, 'processUpload');
    const [upload, repository] = await Promise.all([deps.store.getUpload(uploadId), deps.store.getRepository(repo)]);
    const parsed = await parseOne({ repo, sha, uploadId, session, target }, upload, repository?.settings ?? {}, throttledHeartbeat());
    if (!parsed.ok) return parsed.summary;
    const [summary] = await writeParts(deps, repo, sha, target, [parsed]);
    return summary!;
  };
}

/**
 * Processor of a chunk: the uploads parsed one after the other, each exactly as processUpload
 * parses it (so an activity slot still parses one upload at a time), their reports written
 * together as parts of at most `partMaxBytes` (`intermediatePartName`; a part of one upload is
 * that upload's own intermediate). One activity instead of one per upload spares the task queue's
 * round trips and history events per upload, which dominate small uploads; so the rows are read
 * in one statement and the processed states written in one, and the repository once. Idempotent
 * as processUpload: a retried chunk redoes its uploads into the same parts (or, grouped otherwise,
 * into parts of other names), and marking a processed upload again is allowed.
 */
export function createProcessUploads(deps: ActivityDeps) {
  const parseOne = createParseOne(deps);
  return async function processUploads(input: ProcessUploadsInput): Promise<ProcessSummary[]> {
    const { repo, sha, uploads, target } = validateInput(ProcessUploadsInput, input, 'processUploads');
    const [rows, repository] = await Promise.all([deps.store.getUploads(uploads.map((u) => u.uploadId)), deps.store.getRepository(repo)]);
    const byId = new Map(rows.map((r) => [r.uploadId, r]));
    const settings = repository?.settings ?? {};
    const summaries = new Map<string, ProcessSummary>();
    const heartbeat = throttledHeartbeat();
    const partMax = deps.partMaxBytes ?? DEFAULT_PART_MAX_BYTES;
    let part: Array<Extract<Parsed, { ok: true }>> = [];
    let partBytes = 0;
    const flush = async () => {
      for (const s of await writeParts(deps, repo, sha, target, part)) summaries.set(s.uploadId, s);
      part = [];
      partBytes = 0;
    };
    for (const u of uploads) {
      const parsed = await parseOne({ repo, sha, uploadId: u.uploadId, session: u.session, target }, byId.get(u.uploadId) ?? null, settings, heartbeat);
      if (parsed.ok) {
        if (part.length > 0 && partBytes + parsed.bytes.byteLength > partMax) await flush();
        part.push(parsed);
        partBytes += parsed.bytes.byteLength;
      } else {
        summaries.set(u.uploadId, parsed.summary);
      }
      heartbeat({ stage: 'parsed', done: summaries.size + part.length, of: uploads.length });
    }
    if (part.length > 0) await flush();
    return uploads.map((u) => summaries.get(u.uploadId)!);
  };
}

/**
 * Writes parsed uploads as one intermediate (the upload's own when it is alone, else a part
 * merged from their reports) and, for the commit, marks them processed with its key.
 */
async function writeParts(deps: ActivityDeps, repo: string, sha: string, target: Target, parsed: ReadonlyArray<Extract<Parsed, { ok: true }>>): Promise<ProcessSummary[]> {
  // A cancelled commit stops here rather than writing a report nobody will merge.
  Context.current().cancellationSignal.throwIfAborted();
  const ids = parsed.map((p) => p.summary.uploadId);
  const part = ids.length > 1 ? intermediatePartName(ids) : undefined;
  const key = intermediateKey(repo, sha, target, part ?? ids[0]!);
  const bytes = part === undefined ? parsed[0]!.bytes : mergeSerializedReports(parsed.map((p) => p.bytes), { name: `part ${part}` }).bytes;
  await deps.blobs.put(key, compressSerialized(bytes, 6, PLAIN_INTERMEDIATE_MAX_BYTES));
  const summaries = parsed.map((p) => ({ ...p.summary, key, ...(part !== undefined ? { part } : {}) }));
  if (target.kind === 'commit') await deps.store.markProcessedMany(parsed.map((p) => ({ uploadId: p.summary.uploadId, intermediateKey: key, warnings: p.warnings })));
  return summaries;
}

/** One upload parsed, its row and its repository's settings read by the caller; nothing written but an error's mark. */
function createParseOne(deps: ActivityDeps) {
  return async function parseOne(input: ProcessUploadInput, upload: UploadRow | null, settings: RepoSettings, heartbeat: (details: unknown) => void): Promise<Parsed> {
    const { uploadId, session, target } = input;
    const real = target.kind === 'commit';
    const fail = async (error: UploadError): Promise<Parsed> => {
      if (real) await deps.store.markError(uploadId, error.code, error.message);
      return { ok: false, summary: { uploadId, session, files: 0, lines: 0, error } };
    };

    if (!upload) return { ok: false, summary: { uploadId, session, files: 0, lines: 0, error: { code: 'unknown_processing', message: `upload ${uploadId} is not registered` } } };
    if (upload.state === 'cancelled') return { ok: false, summary: { uploadId, session, files: 0, lines: 0, error: { code: 'cancelled', message: 'the upload was cancelled' } } };
    const raw = await deps.blobs.get(upload.rawKey);
    if (raw === null) return fail({ code: 'file_not_in_storage', message: `the raw upload (${upload.rawKey}) is not in storage` });
    heartbeat({ stage: 'parsing', bytes: raw.byteLength });

    let repoFiles: string[] | undefined;
    if (upload.repoFilesKey) {
      const list = await deps.blobs.get(upload.repoFilesKey);
      repoFiles = list ? Buffer.from(list).toString('utf8').split('\n').filter(Boolean) : undefined;
    }
    let fixes: StoredFixes | undefined;
    if (upload.reportFixesKey) {
      const blob = await deps.blobs.get(upload.reportFixesKey);
      // Without its fixes the session would count lines Codecov drops: a wrong report, not a smaller one.
      if (blob === null) return fail({ code: 'file_not_in_storage', message: `the upload's line fixes (${upload.reportFixesKey}) are not in storage` });
      try {
        fixes = decodeStoredFixes(blob);
      } catch (err) {
        return fail({ code: 'report_invalid', message: `the upload's line fixes (${upload.reportFixesKey}) are unreadable: ${(err as Error).message.slice(0, 500)}` });
      }
    }
    const pathOptions = uploadPathOptions(settings, upload.pathFixes, repoFiles);
    // Their own resolver: the report's one holds the report's Cobertura source bases.
    const fixResolver = fixes ? createPathResolver(pathOptions) : undefined;
    const exclusions = fixes && fixResolver ? resolveFixes(fixes.files, (p) => fixResolver.resolve(p)) : undefined;
    const format = upload.formatHint && (FORMATS as readonly string[]).includes(upload.formatHint) ? (upload.formatHint as FormatName) : undefined;
    let parsed;
    try {
      parsed = await parseReport(raw, {
        fileName: upload.name ?? uploadId,
        format,
        limits: deps.limits,
        resolver: createPathResolver(pathOptions),
        exclusions,
        sessionId: session,
        session: {
          name: upload.name ?? undefined,
          flags: upload.flags.length > 0 ? [...upload.flags].sort() : undefined,
          build: upload.build ?? undefined,
          job: upload.job ?? undefined,
          ciUrl: upload.ciUrl ?? undefined,
          type: 'uploaded',
        },
      });
    } catch (err) {
      if (isReportParseError(err)) return fail({ code: errorCodeOf(err), message: err.message.slice(0, 2000) });
      throw err; // I/O and the unexpected: retried with backoff
    }
    heartbeat({ stage: 'serializing' });
    const allWarnings = withFixWarnings(parsed.warnings, fixes?.warnings ?? []);
    const totals = reportTotals(parsed.report);
    const warnings = warningCount(allWarnings);
    return {
      ok: true,
      summary: { uploadId, session, format: parsed.format, files: totals.files, lines: totals.lines, ...(warnings > 0 ? { warnings } : {}) },
      bytes: serializeReport(parsed.report),
      warnings: allWarnings,
    };
  };
}

/** The parser's warnings and the fixes' (codes apart), in the order of PARSE_WARNING_CODES. */
function withFixWarnings(parsed: ParseWarning[], fixes: readonly ParseWarning[]): ParseWarning[] {
  if (fixes.length === 0) return parsed;
  const all = [...parsed, ...fixes];
  return all.sort((a, b) => PARSE_WARNING_CODES.indexOf(a.code) - PARSE_WARNING_CODES.indexOf(b.code));
}

function errorCodeOf(err: ReportParseError): UploadErrorCode {
  switch (err.code) {
    case 'report_empty':
      return 'report_empty';
    case 'limit_exceeded':
      return 'report_too_large';
    default:
      return 'report_invalid';
  }
}
