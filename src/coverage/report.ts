/**
 * The report model: files -> lines -> per-session entries, plus the sessions' metadata.
 *
 * Every session's record of a line is kept; a line's value and type are derived from its entries
 * in session-id order. Merging reports is then a union of sessions, and no result depends on the
 * order uploads finished in or on the shape of the merge tree.
 *
 * Memory layout (reports reach 200,000 lines x 50 sessions = 10M entries): per file, columns of
 * typed arrays in CSR form. `lines` holds the sorted line numbers; the entries of line i are
 * indices offsets[i] .. offsets[i+1]-1 of the entry columns, sorted by session id with at most one
 * entry per session. Rare extras (missing branches, partial spans, complexity) live in a side map
 * keyed by entry index and are flagged in `flags`, so the common path never touches the map.
 * Files are immutable once built; builders and merges create new ones.
 */
import type { FileCoverage } from './file-coverage';

/**
 * Metadata of one upload. Everything but the id is optional and opaque to the model; a report
 * keeps only these keys (see `normalizeSession`).
 */
export interface SessionMeta {
  /** Report format of the upload (a `FormatName`, or anything a later stage records). */
  format?: string;
  /** The input's name as given (CLI argument or upload file name). */
  file?: string;
  name?: string;
  flags?: string[];
  build?: string;
  job?: string;
  provider?: string;
  ciUrl?: string;
  /** ISO-8601 time of the upload. */
  time?: string;
  state?: string;
  type?: 'uploaded' | 'carriedforward';
  /** A carried-forward session's source: the commit whose upload it is (absent on uploaded ones). */
  carriedFrom?: string;
}

export interface Session extends SessionMeta {
  /** Small dense integer, assigned once when the upload is registered. */
  id: number;
}

const SESSION_KEYS = ['format', 'file', 'name', 'flags', 'build', 'job', 'provider', 'ciUrl', 'time', 'state', 'type', 'carriedFrom'] as const;

/**
 * A session with only the known metadata keys and no undefined members: what a report keeps and
 * what its serialization stores, so a stored report reads back equal.
 */
export function normalizeSession(s: Session): Session {
  const out: Session = { id: s.id };
  for (const k of SESSION_KEYS) {
    const v = s[k];
    // Keys and value types come from SessionMeta itself; the cast only re-attaches them.
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A report: files keyed by normalised path, and the sessions (uploads) it is made of. */
export class CoverageReport {
  readonly sessions: readonly Session[];
  readonly files: ReadonlyMap<string, FileCoverage>;
  private sortedPaths: string[] | undefined;

  constructor(files: Iterable<FileCoverage>, sessions: Iterable<Session>) {
    const ss = [...sessions].map(normalizeSession).sort((a, b) => a.id - b.id);
    for (let i = 0; i < ss.length; i++) {
      const id = ss[i]!.id;
      if (!Number.isSafeInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError(`invalid session id ${id}`);
      if (i > 0 && ss[i - 1]!.id === id) throw new RangeError(`duplicate session id ${id}`);
    }
    this.sessions = ss;
    const m = new Map<string, FileCoverage>();
    for (const f of files) {
      // One hash lookup per file (a report can have a million): a duplicate leaves the size as is.
      const size = m.size;
      if (m.set(f.path, f).size === size) throw new RangeError(`duplicate file ${f.path}`);
    }
    this.files = m;
  }

  /** File paths in canonical (code unit) order. */
  paths(): readonly string[] {
    if (this.sortedPaths === undefined) this.sortedPaths = [...this.files.keys()].sort(comparePaths);
    return this.sortedPaths;
  }

  file(path: string): FileCoverage | undefined {
    return this.files.get(path);
  }

  /** Files in canonical order. */
  *[Symbol.iterator](): IterableIterator<FileCoverage> {
    for (const p of this.paths()) yield this.files.get(p)!;
  }

  get fileCount(): number {
    return this.files.size;
  }

  sessionIds(): number[] {
    return this.sessions.map((s) => s.id);
  }
}

