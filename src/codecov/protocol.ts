import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * What the Codecov uploaders (codecov-cli 11, codecov-action) send, as zod schemas, and the signed
 * upload location Tributary answers with. Pure: no I/O.
 */

/** `{service}` of `/upload/{service}/{slug}/…` (codecov-cli's GitService, plus the action's alias). */
export const GIT_SERVICES = ['github', 'gitlab', 'bitbucket', 'github_enterprise', 'gitlab_enterprise', 'bitbucket_server', 'github-actions'] as const;
export const GitServiceSchema = z.enum(GIT_SERVICES);

/**
 * The encoded slug: `owner::::repo`, a GitLab subgroup path `group:::subgroup::::repo` (any depth).
 * Decoded to `owner/repo` or `group/subgroup/repo`, a repository with a nested owner.
 */
export const EncodedSlugSchema = z
  .string()
  .max(400)
  .regex(/^[^:\s/]+(?::::[^:\s/]+)*::::[^:\s/]+$/, 'expected an encoded slug, owner::::repo')
  .transform((s) => {
    const at = s.indexOf('::::');
    return `${s.slice(0, at).split(':::').join('/')}/${s.slice(at + 4)}`;
  });

export function decodeSlug(encoded: string): string {
  return EncodedSlugSchema.parse(encoded);
}

const text = z.string().max(10_000);
/** The clients send null for everything they were not given. */
const nullableText = text.nullable().optional();
/** A pull request number: digits, as the clients send it (string or number). */
const PullId = z
  .union([z.string().max(20), z.number().int().nonnegative()])
  .nullable()
  .optional()
  .transform((v, ctx) => {
    if (v === null || v === undefined || v === '' || v === 'null' || v === 'false') return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) {
      ctx.addIssue({ code: 'custom', message: `pullid: expected a pull request number, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

/** `cli_args`: the client's own arguments, read only for what the other fields do not carry. */
const CliArgsSchema = z
  .looseObject({ build_code: z.union([text, z.number()]).nullable().optional() })
  .nullable()
  .optional();

export const CommitBodySchema = z.looseObject({
  branch: nullableText,
  commitid: text.optional(),
  parent_commit_id: nullableText,
  pullid: PullId,
  cli_args: CliArgsSchema,
});

export const ReportBodySchema = z.looseObject({ code: nullableText, cli_args: CliArgsSchema });

export const UploadBodySchema = z.looseObject({
  ci_service: nullableText,
  ci_url: nullableText,
  env: z.record(z.string(), z.string().nullable()).nullable().optional(),
  flags: z.array(text).max(100).nullable().optional(),
  job_code: nullableText,
  name: nullableText,
  build_code: nullableText,
  cli_args: CliArgsSchema,
});

/** upload-coverage: the three calls' fields in one body. */
export const UploadCoverageBodySchema = UploadBodySchema.extend({
  branch: nullableText,
  code: nullableText,
  commitid: text,
  parent_commit_id: nullableText,
  pullid: PullId,
});

/** `POST /upload/v4?…`: the legacy query; flags repeated (codecov-cli) or comma-joined (Node uploader). */
export const LegacyQuerySchema = z.looseObject({
  commit: text,
  branch: text.optional(),
  build: text.optional(),
  build_url: text.optional(),
  name: text.optional(),
  slug: text.optional(),
  service: text.optional(),
  flags: z.union([text, z.array(text).max(100)]).optional(),
  pr: text.optional(),
  job: text.optional(),
  token: text.optional(),
  package: text.optional(),
});

export const EmptyBodySchema = z.looseObject({});

/** Flags as the client means them: repeated, comma-joined, or both. */
export function splitFlags(flags: readonly string[] | string | null | undefined): string[] {
  const list = flags === null || flags === undefined ? [] : typeof flags === 'string' ? [flags] : flags;
  return [...new Set(list.flatMap((f) => f.split(',')).map((f) => f.trim()).filter((f) => f !== ''))];
}

/** `null`, `''` and the literal strings some CI templates leave behind mean "not given". */
export function given(v: string | number | null | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  const s = String(v).trim();
  return s === '' || s === 'null' || s === 'undefined' ? undefined : s;
}

export function pullNumber(v: string | undefined): number | undefined {
  return PullId.parse(v);
}

// --- the signed upload location -----------------------------------------------------------------

/** The PUT path of a pending upload; the query carries `expires` and `signature`. */
export const PUT_PATH_PREFIX = '/upload/put/';

/** The key of the upload locations: the configured one, else derived from the admin token, which every gateway of a deployment shares. */
export function uploadLocationSecret(configured: string | undefined, adminToken: string): string {
  return configured ?? createHmac('sha256', adminToken).update('tributary codecov upload locations').digest('hex');
}

/** HMAC-SHA256 over the pending upload's id and expiry (unix seconds), hex. */
export function signUploadLocation(secret: string, pendingId: string, expiresAtSec: number): string {
  return createHmac('sha256', secret).update(`${pendingId}.${expiresAtSec}`).digest('hex');
}

export type LocationCheck = 'ok' | 'forged' | 'expired';

/** Forged (bad signature) before expired, so a forger learns nothing about expiry. */
export function checkUploadLocation(secret: string, pendingId: string, expires: string, signature: string, nowMs: number): LocationCheck {
  const expiresAtSec = Number(expires);
  if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return 'forged';
  const expected = Buffer.from(signUploadLocation(secret, pendingId, expiresAtSec), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return 'forged';
  return expiresAtSec * 1000 < nowMs ? 'expired' : 'ok';
}

export function uploadLocationPath(secret: string, pendingId: string, expiresAtSec: number): string {
  return `${PUT_PATH_PREFIX}${pendingId}?expires=${expiresAtSec}&signature=${signUploadLocation(secret, pendingId, expiresAtSec)}`;
}
