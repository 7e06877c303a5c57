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
import type { ActivityDeps } from './deps';
import { ProcessUploadInput, ProcessUploadsInput, type ProcessSummary, type UploadError, type UploadErrorCode } from './contracts';
import { validateInput } from './validate';

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
  return async function processUpload(input: ProcessUploadInput): Promise<ProcessSummary> {
    const { repo, sha, uploadId, session, target } = validateInput(ProcessUploadInput, input, 'processUpload');
    const real = target.kind === 'commit';
    const fail = async (error: UploadError): Promise<ProcessSummary> => {
      if (real) await deps.store.markError(uploadId, error.code, error.message);
      return { uploadId, session, files: 0, lines: 0, error };
    };

    const upload = await deps.store.getUpload(uploadId);
    if (!upload) return { uploadId, session, files: 0, lines: 0, error: { code: 'unknown_processing', message: `upload ${uploadId} is not registered` } };
    if (upload.state === 'cancelled') return { uploadId, session, files: 0, lines: 0, error: { code: 'cancelled', message: 'the upload was cancelled' } };

    const raw = await deps.blobs.get(upload.rawKey);
    if (raw === null) return fail({ code: 'file_not_in_storage', message: `the raw upload (${upload.rawKey}) is not in storage` });
    Context.current().heartbeat({ stage: 'parsing', bytes: raw.byteLength });

    const repository = await deps.store.getRepository(repo);
    const settings = repository?.settings ?? {};
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
    Context.current().heartbeat({ stage: 'writing' });
    Context.current().cancellationSignal.throwIfAborted();

    const key = target.kind === 'commit' ? keys.intermediate(uploadId) : keys.scratchIntermediate(repo, sha, target.batch, uploadId, target.area);
    await deps.blobs.put(key, compressReport(parsed.report));
    const allWarnings = withFixWarnings(parsed.warnings, fixes?.warnings ?? []);
    if (real) await deps.store.markProcessed(uploadId, key, allWarnings);
    const totals = reportTotals(parsed.report);
    const warnings = warningCount(allWarnings);
    return { uploadId, session, key, format: parsed.format, files: totals.files, lines: totals.lines, ...(warnings > 0 ? { warnings } : {}) };
  };
}

/**
 * Processor of a chunk: the uploads one after the other, exactly as processUpload takes each
 * (so one activity slot still parses one upload at a time, within the same memory budget). One
 * activity instead of one per upload spares the task queue's round trips and history events per
 * upload, which dominate small uploads. Idempotent as processUpload: a retried chunk redoes its
 * uploads into the same intermediates.
 */
export function createProcessUploads(deps: ActivityDeps) {
  const processUpload = createProcessUpload(deps);
  return async function processUploads(input: ProcessUploadsInput): Promise<ProcessSummary[]> {
    const { repo, sha, uploads, target } = validateInput(ProcessUploadsInput, input, 'processUploads');
    const summaries: ProcessSummary[] = [];
    for (const u of uploads) {
      summaries.push(await processUpload({ repo, sha, uploadId: u.uploadId, session: u.session, target }));
      Context.current().heartbeat({ stage: 'processed', done: summaries.length, of: uploads.length });
    }
    return summaries;
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
