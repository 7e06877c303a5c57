import { ApplicationFailure } from '@temporalio/activity';
import type { z } from 'zod';
import type { BlobStore } from '../storage/blob-store';
import { keys } from '../storage/blob-store';
import type { UploadMode } from '../config';
import {
  CommitTotals,
  FinishCommitInput,
  ModeDecision,
  ProcessSummary,
  ProcessUploadInput,
  ResolveModeInput,
} from './contracts';

export interface ActivityDeps {
  blobs: BlobStore;
  /** The repository's mode and why; replaced by the feature-flag provider in the pipeline. */
  decideMode(repo: string): Promise<ModeDecision> | ModeDecision;
}

/** Validates an activity input; invalid input will not get better on retry, so it is non-retryable. */
function validate<T extends z.ZodType>(schema: T, input: unknown, activity: string): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `${activity}: invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      'InvalidActivityInput',
    );
  }
  return parsed.data;
}

interface CommitReportDoc {
  repo: string;
  sha: string;
  /** Per upload: the line count its intermediate report held. Keyed by id, so re-merging is idempotent. */
  uploads: Record<string, number>;
}

export function createActivities(deps: ActivityDeps) {
  return {
    async resolveMode(input: ResolveModeInput): Promise<ModeDecision> {
      const { repo } = validate(ResolveModeInput, input, 'resolveMode');
      return ModeDecision.parse(await deps.decideMode(repo));
    },

    async processUpload(input: ProcessUploadInput): Promise<ProcessSummary> {
      const { uploadId } = validate(ProcessUploadInput, input, 'processUpload');
      const raw = await deps.blobs.get(keys.raw(uploadId));
      if (raw === null) {
        return { uploadId, rawBytes: 0, lines: 0, error: { code: 'file_not_in_storage', message: `raw upload ${uploadId} is not in storage` } };
      }
      const lines = countNonEmptyLines(raw);
      if (lines === 0) {
        return { uploadId, rawBytes: raw.byteLength, lines, error: { code: 'report_empty', message: 'the upload is empty' } };
      }
      const key = keys.intermediate(uploadId);
      await deps.blobs.put(key, Buffer.from(JSON.stringify({ uploadId, rawBytes: raw.byteLength, lines })));
      return { uploadId, key, rawBytes: raw.byteLength, lines };
    },

    async finishCommit(input: FinishCommitInput): Promise<CommitTotals> {
      const { repo, sha, uploads } = validate(FinishCommitInput, input, 'finishCommit');
      const reportKey = keys.commitReport(repo, sha);
      const existing = await deps.blobs.get(reportKey);
      const doc: CommitReportDoc = existing ? (JSON.parse(Buffer.from(existing).toString('utf8')) as CommitReportDoc) : { repo, sha, uploads: {} };
      for (const u of uploads) {
        if (u.error || !u.key) continue;
        const body = await deps.blobs.get(u.key);
        if (body === null) throw new Error(`intermediate report ${u.key} is missing`);
        const inter = JSON.parse(Buffer.from(body).toString('utf8')) as { lines: number };
        doc.uploads[u.uploadId] = inter.lines;
      }
      await deps.blobs.put(reportKey, Buffer.from(JSON.stringify(doc)));
      return {
        merged: Object.keys(doc.uploads).length,
        lines: Object.values(doc.uploads).reduce((a, b) => a + b, 0),
        reportKey,
      };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

function countNonEmptyLines(buf: Uint8Array): number {
  let lines = 0;
  let sawText = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 10) {
      if (sawText) lines++;
      sawText = false;
    } else if (c !== 13 && c !== 32 && c !== 9) {
      sawText = true;
    }
  }
  return sawText ? lines + 1 : lines;
}

/** The default decision until the feature-flag provider exists: the configured default mode. */
export function staticModeDecider(mode: UploadMode) {
  return () => ({ mode, reason: `default mode (${mode})` });
}
