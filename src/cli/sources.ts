import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseReport } from '../coverage/parse';
import { normalizePath } from '../coverage/paths';
import type { PathResolver } from '../coverage/types';
import { FORMATS, type FormatName } from '../coverage/types';
import type { ConfiguredParseLimits } from '../config';
import { MAX_SOURCE_FILE_BYTES, MAX_SOURCE_FILES } from '../storage/sources';

/**
 * `tributary upload --sources`: the source text of the files a report names, read from this
 * machine. The report is parsed here (the worker's parser, the same limits) only to learn its
 * paths as written; each is sent under that name, with the report's Cobertura source bases, and
 * the server resolves it with the upload's own path fixes, file list and repository settings, so
 * it lands on exactly the path the report's coverage has.
 */

export interface PackedSources {
  sourceBases: string[];
  files: { path: string; content: string }[];
  /** Paths the report names that no file here matches. */
  missing: string[];
  /** Files left out: larger than one file may be, or not text. */
  tooLarge: string[];
  binary: string[];
  /** Files left out because the command's total would pass the cap. */
  overCap: string[];
  bytes: number;
}

/** The report's paths exactly as the report writes them, and its source bases (Cobertura). */
class RecordingResolver implements PathResolver {
  readonly paths = new Set<string>();
  bases: string[] = [];
  resolve(raw: string): string | null {
    if (raw.trim() === '') return null;
    this.paths.add(raw);
    return raw;
  }
  setSourceBases(bases: string[]): void {
    this.bases = bases.map((b) => b.trim()).filter((b) => b !== '');
  }
}

/** Where a report's path may be on this machine: as written, under each source base, and from `root` (as written, and with CI checkout prefixes taken off). */
function candidates(raw: string, bases: readonly string[], root: string): string[] {
  const p = raw.replace(/\\/g, '/');
  const out: string[] = [];
  if (path.isAbsolute(p)) out.push(p);
  else {
    for (const base of bases) out.push(path.resolve(root, base, p));
    out.push(path.resolve(root, p));
  }
  const normalized = normalizePath(p);
  if (normalized !== '') out.push(path.resolve(root, normalized));
  return [...new Set(out)];
}

async function regularFileSize(file: string): Promise<number | null> {
  try {
    const s = await stat(file);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

/**
 * Packs the sources of one report. `budget` is what the whole command may still send (bytes);
 * the caller subtracts `bytes` from it.
 */
export async function packSources(
  report: Uint8Array,
  opts: { fileName: string; format?: string; limits: ConfiguredParseLimits; root: string; budget: number },
): Promise<PackedSources> {
  const resolver = new RecordingResolver();
  const format = opts.format !== undefined && (FORMATS as readonly string[]).includes(opts.format) ? (opts.format as FormatName) : undefined;
  await parseReport(report, { fileName: opts.fileName, format, limits: opts.limits, resolver, sessionId: 0 });
  const packed: PackedSources = { sourceBases: resolver.bases, files: [], missing: [], tooLarge: [], binary: [], overCap: [], bytes: 0 };
  for (const raw of [...resolver.paths].sort()) {
    if (packed.files.length >= MAX_SOURCE_FILES) {
      packed.overCap.push(raw);
      continue;
    }
    let found: { file: string; size: number } | null = null;
    for (const file of candidates(raw, resolver.bases, opts.root)) {
      const size = await regularFileSize(file);
      if (size !== null) {
        found = { file, size };
        break;
      }
    }
    if (found === null) packed.missing.push(raw);
    else if (found.size > MAX_SOURCE_FILE_BYTES) packed.tooLarge.push(raw);
    else if (packed.bytes + found.size > opts.budget) packed.overCap.push(raw);
    else {
      const bytes = await readFile(found.file);
      // A NUL byte: not source text (an image, a compiled file a report happened to name).
      if (bytes.includes(0)) {
        packed.binary.push(raw);
        continue;
      }
      packed.files.push({ path: raw, content: bytes.toString('utf8') });
      packed.bytes += bytes.byteLength;
    }
  }
  return packed;
}
