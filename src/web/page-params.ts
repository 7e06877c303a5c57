/**
 * What the pages accept in their URLs (zod): path parameters and queries, and the one way a bad
 * one becomes a 400 page (`BadRequest`, thrown by `parse`, answered by the pages' error handler).
 */
import { z } from 'zod';
import { COMMIT_SHA_ANY_CASE, REPO_OWNER, SLUG_SEGMENT, MAX_SLUG_LENGTH } from '../vocabulary';
import { COMPARE_SORTS } from './pages/compare';
import { SORT_ORDERS, TREE_SORTS } from './tree';

const owner = z.string().regex(REPO_OWNER);
const name = z.string().regex(SLUG_SEGMENT);
export const RepoParams = z.object({ owner, repo: name }).refine((p) => `${p.owner}/${p.repo}`.length <= MAX_SLUG_LENGTH);
export const CommitParams = z
  .object({ owner, repo: name, sha: z.string().regex(COMMIT_SHA_ANY_CASE).transform((s) => s.toLowerCase()) })
  .refine((p) => `${p.owner}/${p.repo}`.length <= MAX_SLUG_LENGTH);
export const BlobParams = z.object({ '*': z.string().min(1).max(4096) });

export const RepositoryQuery = z.object({
  branch: z.string().max(1000).optional().transform((b) => (b === '' ? undefined : b)),
  before: z
    .string()
    .regex(/^\d{1,15}\.[0-9a-f]{7,64}$/, 'expected the "Older commits" link as given')
    .optional(),
});
export const CommitQuery = z.object({
  path: z.string().max(4096).default('').transform((p) => p.replace(/^\/+|\/+$/g, '')),
  sort: z.enum(TREE_SORTS).default('name'),
  order: z.enum(SORT_ORDERS).optional(),
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
});
const optionalFlag = z.string().max(1000).optional().transform((f) => (f === '' ? undefined : f));
export const FileQuery = z.object({ flag: optionalFlag });
const ShaParam = z.string().regex(COMMIT_SHA_ANY_CASE, 'expected a commit sha (hex)').transform((s) => s.toLowerCase());
export const CompareQuery = z.object({
  head: ShaParam,
  base: z
    .string()
    .optional()
    .transform((b) => (b === '' || b === undefined ? undefined : b))
    .pipe(ShaParam.optional()),
  flag: optionalFlag,
  sort: z.enum(COMPARE_SORTS).default('path'),
  order: z.enum(SORT_ORDERS).optional(),
});
export const PullParams = z.object({ number: z.coerce.number().int().min(0).max(2_147_483_647) });

export class BadRequest extends Error {}

export function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new BadRequest(`${what}: ${r.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}`);
  return r.data;
}
