import { Context } from '@temporalio/activity';
import { decodeStoredFixes, resolveFixes, type StoredFixes } from '../codecov/fixes';
import { compressReport } from '../coverage/report-format';
import { isReportParseError, type ReportParseError } from '../coverage/errors';
import { parseReport } from '../coverage/parse';
import { createPathResolver, uploadPathOptions } from '../coverage/paths';
import { reportTotals } from '../coverage/totals';
import { FORMATS, type FormatName } from '../coverage/types';
import { PARSE_WARNING_CODES, warningCount, type ParseWarning } from '../coverage/warnings';
import { keys } from '../storage/blob-store';
import type { ProcessedMark, RepoSettings, UploadRow } from '../storage/store';
import type { ActivityDeps } from './deps';
import { throttledHeartbeat } from './heartbeat';
import { ProcessUploadInput, ProcessUploadsInput, type ProcessSummary, type UploadError, type UploadErrorCode } from './contracts';
import { validateInput } from './validate';

/**
 * Intermediates up to this size are stored without gzip: they live only until merged, and on a
 * small report gzip's set-up (about 55 µs here) and the finisher's inflate cost more than the
 * bytes they save.
 */
const PLAIN_INTERMEDIATE_MAX_BYTES = 64 * 1024;

/** What processing one upload came to: its summary, and the state change it asks of the store. */
interface Processed {
  summary: ProcessSummary;
  /** Set when the upload's row is to become 'processed' (commit target only). */
  mark?: ProcessedMark;
}

/**
 * Processor: raw upload -> intermediate report (one session, numbered at registration).
 * Idempotent: the intermediate key derives from the upload id (or the experiment batch), so a
 * re-run overwrites the same blob. In scratch mode (an experiment's shadow) nothing is written to
 * the database. A processor of a terminated run that finishes late, after the next run took its
 * upload over, is left unfenced on purpose: it rewrites the same intermediate from the same raw
 * bytes and session, its state changes never touch a merged upload, and an error it records is
 * the one the next run's processor finds too. Only the finisher's save is fenced (see it).
 */
export function createProcessUpload(deps: ActivityDeps) {
  const processOne = createProcessOne(deps);
  return async function processUpload(input: ProcessUploadInput): Promise<ProcessSummary> {
    const { repo, sha, uploadId, session, target } = validateInput(ProcessUploadInput, input, 'processUpload');
    const [upload, repository] = await Promise.all([deps.store.getUpload(uploadId), deps.store.getRepository(repo)]);
    const { summary, mark } = await processOne({ repo, sha, uploadId, session, target }, upload, repository?.settings ?? {}, throttledHeartbeat());
    if (mark) await deps.store.markProcessedMany([mark]);
    return summary;
  };
}

/**
 * Processor of a chunk: the uploads one after the other, each exactly as processUpload takes it
 * (so one activity slot still parses one upload at a time, within the same memory budget). One
 * activity instead of one per upload spares the task queue's round trips and history events per
 * upload, which dominate small uploads; so the rows are read in one statement and the processed
 * states written in one, and the repository once. Idempotent as processUpload: a retried chunk
 * redoes its uploads into the same intermediates, and marking a processed upload again is allowed.
 */
export function createProcessUploads(deps: ActivityDeps) {
  const processOne = createProcessOne(deps);
  return async function processUploads(input: ProcessUploadsInput): Promise<ProcessSummary[]> {
    const { repo, sha, uploads, target } = validateInput(ProcessUploadsInput, input, 'processUploads');
    const [rows, repository] = await Promise.all([deps.store.getUploads(uploads.map((u) => u.uploadId)), deps.store.getRepository(repo)]);
    const byId = new Map(rows.map((r) => [r.uploadId, r]));
    const settings = repository?.settings ?? {};
    const summaries: ProcessSummary[] = [];
    const marks: ProcessedMark[] = [];
    const heartbeat = throttledHeartbeat();
    for (const u of uploads) {
      const { summary, mark } = await processOne({ repo, sha, uploadId: u.uploadId, session: u.session, target }, byId.get(u.uploadId) ?? null, settings, heartbeat);
      summaries.push(summary);
      if (mark) marks.push(mark);
      heartbeat({ stage: 'processed', done: summaries.length, of: uploads.length });
    }
    if (marks.length > 0) await deps.store.markProcessedMany(marks);
    return summaries;
  };
}

/** One upload, its row and its repository's settings read by the caller. */
function createProcessOne(deps: ActivityDeps) {
  return async function processOne(input: ProcessUploadInput, upload: UploadRow | null, settings: RepoSettings, heartbeat: (details: unknown) => void): Promise<Processed> {
    const { repo, sha, uploadId, session, target } = input;
    const real = target.kind === 'commit';
    const fail = async (error: UploadError): Promise<Processed> => {
      if (real) await deps.store.markError(uploadId, error.code, error.message);
      return { summary: { uploadId, session, files: 0, lines: 0, error } };
    };

    if (!upload) return { summary: { uploadId, session, files: 0, lines: 0, error: { code: 'unknown_processing', message: `upload ${uploadId} is not registered` } } };
    if (upload.state === 'cancelled') return { summary: { uploadId, session, files: 0, lines: 0, error: { code: 'cancelled', message: 'the upload was cancelled' } } };

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
    // A cancelled commit stops here rather than writing a report nobody will merge.
    heartbeat({ stage: 'writing' });
    Context.current().cancellationSignal.throwIfAborted();

    const key = target.kind === 'commit' ? keys.intermediate(uploadId) : keys.scratchIntermediate(repo, sha, target.batch, uploadId, target.area);
    await deps.blobs.put(key, compressReport(parsed.report, 6, PLAIN_INTERMEDIATE_MAX_BYTES));
    const allWarnings = withFixWarnings(parsed.warnings, fixes?.warnings ?? []);
    const totals = reportTotals(parsed.report);
    const warnings = warningCount(allWarnings);
    return {
      summary: { uploadId, session, key, format: parsed.format, files: totals.files, lines: totals.lines, ...(warnings > 0 ? { warnings } : {}) },
      ...(real ? { mark: { uploadId, intermediateKey: key, warnings: allWarnings } } : {}),
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
