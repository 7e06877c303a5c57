/**
 * Git's unified diff (`git diff`, `git format-patch` bodies) read into files, hunks and lines, and
 * the patch lines derived from it: the head line numbers the diff adds or changes, per file.
 *
 * What git writes and this reads: `diff --git a/X b/Y` starts a file; its extended headers say
 * `new file mode`, `deleted file mode`, `rename from/to`, `copy from/to`, `similarity index`,
 * modes and `index`; `Binary files … differ` or `GIT binary patch` (its data skipped) mark a
 * binary file; `--- a/X` / `+++ b/Y` (or `/dev/null`) name the sides; `@@ -a,b +c,d @@` hunks
 * hold context, `-` and `+` lines, and `\ No newline at end of file`. Paths with unusual
 * characters are C-quoted (`"a/sp\303\244ce"`). CRLF line ends are read as LF (a line's text
 * never keeps its `\r`). Plain `---`/`+++` diffs without the `diff --git` line read too. Anything
 * else outside a hunk (a commit message, `git show`'s header) is skipped, like `git apply` does.
 *
 * Moved lines (git's `--color-moved=blocks` idea): an added line that belongs to a block of
 * consecutive added lines which equals, line for line, a block of consecutive removed lines
 * anywhere in the same diff (across files too: code moved to another file is not new) is moved,
 * not new, when the block has at least 20 alphanumeric characters, git's own minimum, so a lone
 * `}` or blank line that happens to be removed elsewhere still counts as new. Text compares
 * exactly (whitespace included, git's default). Blocks are found greedily in diff order, as git
 * does: a block grows while some candidate removed block continues with the next line.
 */

export type DiffFileStatus = 'added' | 'deleted' | 'modified' | 'renamed' | 'copied';

export interface DiffLine {
  kind: ' ' | '+' | '-';
  text: string;
  /** Line number in base (context and removed lines). */
  oldLine?: number;
  /** Line number in head (context and added lines). */
  newLine?: number;
}

export interface DiffHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: DiffLine[];
}

export interface DiffFile {
  /** The path in base; null for a file the diff adds. */
  oldPath: string | null;
  /** The path in head; null for a file the diff deletes. */
  newPath: string | null;
  status: DiffFileStatus;
  binary: boolean;
  /** `similarity index` of a rename or copy, in percent. */
  similarity?: number;
  hunks: DiffHunk[];
}

