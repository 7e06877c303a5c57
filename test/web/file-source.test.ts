/**
 * The file page with source text: a SourceReader that reads the files of a folder (a real
 * implementation, in-process), rendered by the page beside the report's line values.
 */
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { classifyValue } from '../../src/coverage/values';
import { html } from '../../src/web/layout';
import { FilePage, type FileLine, type FilePageProps } from '../../src/web/pages/file';
import type { SourceReader } from '../../src/web/sources';

/** Sources laid out as `<root>/<repo>/<sha>/<path>`; a missing file is no source. */
function folderSources(root: string): SourceReader {
  return {
    async read(repo, sha, file) {
      const { readFile } = await import('node:fs/promises');
      try {
        return await readFile(path.join(root, repo, sha, file), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
  };
}

let root: string;
const sha = 'a'.repeat(40);
const source = 'function f(a) {\n  if (a) return 1;\n  return 2;\n}\n';

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'tributary-sources-'));
  await mkdir(path.join(root, 'acme/app', sha, 'src'), { recursive: true });
  await writeFile(path.join(root, 'acme/app', sha, 'src/f.js'), source);
});
after(() => rm(root, { recursive: true, force: true }));

const lines: FileLine[] = (
  [
    [1, 3],
    [2, '1/2'],
    [3, 0],
  ] as const
).map(([line, value]) => ({ line, value, kind: classifyValue(value) }));

const render = (text: string | null, patch: FilePageProps['patch'] = null) =>
  html(
    FilePage({
      repo: 'acme/app',
      sha,
      path: 'src/f.js',
      flags: [],
      flag: undefined,
      totals: { files: 1, lines: 3, hits: 1, misses: 1, partials: 1, branches: 1, methods: 0, coverage: '33.33333' },
      lines,
      source: text,
      patch,
    }),
  );

test('with the source, every line of the file is shown with its code and its coverage', async () => {
  const text = await folderSources(root).read('acme/app', sha, 'src/f.js');
  assert.equal(text, source);
  const page = render(text);
  const rows = [...page.matchAll(/<tr id="L(\d+)"([^>]*)>(.*?)<\/tr>/g)];
  assert.deepEqual(
    rows.map((r) => Number(r[1])),
    [1, 2, 3, 4],
  );
  assert.match(rows[0]![0], /class="line-hit".*3 hits.*<code>function f\(a\) \{<\/code>/);
  assert.match(rows[1]![0], /class="line-partial".*1 of 2 branches.*<code> {2}if \(a\) return 1;<\/code>/);
  assert.match(rows[2]![0], /class="line-miss".*missed.*<code> {2}return 2;<\/code>/);
  // Line 4 (`}`) is no code: shown, without coverage.
  assert.doesNotMatch(rows[3]![2]!, /line-/);
  assert.match(page, /id="missed-ranges">3</);
  assert.match(page, /id="partial-ranges">2</);
});

test('without a source, only the reported lines are shown, with a note saying so', async () => {
  assert.equal(await folderSources(root).read('acme/app', sha, 'src/none.js'), null);
  const page = render(null);
  assert.equal([...page.matchAll(/<tr id="L\d+"/g)].length, 3);
  assert.match(page, /carried no source for this file/);
  assert.doesNotMatch(page, /<td class="code">/);
});

test('source text is escaped, never markup', () => {
  const page = render('<script>alert(1)</script>\n');
  assert.doesNotMatch(page, /<script>alert/);
  assert.match(page, /<code>&lt;script>alert\(1\)&lt;\/script><\/code>/);
});

test('patch lines are marked in words and by a class, beside their coverage; a brace in the patch is shown without source too', () => {
  const patch = { lines: [2, 4], totals: { lines: 1, hits: 0, misses: 0, partials: 1, coverage: '0' } };
  for (const text of [source, null]) {
    const page = render(text, patch);
    const rows = [...page.matchAll(/<tr id="L(\d+)"([^>]*)>(.*?)<\/tr>/g)];
    const marked = rows.filter((r) => /patch-line/.test(r[2]!)).map((r) => Number(r[1]));
    assert.deepEqual(marked, [2, 4]);
    for (const r of rows) assert.equal(/<span class="sr-only">patch line<\/span>/.test(r[3]!), marked.includes(Number(r[1])), `line ${r[1]}`);
    assert.match(rows.find((r) => r[1] === '2')![2]!, /class="line-partial patch-line"/);
    assert.match(rows.find((r) => r[1] === '4')![0], /not coverable/);
    assert.match(page, /id="patch-ranges">2, 4</);
    assert.match(page, /data-patch-total="partials">1</);
    assert.match(page, /patch: added or changed in this commit/);
  }
  assert.match(render(source, { lines: [], totals: { lines: 0, hits: 0, misses: 0, partials: 0, coverage: null } }), /diff does not add or change lines of this file/);
  const none = render(source);
  assert.match(none, /No diff is stored for this commit/);
  assert.doesNotMatch(none, /patch-line|patch-col/);
});
