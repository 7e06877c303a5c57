import { z } from 'zod';

/** The identifiers every boundary validates: repository slugs, commit shas and upload ids. */
export const RepoSlugSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'expected OWNER/NAME');
export const CommitShaSchema = z.string().regex(/^[0-9a-f]{7,64}$/, 'expected a hex commit sha');
export const UploadIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'expected an upload id');
