/**
 * The unified-diff parser on hand-written diffs, on what a real `git diff` writes (renames, new,
 * deleted and binary files, quoted paths, CRLF, missing final newlines), and fuzzed: arbitrary
 * text never crashes it (it parses or throws DiffParseError), and random diffs written in git's
 * format read back equal and apply to their base to give their head.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { DiffParseError, movedLines, parseUnifiedDiff, patchLines, unquotePath, type DiffFile, type DiffHunk } from '../../../src/coverage/unified-diff';

describe('parseUnifiedDiff', () => {
  test('a modified file: hunks, line numbers, patch lines', () => {
    const diff = [
      'diff --git a/src/a.ts b/src/a.ts',
      'index 1111111..2222222 100644',
      '--- a/src/a.ts',
      '+++ b/src/a.ts',
      '@@ -1,4 +1,5 @@',
      ' one',
      '-two',
      '+TWO',
      '+two and a half',
      ' three',
      ' four',
      '@@ -10 +11,2 @@ function f() {',
      ' ten',
      '+eleven',
      '',
    ].join('\n');
    const [f, ...rest] = parseUnifiedDiff(diff);
    assert.equal(rest.length, 0);
    assert.equal(f!.oldPath, 'src/a.ts');
    assert.equal(f!.newPath, 'src/a.ts');
    assert.equal(f!.status, 'modified');
    assert.equal(f!.hunks.length, 2);
    assert.deepEqual(f!.hunks[1], {
      oldStart: 10,
      oldLines: 1,
      newStart: 11,
      newLines: 2,
      lines: [
        { kind: ' ', text: 'ten', oldLine: 10, newLine: 11 },
        { kind: '+', text: 'eleven', newLine: 12 },
      ],
    });
    assert.deepEqual(patchLines([f!]), new Map([['src/a.ts', [2, 3, 12]]]));
  });

  test('new, deleted and binary files; plain diffs without the git line', () => {
    const diff = [
      'diff --git a/new.txt b/new.txt',
      'new file mode 100644',
      'index 0000000..e69de29',
      '--- /dev/null',
      '+++ b/new.txt',
      '@@ -0,0 +1,2 @@',
      '+a',
      '+b',
      'diff --git a/old.txt b/old.txt',
      'deleted file mode 100644',
      '--- a/old.txt',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-gone',
      'diff --git a/img.png b/img.png',
      'index 1..2 100644',
      'Binary files a/img.png and b/img.png differ',
      'diff --git a/empty b/empty',
      'new file mode 100644',
      'index 0000000..e69de29',
    ].join('\n');
    const plain = ['--- plain.c\t2024-01-01 10:00:00.000000000 +0000', '+++ plain.c\t2024-01-02 10:00:00.000000000 +0000', '@@ -1 +1 @@', '-x', '+y'].join('\n');
    const files = [...parseUnifiedDiff(diff), ...parseUnifiedDiff(plain)];
    assert.deepEqual(
      files.map((f) => [f.status, f.oldPath, f.newPath, f.binary, f.hunks.length]),
      [
        ['added', null, 'new.txt', false, 1],
        ['deleted', 'old.txt', null, false, 1],
        ['modified', 'img.png', 'img.png', true, 0],
        ['added', null, 'empty', false, 0],
        ['modified', 'plain.c', 'plain.c', false, 1],
      ],
    );
    assert.deepEqual(patchLines(files), new Map([['new.txt', [1, 2]], ['empty', []], ['plain.c', [1]]]));
  });

  test('a rename with similarity and an edit; a pure rename has no patch lines', () => {
    const diff = [
      'diff --git a/lib/old name.js b/lib/new name.js',
      'similarity index 90%',
      'rename from lib/old name.js',
      'rename to lib/new name.js',
      'index 1..2 100644',
      '--- a/lib/old name.js',
      '+++ b/lib/new name.js',
      '@@ -3 +3 @@',
      '-let x = 1',
      '+let x = 2',
      'diff --git a/a b/b',
      'similarity index 100%',
      'rename from a',
      'rename to b',
    ].join('\r\n');
    const files = parseUnifiedDiff(diff);
    assert.equal(files.length, 2);
    assert.deepEqual([files[0]!.status, files[0]!.oldPath, files[0]!.newPath, files[0]!.similarity], ['renamed', 'lib/old name.js', 'lib/new name.js', 90]);
    assert.deepEqual([files[1]!.status, files[1]!.oldPath, files[1]!.newPath, files[1]!.similarity], ['renamed', 'a', 'b', 100]);
    assert.deepEqual(patchLines(files), new Map([['lib/new name.js', [3]], ['b', []]]));
  });

  test('quoted paths, CRLF content and "\\ No newline at end of file"', () => {
    assert.equal(unquotePath('"sp\\303\\244ce \\"q\\"\\ttab"'), 'späce "q"\ttab');
    const diff = [
      'diff --git "a/d\\303\\251j\\303\\240.txt" "b/d\\303\\251j\\303\\240.txt"',
      'index 1..2 100644',
      '--- "a/d\\303\\251j\\303\\240.txt"',
      '+++ "b/d\\303\\251j\\303\\240.txt"',
      '@@ -1,2 +1,2 @@',
      ' keep\r',
      '-last',
      '\\ No newline at end of file',
      '+last\r',
      '',
    ].join('\n');
    const [f] = parseUnifiedDiff(diff);
    assert.equal(f!.newPath, 'déjà.txt');
    assert.deepEqual(f!.hunks[0]!.lines.map((l) => [l.kind, l.text]), [[' ', 'keep'], ['-', 'last'], ['+', 'last']]);
  });

  test('a hunk that contradicts its header is a DiffParseError', () => {
    const short = ['--- a/x', '+++ b/x', '@@ -1,3 +1,3 @@', ' a', '-b', '+c'].join('\n');
    assert.throws(() => parseUnifiedDiff(short), DiffParseError);
    const stray = ['--- a/x', '+++ b/x', '@@ -1 +1 @@', '-b', '+c', '+d'].join('\n');
    // The second `+` is past the hunk: not git's, so skipped, like text between files.
    assert.deepEqual(patchLines(parseUnifiedDiff(stray)), new Map([['x', [1]]]));
    assert.throws(() => parseUnifiedDiff(['--- a/x', '+++ b/x', '@@ -1 +1 @@', '?x'].join('\n')), DiffParseError);
  });
});

describe('moved lines', () => {
  const block = ['export function moved(a: number) {', '  return a * 2 + 1;', '}'];
  test('a block moved to another file is not new; the edit beside it is', () => {
    const diff = [
      '--- a/one.ts',
      '+++ b/one.ts',
      '@@ -1,4 +1,1 @@',
      ' keep',
      ...block.map((l) => `-${l}`),
      '--- a/two.ts',
      '+++ b/two.ts',
      '@@ -1 +1,5 @@',
      ' other',
      ...block.map((l) => `+${l}`),
      '+const added = true;',
    ].join('\n');
    const files = parseUnifiedDiff(diff);
    assert.equal(movedLines(files).size, 3);
    assert.deepEqual(patchLines(files), new Map([['one.ts', []], ['two.ts', [5]]]));
  });

  test('short blocks (under 20 alphanumerics) stay new, as in git', () => {
    const diff = ['--- a/x', '+++ b/x', '@@ -1,3 +1,3 @@', '-}', ' a', '-', '+}', '+', ' '].join('\n');
    assert.deepEqual(patchLines(parseUnifiedDiff(diff)), new Map([['x', [2, 3]]]));
  });

  test('only the lines that continue a removed block move with it', () => {
    // Removed: A B C (one block). Added: A B X C: A B move (one block, long enough), X is new, C
    // alone is a block of its own that is too short.
    const A = 'alpha alpha alpha';
    const B = 'bravo bravo bravo';
    const diff = ['--- a/x', '+++ b/x', '@@ -1,3 +1,4 @@', `-${A}`, `-${B}`, '-C', `+${A}`, `+${B}`, '+X', '+C'].join('\n');
    assert.deepEqual(patchLines(parseUnifiedDiff(diff)), new Map([['x', [3, 4]]]));
  });
});

describe('real git output', () => {
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd } });
  test('renames, new, deleted, binary, quoted, CRLF and no-newline files of one commit', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-diff-'));
    try {
      git(dir, 'init', '-q', '-b', 'main');
      git(dir, 'config', 'user.email', 't@example.com');
      git(dir, 'config', 'user.name', 't');
      mkdirSync(path.join(dir, 'src'));
      const long = Array.from({ length: 30 }, (_, i) => `line number ${i + 1} of the file`);
      writeFileSync(path.join(dir, 'src/moved.ts'), `${long.join('\n')}\n`);
      writeFileSync(path.join(dir, 'src/edit.ts'), 'a\nb\nc\n');
      writeFileSync(path.join(dir, 'gone.txt'), 'bye\n');
      writeFileSync(path.join(dir, 'crlf.txt'), 'one\r\ntwo\r\n');
      writeFileSync(path.join(dir, 'tail.txt'), 'x\ny');
      writeFileSync(path.join(dir, 'bin.dat'), Buffer.from([0, 1, 2, 3, 0, 255]));
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '-m', 'base');
      renameSync(path.join(dir, 'src/moved.ts'), path.join(dir, 'src/renamed.ts'));
      writeFileSync(path.join(dir, 'src/renamed.ts'), `${long.slice(0, 29).join('\n')}\nchanged last line\n`);
      writeFileSync(path.join(dir, 'src/edit.ts'), 'a\nB\nc\nd\n');
      unlinkSync(path.join(dir, 'gone.txt'));
      writeFileSync(path.join(dir, 'crlf.txt'), 'one\r\nTWO\r\n');
      writeFileSync(path.join(dir, 'tail.txt'), 'x\ny\nz');
      writeFileSync(path.join(dir, 'bin.dat'), Buffer.from([0, 9, 9, 0]));
      writeFileSync(path.join(dir, 'späce name.txt'), 'new\n');
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '-m', 'head');
      const text = git(dir, 'diff', '--no-color', '--no-ext-diff', '-M', 'HEAD~1', 'HEAD');
      const files = parseUnifiedDiff(text);
      const byNew = new Map(files.map((f) => [f.newPath ?? `deleted:${f.oldPath}`, f]));
      assert.equal(byNew.get('src/renamed.ts')?.status, 'renamed');
      assert.equal(byNew.get('src/renamed.ts')?.oldPath, 'src/moved.ts');
      assert.ok((byNew.get('src/renamed.ts')?.similarity ?? 0) >= 90);
      assert.equal(byNew.get('deleted:gone.txt')?.status, 'deleted');
      assert.equal(byNew.get('bin.dat')?.binary, true);
      assert.equal(byNew.get('späce name.txt')?.status, 'added');
      assert.deepEqual(
        patchLines(files),
        new Map([
          ['crlf.txt', [2]],
          ['späce name.txt', [1]],
          ['src/edit.ts', [2, 4]],
          ['src/renamed.ts', [30]],
          ['tail.txt', [2, 3]],
        ]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** git's format for a parsed diff: what the round-trip property writes and reads back. */
