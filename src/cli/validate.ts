import { z } from 'zod';
import { durationMs, parseDuration } from '../duration';
import { MAX_CARRYFORWARD_DEPTH, UPLOAD_MODES } from '../vocabulary';
import { UsageError } from './io';

// What the command line accepts; each failure becomes a UsageError (exit code 2). Slugs, shas
// and upload ids use the gateway's own definitions, so the CLI rejects exactly what it would.
export { RepoSlugSchema as SlugSchema, CommitShaSchema as ShaSchema, FlagNameSchema, UploadIdSchema } from '../vocabulary';
export { ParentShaSchema, PullRequestSchema } from '../api/upload-metadata';

/** `default` clears the repository's override, so the rollout decides again. */
export const ModeArgSchema = z.enum([...UPLOAD_MODES, 'default'], { error: `expected one of ${[...UPLOAD_MODES, 'default'].join(', ')}` });

export const TASK_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'terminated', 'continued_as_new', 'timed_out'] as const;

export const FixRuleSchema = z.string().regex(/^.*::.*$/, 'expected "before::after"');

export const UrlSchema = z.url({ protocol: /^https?$/, error: 'expected an http(s):// URL' });

export const IsoTimeSchema = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time, e.g. 2026-01-31T12:00:00Z' });

export const PortSchema = z.coerce.number().int().min(1).max(65_535);

export const CarryforwardDepthSchema = z.coerce.number().int().min(1).max(MAX_CARRYFORWARD_DEPTH);

/**
 * A time given as ISO 8601 or as a duration back from now (`1h`, `30m`, `2d`, through
 * src/duration.ts), as the ISO time the API takes.
 */
export function sinceTime(text: string, what: string, now = Date.now()): string {
  const ms = parseDuration(text);
  if (ms !== undefined && !/^\d+$/.test(text.trim())) return new Date(now - ms).toISOString();
  const iso = IsoTimeSchema.safeParse(text);
  if (!iso.success) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: expected an ISO 8601 time (2026-01-31T12:00:00Z) or a duration back from now (30m, 1h, 2d)`);
  return iso.data;
}

export const PositiveIntSchema = z.coerce.number().int().min(1).max(10_000);

export const RetriesSchema = z.coerce.number().int().min(0).max(20);

/** A wait such as 30s or 10m, at least one second. */
export const WaitSchema = durationMs.pipe(z.number().min(1000, 'expected at least 1s'));

/** Parses `value` as `what` or throws a UsageError naming it. */
export function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const message = r.error.issues[0]?.message ?? 'invalid';
  throw new UsageError(`invalid ${what} ${JSON.stringify(value)}: ${message}`);
}
