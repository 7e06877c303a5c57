import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCli } from '../../../src/cli/main';
import { displayCoverage } from '../../../src/cli/parse-command';
import { readFileChunks, type CliIo } from '../../../src/cli/io';
import { gzipRepeated, jsonNesting } from '../../support/bombs';

const REPO = path.resolve(__dirname, '../../..');
const CORPUS = path.resolve(REPO, '../shared/corpus');
const TSX = path.join(REPO, 'node_modules/.bin/tsx');
const corpus = (f: string) => path.join(CORPUS, f);

/** Runs the real command line, as a user would. */
function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(TSX, ['src/cli/main.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the command in this process with captured output. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    open: readFileChunks,
    setExitCode: () => undefined,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

interface Totals {
  files: number;
  lines: number;
  hits: number;
  misses: number;
  partials: number;
  branches: number;
  methods: number;
  coverage: string;
}

describe('tributary parse (spawned)', () => {
  test('--json prints files, lines, totals and sessions', () => {
    const r = cli('parse', '--json', corpus('tomli-misc/coverage-py.json'));
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      files: Record<string, { lines: Record<string, unknown>; totals: Totals }>;
      totals: Totals;
      sessions: unknown[];
    };
    assert.deepEqual(Object.keys(out.files), [
      'src/tomli/__init__.py',
      'src/tomli/_parser.py',
      'src/tomli/_re.py',
      'src/tomli/_types.py',
    ]);
    assert.deepEqual(out.files['src/tomli/__init__.py']?.lines, { 5: 1, 6: 1, 8: 1 });
    assert.equal(out.files['src/tomli/_parser.py']?.lines['94'], '0/2');
    assert.deepEqual(Object.keys(out.totals), ['files', 'lines', 'hits', 'misses', 'partials', 'branches', 'methods', 'coverage']);
    assert.equal(out.totals.files, 4);
    assert.equal(out.totals.lines, out.totals.hits + out.totals.misses + out.totals.partials);
    assert.deepEqual(out.sessions, [{ id: 0, format: 'coveragepy', file: corpus('tomli-misc/coverage-py.json') }]);
  });

  test('several files are sessions 0, 1, 2 in argument order; --summary prints totals only', () => {
    const files = [corpus('negotiator-nyc/lcov.info'), corpus('negotiator-nyc/coverage-final.json'), corpus('negotiator-nyc/clover.xml')];
    const r = cli('parse', '--summary', ...files);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { totals: Totals; sessions: { id: number; format: string; file: string }[] };
    assert.deepEqual(Object.keys(out), ['totals', 'sessions']);
    assert.deepEqual(
      out.sessions.map((s) => [s.id, s.format, s.file]),
      [
        [0, 'lcov', files[0]],
        [1, 'istanbul', files[1]],
        [2, 'clover', files[2]],
      ],
    );
    assert.equal(out.totals.files, 6);
  });

  test('the default output is a short table of totals', () => {
    const r = cli('parse', corpus('negotiator-c8/lcov.info'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^session\s+format\s+dropped\s+file\n0\s+lcov\s+0\s+\S+lcov\.info\n/);
    assert.match(r.stdout, /files\s+lines\s+hits\s+misses\s+partials\s+branches\s+methods\s+coverage\n6\s+\d+/);
    assert.match(r.stdout, /\d+\.\d\d%\n$/);
  });

  test('a parse error exits 1 naming file, format, line and reason', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-cli-'));
    try {
      const bad = path.join(dir, 'bad.info');
      writeFileSync(bad, 'SF:a.c\nDA:1,1\nDA:2,x\nend_of_record\n');
      const r = cli('parse', bad);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:3(:\\d+)?: lcov: `));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a line with a bad count is skipped: exit 0, the warning on stderr, and in --json', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-cli-'));
    try {
      const file = path.join(dir, 'overflow.info');
      writeFileSync(file, 'SF:src/a.c\nDA:1,1\nDA:2,-2147483648\nDA:3,0\nend_of_record\n');
      const r = cli('parse', file);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, `${file}: warning: negative_count: 1 (line 3:6 DA in src/a.c)\n`);
      assert.match(r.stdout, /files\s+lines\s+hits\s+misses[^\n]*\n1\s+2\s+1\s+1\s/);

      const j = cli('parse', '--json', file);
      assert.equal(j.code, 0, j.stderr);
      assert.match(j.stderr, /warning: negative_count: 1/);
      const out = JSON.parse(j.stdout) as { files: Record<string, { lines: Record<string, unknown> }>; sessions: unknown[] };
      assert.deepEqual(out.files['src/a.c']?.lines, { 1: 1, 3: 0 });
      assert.deepEqual(out.sessions, [
        {
          id: 0,
          format: 'lcov',
          file,
          warnings: [{ code: 'negative_count', count: 1, positions: [{ line: 3, column: 6, source: 'src/a.c', field: 'DA' }] }],
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('usage errors exit 2', () => {
    assert.equal(cli('parse').code, 2);
    const unknown = cli('parse', '--format', 'nope', corpus('negotiator-c8/lcov.info'));
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /nope/);
  });
});

describe('tributary parse (in process)', () => {
  test('--json and --summary together are a usage error', async () => {
    const r = await run('parse', '--json', '--summary', corpus('negotiator-c8/lcov.info'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot be used with/);
  });

  test('a missing file and a malformed fix rule are usage errors', async () => {
    const missing = await run('parse', path.join(CORPUS, 'does-not-exist.info'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*does-not-exist\.info: no such file/);
    const fix = await run('parse', '--fixes', 'nonsense', corpus('negotiator-c8/lcov.info'));
    assert.equal(fix.code, 2);
    assert.match(fix.stderr, /before::after/);
  });

  test('--fixes rewrites paths and is repeatable', async () => {
    const r = await run('parse', '--json', '--fixes', 'pkg/lib/::pkg/src/', '--fixes', '::pkg', corpus('negotiator-c8/lcov.info'));
    assert.equal(r.code, 0, r.stderr);
    const files = Object.keys((JSON.parse(r.stdout) as { files: object }).files);
    assert.ok(files.includes('pkg/src/charset.js'), files.join(','));
    assert.ok(files.includes('pkg/index.js'));
  });

  test('--format skips detection', async () => {
    const r = await run('parse', '--format', 'lcov', corpus('tomli-misc/coverage-py.json'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /: lcov: /);
  });

  test('the same report twice merges into two sessions with equal totals', async () => {
    const one = await run('parse', '--summary', corpus('negotiator-nyc/coverage-final.json'));
    const two = await run('parse', '--summary', corpus('negotiator-nyc/coverage-final.json'), corpus('negotiator-nyc/coverage-final.json'));
    const a = JSON.parse(one.stdout) as { totals: Totals; sessions: unknown[] };
    const b = JSON.parse(two.stdout) as { totals: Totals; sessions: unknown[] };
    assert.deepEqual(b.totals, a.totals);
    assert.equal(b.sessions.length, 2);
  });

  test('gzipped reports are read transparently', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-cli-'));
    try {
      const gz = path.join(dir, 'lcov.info.gz');
      writeFileSync(gz, gzipSync(readFileSync(corpus('negotiator-c8/lcov.info'))));
      const plain = await run('parse', '--json', corpus('negotiator-c8/lcov.info'));
      const zipped = await run('parse', '--json', gz);
      assert.equal(zipped.code, 0, zipped.stderr);
      const files = (s: string) => (JSON.parse(s) as { files: object }).files;
      assert.deepEqual(files(zipped.stdout), files(plain.stdout));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bombs are refused with the worker\'s limits, read from the same variables', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-cli-'));
    try {
      const bomb = path.join(dir, 'bomb.info.gz');
      writeFileSync(bomb, gzipRepeated('SF:a.c\n', Buffer.from('DA:1,1\n'.repeat(1024 * 1024)), 64 * 1024 * 1024));
      const nesting = path.join(dir, 'nesting.json');
      writeFileSync(nesting, jsonNesting(8 * 1024 * 1024));
      const withEnv = async (env: Record<string, string>, ...args: string[]) => {
        let stderr = '';
        let stdout = '';
        const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), open: readFileChunks, setExitCode: () => undefined, env };
        return { code: await runCli(args, io), stdout, stderr };
      };
      let r = await withEnv({}, 'parse', bomb);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /maxCompressionRatio \(100x/);
      r = await withEnv({}, 'parse', nesting);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /maxJsonDepth/);
      // An operator who raises the ratio for the worker raises it here too.
      r = await withEnv({ TRIBUTARY_MAX_COMPRESSION_RATIO: '2000' }, 'parse', '--summary', bomb);
      assert.equal(r.code, 0, r.stderr);
      r = await withEnv({ TRIBUTARY_PARSE_MEMORY_BYTES: 'lots' }, 'parse', bomb);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /TRIBUTARY_PARSE_MEMORY_BYTES/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('display coverage: two decimals, rounded down', () => {
    assert.equal(displayCoverage('66.66667'), '66.66%');
    assert.equal(displayCoverage('100'), '100.00%');
    assert.equal(displayCoverage('0'), '0.00%');
    assert.equal(displayCoverage('99.99999'), '99.99%');
  });
});
