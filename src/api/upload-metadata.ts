import { z } from 'zod';
import { FORMATS } from '../coverage/types';

const MAX_TEXT = 10_000;

/** A query parameter or form field given once or repeated. */
const many = z.union([z.string(), z.array(z.string())]).optional();
const one = z.string().max(MAX_TEXT).optional();

/** The upload metadata as query parameters (also accepted as multipart fields). */
export const UploadQuerySchema = z.object({
  flags: many.describe('flags of the upload, repeated or comma-separated'),
  name: one,
  build: one,
  job: one,
  branch: one,
  ci_url: one,
  format: z.enum(FORMATS).optional().describe('a format hint; detected from the content when absent'),
  fixes: many.describe('path fixes `before::after`, repeatable'),
  files: one.describe("the repository's file list, one path per line"),
});
export type UploadQuery = z.infer<typeof UploadQuerySchema>;

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const FlagSchema = z
  .string()
  .max(200, 'a flag is at most 200 characters')
  .regex(/^[A-Za-z0-9_.:/-]+$/, 'flags are letters, digits and _ . : / -');
const FixSchema = z
  .string()
  .max(1000)
  .refine((f) => f.indexOf('::') > 0, 'expected before::after');
const RepoFileSchema = z.string().max(4096, 'a repository path is at most 4096 characters');

/** Validated metadata for registerUpload; issues name the query parameter / field. */
export const UploadMetadataSchema = z
  .object({
    flags: z.array(FlagSchema).max(100, 'at most 100 flags'),
    name: one,
    build: one,
    job: one,
    branch: one,
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
  }));
export type ParsedUploadMetadata = z.output<typeof UploadMetadataSchema>;

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
    ci_url: single('ci_url'),
    format: single('format'),
    fixes: (fields.get('fixes') ?? []).filter((f) => f !== ''),
    files: (fields.get('files') ?? []).flatMap((text) => text.split(/\r?\n/)).map((p) => p.trim()).filter((p) => p !== ''),
  });
}