export class DiffParseError extends Error {
  override readonly name = 'DiffParseError';
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** Decodes a C-quoted path as git writes it (`core.quotePath`): escapes and octal UTF-8 bytes. */
export function unquotePath(s: string): string {
  if (!(s.length >= 2 && s.startsWith('"') && s.endsWith('"'))) return s;
  const bytes: number[] = [];
  const body = s.slice(1, -1);
  const simple: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
      continue;
    }
    const n = body[i + 1];
    if (n === undefined) throw new DiffParseError(`bad quoted path ${s}: ends with a backslash`);
    if (/[0-3]/.test(n) && /^[0-7]{2}$/.test(body.slice(i + 2, i + 4))) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (simple[n] !== undefined) {
      bytes.push(simple[n]);
      i += 1;
    } else throw new DiffParseError(`bad quoted path ${s}: unknown escape \\${n}`);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `a/x` → `x` for the side's prefix; `/dev/null` → null. A trailing tab and timestamp (GNU diff) goes. */
function sidePath(raw: string, prefix: string): string | null {
  let s = raw;
  if (!s.startsWith('"')) {
    const tab = s.indexOf('\t');
    if (tab >= 0) s = s.slice(0, tab);
  } else {
    const end = closingQuote(s);
    if (end > 0) s = s.slice(0, end + 1);
  }
  if (s === '/dev/null') return null;
  const p = unquotePath(s);
  return p.startsWith(prefix) ? p.slice(prefix.length) : p;
}

/** Index of the quote closing the quoted string that starts at 0, or -1. */
function closingQuote(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

/**
 * The two paths of `diff --git a/X b/Y`. Unquoted paths may hold spaces, so the split is where
 * both halves name the same file (git writes it so when nothing else says otherwise); renames and
 * binary files are named again by their own headers, which win.
 */
function gitHeaderPaths(rest: string): { oldPath: string; newPath: string } | null {
  if (rest.startsWith('"')) {
    const end = closingQuote(rest);
    if (end < 0) return null;
    const a = unquotePath(rest.slice(0, end + 1));
    const b = sidePath(rest.slice(end + 2), 'b/');
    if (b === null) return null;
    return { oldPath: a.startsWith('a/') ? a.slice(2) : a, newPath: b };
  }
  const q = rest.indexOf(' "');
  if (q >= 0 && rest.endsWith('"')) {
    const b = sidePath(rest.slice(q + 1), 'b/');
    if (b !== null) return { oldPath: rest.slice(0, q).replace(/^a\//, ''), newPath: b };
  }
  // `a/P b/P`: the middle space of a string of odd length 2|P|+5.
  if (rest.startsWith('a/') && rest.length % 2 === 1) {
    const half = (rest.length - 1) / 2;
    const a = rest.slice(2, half);
    if (rest.slice(half, half + 3) === ' b/' && rest.slice(half + 3) === a) return { oldPath: a, newPath: a };
  }
  const m = /^a\/(.*) b\/(.*)$/.exec(rest);
  return m === null ? null : { oldPath: m[1]!, newPath: m[2]! };
}

interface Building {
  file: DiffFile;
  /** Paths of the `diff --git` line, used when no other header names the sides. */
  headerOld: string | null;
  headerNew: string | null;
  sawMinus: boolean;
  sawPlus: boolean;
}

/** Parses a unified diff. Throws DiffParseError for a hunk that contradicts its header. */
export function parseUnifiedDiff(text: string): DiffFile[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const files: DiffFile[] = [];
  // A holder, not a `let`: the closures below change it, which narrowing cannot see.
  const st: { cur: Building | null } = { cur: null };
  let inBinaryPatch = false;

  const close = () => {
    const cur = st.cur;
    if (cur === null) return;
    const f = cur.file;
    if (!cur.sawMinus && f.status !== 'added' && f.oldPath === null) f.oldPath = cur.headerOld;
    if (!cur.sawPlus && f.status !== 'deleted' && f.newPath === null) f.newPath = cur.headerNew;
    if (f.status === 'added') f.oldPath = null;
    if (f.status === 'deleted') f.newPath = null;
    files.push(f);
    st.cur = null;
  };
  const start = (headerOld: string | null, headerNew: string | null) => {
    close();
    const b: Building = {
      file: { oldPath: null, newPath: null, status: 'modified', binary: false, hunks: [] },
      headerOld,
      headerNew,
      sawMinus: false,
      sawPlus: false,
    };
    st.cur = b;
    inBinaryPatch = false;
    return b;
  };

  let i = 0;
  while (i < lines.length) {
    const line = stripCr(lines[i]!);
    i++;
    if (line.startsWith('diff --git ')) {
      const p = gitHeaderPaths(line.slice('diff --git '.length));
      start(p?.oldPath ?? null, p?.newPath ?? null);
      continue;
    }
    if (inBinaryPatch) {
      // `GIT binary patch` data runs to the next `diff --git` (or the end).
      continue;
    }
    if (line.startsWith('--- ') && i < lines.length && stripCr(lines[i]!).startsWith('+++ ')) {
      // A plain diff's file (no `diff --git` line), or the sides of the current git file.
      const c = st.cur;
      const b = c === null || c.sawMinus || c.file.hunks.length > 0 ? start(null, null) : c;
      b.file.oldPath = sidePath(line.slice(4), 'a/');
      b.sawMinus = true;
      b.file.newPath = sidePath(stripCr(lines[i]!).slice(4), 'b/');
      b.sawPlus = true;
      i++;
      if (b.file.oldPath === null && b.file.status === 'modified') b.file.status = 'added';
      if (b.file.newPath === null && b.file.status === 'modified') b.file.status = 'deleted';
      continue;
    }
    const b = st.cur;
    if (b === null) continue;
    const m = HUNK.exec(line);
    if (m !== null) {
      i = readHunk(lines, i, m, b.file);
      continue;
    }
    if (b.file.hunks.length > 0) continue; // between hunks or after the last: nothing of git's
    if (line.startsWith('new file mode')) b.file.status = 'added';
    else if (line.startsWith('deleted file mode')) b.file.status = 'deleted';
    else if (line.startsWith('rename from ')) {
      b.file.status = 'renamed';
      b.file.oldPath = unquotePath(line.slice('rename from '.length));
    } else if (line.startsWith('rename to ')) {
      b.file.status = 'renamed';
      b.file.newPath = unquotePath(line.slice('rename to '.length));
    } else if (line.startsWith('copy from ')) {
      b.file.status = 'copied';
      b.file.oldPath = unquotePath(line.slice('copy from '.length));
    } else if (line.startsWith('copy to ')) {
      b.file.status = 'copied';
      b.file.newPath = unquotePath(line.slice('copy to '.length));
    } else if (line.startsWith('similarity index ')) {
      const n = Number.parseInt(line.slice('similarity index '.length), 10);
      if (Number.isFinite(n)) b.file.similarity = n;
    } else if (line.startsWith('Binary files ') && line.endsWith(' differ')) {
      b.file.binary = true;
      const sides = /^Binary files (.*) and (.*) differ$/.exec(line);
      if (sides !== null) {
        if (sides[1] === '/dev/null') b.file.status = 'added';
        if (sides[2] === '/dev/null') b.file.status = 'deleted';
      }
    } else if (line === 'GIT binary patch') {
      b.file.binary = true;
      inBinaryPatch = true;
    }
  }
  close();
  return files;
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

/** Reads one hunk's body after its header; returns the index of the next unread line. */
function readHunk(lines: readonly string[], from: number, m: RegExpExecArray, file: DiffFile): number {
  const oldStart = Number(m[1]);
  const oldLines = m[2] === undefined ? 1 : Number(m[2]);
  const newStart = Number(m[3]);
  const newLines = m[4] === undefined ? 1 : Number(m[4]);
  const hunk: DiffHunk = { oldStart, oldLines, newStart, newLines, lines: [] };
  // An empty side starts "at" the line before it (`-0,0`, `+5,0`).
  let oldAt = oldLines === 0 ? oldStart + 1 : oldStart;
  let newAt = newLines === 0 ? newStart + 1 : newStart;
  let oldLeft = oldLines;
  let newLeft = newLines;
  let i = from;
  while (i < lines.length && (oldLeft > 0 || newLeft > 0)) {
    const raw = stripCr(lines[i]!);
    const c = raw[0];
    if (c === '\\') {
      i++;
      continue;
    }
    // Some tools drop the single space of an empty context line.
    const kind = raw === '' ? ' ' : c;
    const text = raw.slice(1);
    if (kind === ' ' && oldLeft > 0 && newLeft > 0) {
      hunk.lines.push({ kind, text, oldLine: oldAt++, newLine: newAt++ });
      oldLeft--;
      newLeft--;
    } else if (kind === '-' && oldLeft > 0) {
      hunk.lines.push({ kind, text, oldLine: oldAt++ });
      oldLeft--;
    } else if (kind === '+' && newLeft > 0) {
      hunk.lines.push({ kind, text, newLine: newAt++ });
      newLeft--;
    } else {
      throw new DiffParseError(`hunk @@ -${oldStart},${oldLines} +${newStart},${newLines} @@ of ${file.newPath ?? file.oldPath ?? '?'}: line ${i + 1} does not fit it`);
    }
    i++;
  }
  if (oldLeft > 0 || newLeft > 0) {
    throw new DiffParseError(`hunk @@ -${oldStart},${oldLines} +${newStart},${newLines} @@ of ${file.newPath ?? file.oldPath ?? '?'} is cut short`);
  }
  // `\ No newline at end of file` after the last line.
  while (i < lines.length && stripCr(lines[i]!).startsWith('\\')) i++;
  file.hunks.push(hunk);
  return i;
}

/** Git's minimum of alphanumeric characters for a block of lines to count as moved. */
export const MOVED_MIN_ALNUM = 20;

const alnumCount = (s: string) => {
  let n = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) n++;
  }
  return n;
};

/**
 * The added lines that moved (see the module comment), as a set of `DiffLine` objects of `files`.
 * Removed lines are one sequence in diff order; two are adjacent when one follows the other in
 * the same hunk.
 */
export function movedLines(files: readonly DiffFile[]): Set<DiffLine> {
  const removed: { line: DiffLine; next: number }[] = [];
  const byText = new Map<string, number[]>();
  const added: DiffLine[][] = [];
  for (const f of files) {
    for (const h of f.hunks) {
      let run: DiffLine[] = [];
      let prevRemoved = -1;
      for (const l of h.lines) {
        if (l.kind === '-') {
          const at = removed.length;
          if (prevRemoved >= 0) removed[prevRemoved]!.next = at;
          removed.push({ line: l, next: -1 });
          prevRemoved = at;
          const list = byText.get(l.text);
          if (list === undefined) byText.set(l.text, [at]);
          else list.push(at);
        } else prevRemoved = -1;
        if (l.kind === '+') run.push(l);
        else if (run.length > 0) {
          added.push(run);
          run = [];
        }
      }
      if (run.length > 0) added.push(run);
    }
  }
  const moved = new Set<DiffLine>();
  if (removed.length === 0) return moved;
  for (const run of added) {
    let k = 0;
    while (k < run.length) {
      const first = byText.get(run[k]!.text);
      if (first === undefined) {
        k++;
        continue;
      }
      let candidates: number[] = first;
      // Grow the block while some removed block continues with the next added line.
      let end = k + 1;
      while (end < run.length) {
        const text = run[end]!.text;
        const next: number[] = candidates.map((c) => removed[c]!.next).filter((n) => n >= 0 && removed[n]!.line.text === text);
        if (next.length === 0) break;
        candidates = next;
        end++;
      }
      let alnum = 0;
      for (let j = k; j < end; j++) alnum += alnumCount(run[j]!.text);
      if (alnum >= MOVED_MIN_ALNUM) for (let j = k; j < end; j++) moved.add(run[j]!);
      k = end;
    }
  }
  return moved;
}

/** Per head path, its patch lines (added or changed, not moved), ascending. */
export type PatchLines = Map<string, number[]>;

/**
 * The patch lines of a diff by head path. `resolve` maps a diff path to a report path (the
 * repository's path fixes); a path it maps to null is left out. Deleted and binary files have none.
 */
export function patchLines(files: readonly DiffFile[], resolve: (path: string) => string | null = (p) => p): PatchLines {
  const moved = movedLines(files);
  const out: PatchLines = new Map();
  for (const f of files) {
    if (f.newPath === null || f.binary) continue;
    const path = resolve(f.newPath);
    if (path === null) continue;
    const list = out.get(path) ?? [];
    for (const h of f.hunks) for (const l of h.lines) if (l.kind === '+' && !moved.has(l)) list.push(l.newLine!);
    list.sort((a, b) => a - b);
    out.set(path, [...new Set(list)]);
  }
  return out;
}
