/**
 * The comparison of two commits' reports (a pull request's head against its base): what the
 * compare API and CLI answer, what commit statuses, webhooks and pull-request comments are made of,
 * and what the compare page shows. Defined once here so every layer speaks of the same thing.
 *
 * Percentages are the five-decimal strings of `ratio` (`totals.ts`); a delta is head minus base in
 * percentage points, with the same five decimals and a leading `-` when coverage dropped.
 */
import { z } from 'zod';
import type { CoverageTotals, ReportTotals } from './totals';
import { CoverageTotalsSchema, ReportTotalsSchema } from './totals-schema';

/** Coverage of the lines a diff adds or changes in head (a line counts once, whatever its hunk). */
export interface PatchTotals {
  /** Coverable lines of the patch: hits + misses + partials (lines not in the report are not coverable). */
  lines: number;
  hits: number;
  misses: number;
  partials: number;
  /** ratio(hits, lines); null when the patch has no coverable line (nothing to judge). */
  coverage: string | null;
}

export type FileChange = 'added' | 'removed' | 'changed';

export interface FileComparison {
  /** The path in head (in base for a removed file). */
  path: string;
  /** The path in base when the diff renamed the file. */
  basePath?: string;
  change: FileChange;
  /** Null for a file added in head. */
  base: CoverageTotals | null;
  /** Null for a file removed in head. */
  head: CoverageTotals | null;
  /** head.coverage - base.coverage; null when either side is absent. */
  coverageDelta: string | null;
  /** The file's part of the patch; null when the diff does not touch it or no diff is stored. */
  patch: PatchTotals | null;
}

/**
 * Where the base came from: asked for (`?base=`), the base recorded with head's diff (the
 * merge-base of the pull request's target that `--diff-base` diffed against), or head's recorded
 * parent.
 */
export const BASE_SOURCES = ['given', 'pullRequest', 'parent'] as const;
export type BaseSource = (typeof BASE_SOURCES)[number];

export interface CommitComparison {
  base: { sha: string; totals: ReportTotals };
  head: { sha: string; totals: ReportTotals };
  /** head.totals.coverage - base.totals.coverage. */
  coverageDelta: string;
  /** Null when head has no stored diff (the patch cannot be known). */
  patch: PatchTotals | null;
  /** Files whose coverage or presence differs, or that the diff touches; sorted by path. */
  files: FileComparison[];
  /** The flag the comparison is restricted to (sessions carrying it), when one was asked for. */
  flag?: string;
  /** How the base was chosen, when a service resolved it. */
  baseSource?: BaseSource;
}

/**
 * The contract as zod schemas (the API's response schema, the CLI's parser). Each is checked
 * against the interface above both ways, so the two cannot drift apart.
 */
const Totals = CoverageTotalsSchema;
const WithSessions = ReportTotalsSchema;

export const PatchTotalsSchema = z.object({
  lines: z.number().int(),
  hits: z.number().int(),
  misses: z.number().int(),
  partials: z.number().int(),
  coverage: z.string().nullable(),
});

export const FileComparisonSchema = z.object({
  path: z.string(),
  basePath: z.string().optional(),
  change: z.enum(['added', 'removed', 'changed']),
  base: Totals.nullable(),
  head: Totals.nullable(),
  coverageDelta: z.string().nullable(),
  patch: PatchTotalsSchema.nullable(),
});

export const CommitComparisonSchema = z.object({
  base: z.object({ sha: z.string(), totals: WithSessions }),
  head: z.object({ sha: z.string(), totals: WithSessions }),
  coverageDelta: z.string(),
  patch: PatchTotalsSchema.nullable(),
  files: z.array(FileComparisonSchema),
  flag: z.string().optional(),
  baseSource: z.enum(BASE_SOURCES).optional(),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: [
  Same<z.infer<typeof PatchTotalsSchema>, PatchTotals>,
  Same<z.infer<typeof FileComparisonSchema>, FileComparison>,
  Same<z.infer<typeof CommitComparisonSchema>, CommitComparison>,
] = [true, true, true];
void sameShape;