function formatDiff(files: readonly DiffFile[]): string {
  const out: string[] = [];
  const q = (prefix: string, p: string) => (/[\s"\\\u0080-\uffff]/.test(p) ? `"${prefix}${quote(p)}"` : `${prefix}${p}`);
  for (const f of files) {
    out.push(`diff --git ${q('a/', f.oldPath ?? f.newPath!)} ${q('b/', f.newPath ?? f.oldPath!)}`);
    if (f.status === 'added') out.push('new file mode 100644');
    if (f.status === 'deleted') out.push('deleted file mode 100644');
    if (f.status === 'renamed') out.push(`similarity index ${f.similarity ?? 50}%`, `rename from ${q('', f.oldPath!)}`, `rename to ${q('', f.newPath!)}`);
    if (f.hunks.length === 0) continue;
    out.push(`--- ${f.oldPath === null ? '/dev/null' : q('a/', f.oldPath)}`, `+++ ${f.newPath === null ? '/dev/null' : q('b/', f.newPath)}`);
    for (const h of f.hunks) {
      out.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`);
      for (const l of h.lines) out.push(`${l.kind}${l.text}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function quote(p: string): string {
  let s = '';
  for (const b of Buffer.from(p, 'utf8')) {
    if (b === 0x22) s += '\\"';
    else if (b === 0x5c) s += '\\\\';
    else if (b === 0x09) s += '\\t';
    else if (b < 0x20 || b >= 0x7f) s += `\\${b.toString(8).padStart(3, '0')}`;
    else s += String.fromCharCode(b);
  }
  return s;
}

const lineText = fc.string({ maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, ''));
const pathArb = fc
  .array(fc.stringMatching(/^[a-zA-Z0-9._ é"-]{1,8}$/), { minLength: 1, maxLength: 3 })
  .map((segs) => segs.join('/'))
  .filter((p) => !p.includes('//') && p.trim() === p && !p.split('/').some((s) => s.trim() !== s || s === '.' || s === '..'));

/** A file's base text and an edit script (keep, delete or insert) that turns it into head. */
const editArb = fc.record({
  base: fc.array(lineText, { maxLength: 20 }),
  ops: fc.array(fc.oneof(fc.constant<'keep' | 'del'>('keep'), fc.constant<'keep' | 'del'>('del'), lineText.map((t) => ({ ins: t }))), { maxLength: 40 }),
});

/** Applies an edit script, then cuts the result into hunks with one line of context. */
function diffOf(oldPath: string, newPath: string, base: string[], ops: ('keep' | 'del' | { ins: string })[]): { file: DiffFile; head: string[] } {
  const all: { kind: ' ' | '+' | '-'; text: string }[] = [];
  let at = 0;
  for (const op of ops) {
    if (op === 'keep' || op === 'del') {
      if (at >= base.length) continue;
      all.push({ kind: op === 'keep' ? ' ' : '-', text: base[at++]! });
    } else all.push({ kind: '+', text: op.ins });
  }
  while (at < base.length) all.push({ kind: ' ', text: base[at++]! });
  const head = all.filter((l) => l.kind !== '-').map((l) => l.text);
  const hunks: DiffHunk[] = [];
  let oldLine = 1;
  let newLine = 1;
  let cur: DiffHunk | null = null;
  for (let i = 0; i < all.length; i++) {
    const l = all[i]!;
    const near = all.slice(Math.max(0, i - 1), i + 2).some((x) => x.kind !== ' ');
    if (near) {
      if (cur === null) {
        cur = { oldStart: oldLine, oldLines: 0, newStart: newLine, newLines: 0, lines: [] };
        hunks.push(cur);
      }
      const dl = l.kind === ' ' ? { kind: l.kind, text: l.text, oldLine, newLine } : l.kind === '-' ? { kind: l.kind, text: l.text, oldLine } : { kind: l.kind, text: l.text, newLine };
      cur.lines.push(dl);
      if (l.kind !== '+') cur.oldLines++;
      if (l.kind !== '-') cur.newLines++;
    } else cur = null;
    if (l.kind !== '+') oldLine++;
    if (l.kind !== '-') newLine++;
  }
  for (const h of hunks) {
    if (h.oldLines === 0) h.oldStart--;
    if (h.newLines === 0) h.newStart--;
  }
  return { file: { oldPath, newPath, status: oldPath === newPath ? 'modified' : 'renamed', binary: false, ...(oldPath === newPath ? {} : { similarity: 50 }), hunks }, head };
}

/** head from base and the parsed hunks, the way `git apply` uses them. */
function applyHunks(base: string[], file: DiffFile): string[] {
  const out: string[] = [];
  let at = 0;
  for (const h of file.hunks) {
    const start = h.oldLines === 0 ? h.oldStart : h.oldStart - 1;
    while (at < start) out.push(base[at++]!);
    for (const l of h.lines) {
      if (l.kind === '+') out.push(l.text);
      else {
        assert.equal(base[at], l.text, 'the hunk matches base');
        if (l.kind === ' ') out.push(l.text);
        at++;
      }
    }
  }
  while (at < base.length) out.push(base[at++]!);
  return out;
}

describe('fuzz', () => {
  test('arbitrary text parses or fails with DiffParseError, never anything else', () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 30 }),
      ...['diff --git a/x b/x\n', '--- a/x\n', '+++ b/x\n', '@@ -1,2 +1,2 @@\n', '@@ -0,0 +1 @@\n', ' c\n', '-d\n', '+a\n', '\\ No newline at end of file\n', 'rename from "a\\\n', 'rename to "\\777"\n', 'GIT binary patch\n', 'Binary files a/x and b/x differ\n', '\r\n', '"', 'diff --git "a/\\', '--- /dev/null\n'].map((s) => fc.constant(s)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        try {
          const files = parseUnifiedDiff(parts.join(''));
          patchLines(files);
        } catch (err) {
          if (!(err instanceof DiffParseError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('random diffs in git format read back equal and apply to base to give head', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(pathArb, pathArb, fc.boolean(), editArb), { minLength: 1, maxLength: 4 }), (specs) => {
        const made = specs.map(([a, b, rename, { base, ops }]) => ({ base, ...diffOf(a, rename ? b : a, base, ops) }));
        // git writes no file without hunks, a rename or a mode change: leave those out.
        const kept = made.filter((m) => m.file.hunks.length > 0 || m.file.status === 'renamed');
        const parsed = parseUnifiedDiff(formatDiff(kept.map((m) => m.file)));
        assert.deepEqual(parsed, kept.map((m) => m.file));
        kept.forEach((m, i) => assert.deepEqual(applyHunks(m.base, parsed[i]!), m.head));
        // Patch lines are head lines that were added.
        for (const [p, lines] of patchLines(parsed)) {
          for (const n of lines) assert.ok(parsed.some((f) => f.newPath === p && f.hunks.some((h) => h.lines.some((l) => l.kind === '+' && l.newLine === n))));
        }
      }),
      { numRuns: 500 },
    );
  });
});
