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
import { FilePage, type FileLine } from '../../src/web/pages/file';
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

const render = (text: string | null) =>
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
