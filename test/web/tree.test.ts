/**
 * The commit page's file tree on its own: each folder level's nodes against sums computed here
 * file by file, with the sibling names that sort around a folder's run (`pkg5.c`, `pkg5-x/`,
 * `pkg50/`), and the look-through of single-folder levels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ratio } from '../../src/coverage/ratio';
import { folderChildren, type FileEntry, type TreeNode } from '../../src/web/tree';

const entry = (path: string, hits: number, misses: number, partials: number): FileEntry => ({
  path,
  totals: { files: 1, lines: hits + misses + partials, hits, misses, partials, branches: 0, methods: 0, coverage: ratio(hits, hits + misses + partials) },
});

const PATHS = [
  'README.md',
  'src/a.ts',
  'src/pkg5.c',
  'src/pkg5-x/a.c',
  'src/pkg5/b.c',
  'src/pkg5/deep/c.c',
  'src/pkg5/deep/d.c',
  'src/pkg50/e.c',
  'src/ü/f.c',
  'test/only/one/g.ts',
  'test/only/one/h.ts',
];
const files = PATHS.map((p, i) => entry(p, i, (i * 7) % 5, i % 3)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

/** What a level shows, computed the slow way: every file, grouped by its next segment. */
function expected(prefix: string): TreeNode[] {
  const out: TreeNode[] = [];
  for (const f of files.filter((x) => x.path.startsWith(prefix))) {
    const rest = f.path.slice(prefix.length);
    const [head, ...tail] = rest.split('/');
    if (tail.length === 0) {
      const t = f.totals;
      out.push({ name: head!, path: f.path, kind: 'file', files: 1, lines: t.lines, hits: t.hits, misses: t.misses, partials: t.partials, coverage: t.coverage });
      continue;
    }
    let node = out.find((n) => n.kind === 'folder' && n.name === head);
    if (node === undefined) {
      node = { name: head!, path: prefix + head, kind: 'folder', files: 0, lines: 0, hits: 0, misses: 0, partials: 0, coverage: '' };
      out.push(node);
    }
    node.files++;
    node.lines += f.totals.lines;
    node.hits += f.totals.hits;
    node.misses += f.totals.misses;
    node.partials += f.totals.partials;
    node.coverage = ratio(node.hits, node.lines);
  }
  return out;
}

test('every folder level sums exactly the files below each node', () => {
  for (const folder of ['', 'src', 'src/pkg5', 'src/pkg5/deep', 'src/pkg5-x', 'src/pkg50', 'src/ü']) {
    const { folder: shown, nodes } = folderChildren(files, folder);
    assert.equal(shown, folder);
    assert.deepEqual(nodes, expected(folder === '' ? '' : `${folder}/`), folder);
  }
  assert.deepEqual(
    folderChildren(files, 'src').nodes.map((n) => `${n.kind}:${n.name}:${n.files}`),
    ['file:a.ts:1', 'folder:pkg5-x:1', 'file:pkg5.c:1', 'folder:pkg5:3', 'folder:pkg50:1', 'folder:ü:1'],
  );
});

test('a level with a single folder and no files is looked through; an unknown folder has no nodes', () => {
  const { folder, nodes } = folderChildren(files, 'test');
  assert.equal(folder, 'test/only/one');
  assert.deepEqual(nodes, expected('test/only/one/'));
  assert.deepEqual(folderChildren(files, 'nowhere').nodes, []);
  assert.deepEqual(folderChildren(files, 'src/pkg').nodes, [], 'a prefix of folder names is no folder');
});
