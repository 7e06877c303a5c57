import { z } from 'zod';
import { FORMATS } from '../coverage/types';
import type { CommitMetadata } from '../storage/store';
import { CommitShaSchema, FlagNameSchema } from '../vocabulary';

const MAX_TEXT = 10_000;

/** A query parameter or form field given once or repeated. */
const many = z.union([z.string(), z.array(z.string())]).optional();
const one = z.string().max(MAX_TEXT).optional();

/** The upload metadata as query parameters (also accepted as multipart fields). */
export const UploadQuerySchema = z.object({
  flags: many.describe('flags of the upload, repeated or comma-separated'),
  name: one,
  build: one.describe("the CI build (also recorded for the commit, as are branch, parent, pr, ci_service, job and ci_url: the first upload giving a value sets it, later ones fill gaps)"),
  job: one.describe('the CI job'),
  branch: one.describe('the branch of the commit'),
  parent: one.describe("the parent commit's sha"),
  pr: one.describe('the pull (merge) request number'),
  ci_service: one.describe('the CI service, e.g. github-actions, gitlab, circleci, jenkins, buildkite'),
  ci_url: one.describe('a link to the CI build, http(s)'),
  format: z.enum(FORMATS).optional().describe('a format hint; detected from the content when absent'),
  fixes: many.describe('path fixes `before::after`, repeatable'),
  files: one.describe("the repository's file list, one path per line"),
});
export type UploadQuery = z.infer<typeof UploadQuerySchema>;

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const FixSchema = z
  .string()
  .max(1000)
  .refine((f) => f.indexOf('::') > 0, 'expected before::after');
const RepoFileSchema = z.string().max(4096, 'a repository path is at most 4096 characters');
/** A parent commit's sha as git prints it, in either case; stored in lower case as commit shas are. */
export const ParentShaSchema = z.string().transform((s) => s.toLowerCase()).pipe(CommitShaSchema);
/** Digits only: a pull request number as the CIs print it, within the column's range. */
export const PullRequestSchema = z
  .string()
  .regex(/^\d{1,10}$/, 'expected a pull request number')
  .transform(Number)
  .pipe(z.number().max(2_147_483_647, 'expected a pull request number'));

/** Validated metadata for registerUpload; issues name the query parameter / field. */
export const UploadMetadataSchema = z
  .object({
    flags: z.array(FlagNameSchema).max(100, 'at most 100 flags'),
    name: one,
    build: one,
    job: one,
    branch: z.string().max(1000).optional(),
    parent: ParentShaSchema.optional(),
    pr: PullRequestSchema.optional(),
    ci_service: z.string().max(200).optional(),
    ci_url: z.url({ protocol: /^https?$/, error: 'expected an http(s):// URL' }).max(MAX_TEXT).optional(),
    format: z.enum(FORMATS).optional(),
    fixes: z.array(FixSchema).max(100, 'at most 100 path fixes'),
    files: z.array(RepoFileSchema).max(1_000_000, 'at most 1,000,000 repository paths'),
  })
  .transform((m) => ({
    flags: m.flags.length > 0 ? m.flags : undefined,
    name: m.name,
    build: m.build,
    job: m.job,
    branch: m.branch,
    ciUrl: m.ci_url,
    formatHint: m.format,
    pathFixes: m.fixes.length > 0 ? m.fixes : undefined,
    repoFiles: m.files.length > 0 ? m.files : undefined,
    commit: commitMetadata({
      branch: m.branch,
      parentSha: m.parent,
      pullRequest: m.pr,
      ciService: m.ci_service,
      build: m.build,
      job: m.job,
      ciUrl: m.ci_url,
    }),
  }));
export type ParsedUploadMetadata = z.output<typeof UploadMetadataSchema>;

/** What the upload says about its commit, or undefined when it says nothing (nothing to record). */
function commitMetadata(m: CommitMetadata): CommitMetadata | undefined {
  const given = Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as CommitMetadata;
  return Object.keys(given).length > 0 ? given : undefined;
}

/** Every value given for a name: query parameters first, then form fields. */
export type RawFields = Map<string, string[]>;

export function collectQuery(query: UploadQuery): RawFields {
  const fields: RawFields = new Map();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) fields.set(k, asList(v as string | string[]));
  return fields;
}

export function addField(fields: RawFields, name: string, value: string): void {
  const list = fields.get(name) ?? [];
  list.push(value);
  fields.set(name, list);
}

/** Checks the metadata; a single-valued name given twice is an error naming it. */
export function parseMetadata(fields: RawFields): ParsedUploadMetadata {
  const single = (name: string) => {
    const v = fields.get(name);
    if (v === undefined || v.length === 0) return undefined;
    if (v.length > 1) return v; // fails the schema: a list where one value is expected
    return v[0] === '' ? undefined : v[0];
  };
  return UploadMetadataSchema.parse({
    flags: (fields.get('flags') ?? []).flatMap((f) => f.split(',')).map((f) => f.trim()).filter((f) => f !== ''),
    name: single('name'),
    build: single('build'),
    job: single('job'),
    branch: single('branch'),
    parent: single('parent'),
    pr: single('pr'),
    ci_service: single('ci_service'),
    ci_url: single('ci_url'),
    format: single('format'),
    fixes: (fields.get('fixes') ?? []).filter((f) => f !== ''),
    files: (fields.get('files') ?? []).flatMap((text) => text.split(/\r?\n/)).map((p) => p.trim()).filter((p) => p !== ''),
  });
}
