import { z } from 'zod';
import type { LineExclusion } from '../coverage/types';
import { ParseWarnings, type ParseWarning } from '../coverage/warnings';
import { ParseWarningsSchema } from '../coverage/warnings-schema';

/**
 * Codecov's report fixes: per source file, the lines that are no code (blank lines, lone braces,
 * comment blocks) and its length, computed by the uploader from the checkout. Codecov's worker
 * drops them from each file of the upload's coverage before merging, so a brace a tool counted
 * as a line is not a miss. Two forms reach us:
 * - the v1 JSON `report_fixes.value`: `{path: {"eof": n | null, "lines": [n, ...]}}`, lines final;
 * - the legacy text section `# path=fixes`: `path:N`, `path:N,M,...`, `path:N:source` (line N,
 *   and the source may open or close a block whose inner lines go too) and `EOF: N path`.
 * Malformed entries are ignored, as Codecov does, and counted as `invalid_fix` warnings.
 * Pure: text or parsed JSON in, `{ path -> { lines, eof } }` out, paths as the uploader wrote them.
 */

export interface FileFixes {
  lines: Set<number>;
  eof?: number;
}

/** By path as the uploader wrote it (resolved against the repository later, like report paths). */
export type ReportFixes = Map<string, FileFixes>;

export interface ParsedFixes {
  fixes: ReportFixes;
  /** One `invalid_fix` entry when some were ignored, else empty. */
  warnings: ParseWarning[];
}

/** Line numbers past this are no line a report may carry (the parsers' own bound is lower). */
const MAX_LINE = 10_000_000;

const isLine = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 && n <= MAX_LINE;

/** A decimal integer, nothing else (`Number` would take `0x10`, `1e3` and blanks). */
function lineNumber(text: string): number | null {
  const t = text.trim();
  if (!/^\d{1,8}$/.test(t)) return null;
  const n = Number(t);
  return isLine(n) ? n : null;
}

/**
 * `EOF: 0` is what the uploader sends for an empty file; Codecov reads any falsy eof as "unknown",
 * so it drops nothing rather than every line.
 */
function eofNumber(text: string): number | null | undefined {
  const t = text.trim();
  if (/^0+$/.test(t)) return undefined;
  return lineNumber(t);
}

const BLOCK_START = (s: string) => s.startsWith('/*') || s.includes('LCOV_EXCL_START');
const BLOCK_STOP = (s: string) => s.endsWith('*/') || s.includes('LCOV_EXCL_STOP') || s.includes('LCOV_EXCL_END');

/** The legacy `# path=fixes` section's text. */
export function parseLegacyFixes(text: string): ParsedFixes {
  const fixes: ReportFixes = new Map();
  const warnings = new ParseWarnings();
  const blocks = new Map<string, { starts: number[]; stops: number[] }>();
  const entry = (path: string) => {
    let f = fixes.get(path);
    if (f === undefined) fixes.set(path, (f = { lines: new Set() }));
    return f;
  };
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const bad = () => warnings.add('invalid_fix', { line: i + 1, source: line.slice(0, 200) });
    if (line.startsWith('EOF:')) {
      const m = /^EOF:\s*(\S+)\s+(.+)$/.exec(line);
      const path = m?.[2]?.trim();
      const eof = m ? eofNumber(m[1]!) : null;
      if (!path || eof === null) {
        bad();
        continue;
      }
      const f = entry(path);
      if (eof !== undefined) f.eof = f.eof === undefined ? eof : Math.min(f.eof, eof);
      continue;
    }
    const colon = line.indexOf(':');
    const path = colon > 0 ? line.slice(0, colon).trim() : '';
    if (path === '') {
      bad();
      continue;
    }
    const rest = line.slice(colon + 1);
    const second = rest.indexOf(':');
    if (second !== -1) {
      // path:N:source — the source is the line's text as the uploader's grep printed it.
      const n = lineNumber(rest.slice(0, second));
      if (n === null) {
        bad();
        continue;
      }
      entry(path).lines.add(n);
      const source = rest.slice(second + 1).trim();
      let b = blocks.get(path);
      if (b === undefined) blocks.set(path, (b = { starts: [], stops: [] }));
      // A one-line `/* ... */` both opens and closes: it pairs with itself and shifts no other pair.
      if (BLOCK_START(source)) b.starts.push(n);
      if (BLOCK_STOP(source)) b.stops.push(n);
      continue;
    }
    const numbers = rest.split(',').map(lineNumber);
    if (numbers.length === 0 || numbers.some((n) => n === null)) {
      bad();
      continue;
    }
    const f = entry(path);
    for (const n of numbers) f.lines.add(n!);
  }
  for (const [path, { starts, stops }] of blocks) {
    const f = entry(path);
    const pairs = Math.min(starts.length, stops.length);
    for (let k = 0; k < pairs; k++) for (let n = starts[k]! + 1; n < stops[k]!; n++) f.lines.add(n);
  }
  return { fixes, warnings: warnings.list() };
}

/** The v1 JSON's `report_fixes.value`, validated loosely: a bad entry is ignored, not the payload. */
export const V1FixesSchema = z.record(
  z.string().max(4096),
  z.object({ eof: z.unknown().optional(), lines: z.array(z.unknown()).max(MAX_LINE).nullable().optional() }).loose(),
);

export function fixesFromV1(value: z.output<typeof V1FixesSchema>): ParsedFixes {
  const fixes: ReportFixes = new Map();
  const warnings = new ParseWarnings();
  for (const [path, fix] of Object.entries(value)) {
    const at = `$.report_fixes.value[${JSON.stringify(path)}]`;
    if (path.trim() === '') {
      warnings.add('invalid_fix', { path: at });
      continue;
    }
    const f: FileFixes = { lines: new Set() };
    // codecov-cli sends `null` (no eof known) and 0 (an empty file): both mean "unknown".
    if (fix.eof !== undefined && fix.eof !== null && fix.eof !== 0) {
      if (isLine(fix.eof)) f.eof = fix.eof;
      else warnings.add('invalid_fix', { path: `${at}.eof` });
    }
    for (const [i, n] of (fix.lines ?? []).entries()) {
      if (isLine(n)) f.lines.add(n);
      else warnings.add('invalid_fix', { path: `${at}.lines[${i}]` });
    }
    fixes.set(path, f);
  }
  return { fixes, warnings: warnings.list() };
}

/**
 * The fixes of a payload's uploads as stored next to each raw upload (`raw/<id>.fixes`) and on the
 * pending upload: JSON, lines sorted, with the warnings the parse counted.
 */
export const StoredFixesSchema = z.object({
  files: z.record(z.string(), z.object({ eof: z.number().int().positive().nullable(), lines: z.array(z.number().int().positive()) })),
  warnings: ParseWarningsSchema,
});
export type StoredFixes = z.infer<typeof StoredFixesSchema>;

export function storedFixes(parsed: ParsedFixes): StoredFixes {
  const files: StoredFixes['files'] = {};
  for (const [path, f] of parsed.fixes) files[path] = { eof: f.eof ?? null, lines: [...f.lines].sort((a, b) => a - b) };
  return { files, warnings: parsed.warnings };
}

export function encodeStoredFixes(fixes: StoredFixes): Buffer {
  return Buffer.from(JSON.stringify(fixes));
}

/** Throws a ZodError (or SyntaxError) on a blob that is not what `encodeStoredFixes` wrote. */
export function decodeStoredFixes(bytes: Uint8Array): StoredFixes {
  return StoredFixesSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
}

/**
 * The exclusions a session is built with: each fix's path resolved as the report's paths are
 * (null: ignored or not in the repository, so its fix cannot apply). Two paths resolving to one
 * file union their lines and keep the shorter length.
 */
export function resolveFixes(files: StoredFixes['files'], resolve: (rawPath: string) => string | null): Map<string, LineExclusion> {
  const out = new Map<string, { lines: Set<number>; eof?: number }>();
  for (const [raw, fix] of Object.entries(files)) {
    const path = resolve(raw);
    if (path === null) continue;
    let e = out.get(path);
    if (e === undefined) out.set(path, (e = { lines: new Set() }));
    for (const n of fix.lines) e.lines.add(n);
    if (fix.eof !== null) e.eof = e.eof === undefined ? fix.eof : Math.min(e.eof, fix.eof);
  }
  return out;
}
