import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseReport } from '../../../src/coverage/parse';
import { createPathResolver } from '../../../src/coverage/paths';
import { ReportParseError } from '../../../src/coverage/errors';
import { toParseJson } from '../../../src/coverage/json-output';

const CORPUS = path.resolve(__dirname, '../../../../shared/corpus');
const FIXTURES = path.resolve(__dirname, '../../fixtures');

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

/**
 * Chunks of `size` bytes that all share one buffer, as the CLI's file reader yields them: when
 * the next chunk is requested the buffer is first overwritten with 0xff, so anything that kept a
 * view of an earlier chunk reads garbage.
 */
async function* reusing(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(size);
  for (let i = 0; i < bytes.byteLength; i += size) {
    buffer.fill(0xff);
    const n = Math.min(size, bytes.byteLength - i);
    buffer.set(bytes.subarray(i, i + n));
    yield buffer.subarray(0, n);
  }
  buffer.fill(0xff);
}

/** Real reports of every format (the corpus and the fixtures), for whole-pipeline checks. */
const EVERY_FORMAT = [
  ...['negotiator-c8', 'negotiator-nyc', 'tomli-misc'].flatMap((d) => readdirSync(path.join(CORPUS, d)).map((f) => path.join(CORPUS, d, f))),
  ...['multi-format/gcovr-c/cobertura.xml', 'multi-format/nyc-js/clover.xml', 'multi-format/coveragepy/coverage.json', 'json/istanbul-small.json',
    'text/gcov/sample.c.gcov', 'text/go/stdlib.out', 'xml/clover-quirks.xml', 'xml/cobertura-quirks.xml', 'xml/jacoco-quirks.xml'].map((f) => path.join(FIXTURES, f)),
];

async function failure(p: Promise<unknown>): Promise<ReportParseError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ReportParseError, `expected ReportParseError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

const codecov = Buffer.from(JSON.stringify({ coverage: { 'src/a.py': { 1: 1, 2: 0, 3: '1/2' }, 'src/b.py': { 1: 5 } } }));

describe('parseReport', () => {
  test('detects the format and builds a one-session report', async () => {
    const { report, format, droppedFiles } = await parseReport(codecov, { fileName: 'cov.json', sessionId: 3 });
    assert.equal(format, 'codecov');
    assert.equal(droppedFiles, 0);
    const json = toParseJson(report);
    assert.deepEqual(json.files['src/a.py']?.lines, { 1: 1, 2: 0, 3: '1/2' });
    assert.deepEqual(json.sessions, [{ id: 3, format: 'codecov', file: 'cov.json' }]);
    assert.equal(json.totals.files, 2);
    assert.equal(json.totals.lines, 4);
    assert.equal(json.totals.coverage, '50.00000');
  });

  test('byte arrays, streams of tiny chunks and gzip give the same report', async () => {
    const lcov = readFileSync(path.join(CORPUS, 'negotiator-nyc/lcov.info'));
    const opts = { fileName: 'lcov.info', sessionId: 0, resolver: createPathResolver() };
    const a = toParseJson((await parseReport(lcov, opts)).report);
    const b = toParseJson((await parseReport(chunked(lcov, 13), opts)).report);
    const gz = await parseReport(chunked(gzipSync(lcov), 100), opts);
    assert.equal(gz.format, 'lcov');
    assert.deepEqual(b, a);
    assert.deepEqual(toParseJson(gz.report), a);
    assert.ok(Object.keys(a.files).includes('lib/charset.js'));
  });

  test('a source that reuses one buffer for every chunk gives the same report, for every format and gzip', async () => {
    const formats = new Set<string>();
    for (const file of EVERY_FORMAT) {
      const bytes = readFileSync(file);
      const opts = { fileName: path.basename(file), sessionId: 0, resolver: createPathResolver() };
      const whole = await parseReport(bytes, opts);
      formats.add(whole.format);
      const expected = toParseJson(whole.report);
      // 1 byte: detection and the gzip check hold back bytes across reads; 1000: tokens and
      // lines cross chunks; 64 KiB: most inputs in one chunk.
      for (const size of [1, 1000, 65536]) {
        if (size === 1 && bytes.byteLength > 30000) continue;
        const got = await parseReport(reusing(bytes, size), opts);
        assert.deepEqual(toParseJson(got.report), expected, `${file} in reused chunks of ${size}`);
        assert.deepEqual(got.warnings, whole.warnings, file);
      }
      const gz = await parseReport(reusing(gzipSync(bytes), 100), opts);
      assert.deepEqual(toParseJson(gz.report), expected, `${file} gzipped, in reused chunks of 100`);
    }
    assert.deepEqual([...formats].sort(), ['clover', 'cobertura', 'coveragepy', 'gcov', 'go', 'istanbul', 'jacoco', 'lcov']);
  });

  test('an explicit format overrides detection', async () => {
    // Valid Codecov JSON read as Istanbul fails in the Istanbul parser, naming it.
    const e = await failure(parseReport(codecov, { fileName: 'x', sessionId: 0, format: 'istanbul' }));
    assert.equal(e.format, 'istanbul');
    const ok = await parseReport(codecov, { fileName: 'x', sessionId: 0, format: 'codecov' });
    assert.equal(ok.format, 'codecov');
  });

  test('undetectable input is unknown_format', async () => {
    const e = await failure(parseReport(Buffer.from('just some words\n'), { fileName: 'notes.txt', sessionId: 0 }));
    assert.equal(e.code, 'unknown_format');
    assert.equal(e.file, 'notes.txt');
  });

  test('empty inputs and reports without data are report_empty', async () => {
    assert.equal((await failure(parseReport(Buffer.alloc(0), { fileName: 'e', sessionId: 0 }))).code, 'report_empty');
    const noData = Buffer.from(JSON.stringify({ coverage: { 'a.py': { 1: null } } }));
    assert.equal((await failure(parseReport(noData, { fileName: 'e', sessionId: 0 }))).code, 'report_empty');
  });

  test('files the resolver drops are counted; dropping all of them is report_empty', async () => {
    const resolver = createPathResolver({ repoFiles: ['src/a.py'] });
    const r = await parseReport(codecov, { fileName: 'c', sessionId: 0, resolver });
    assert.equal(r.droppedFiles, 1);
    assert.deepEqual([...r.report.paths()], ['src/a.py']);
    const e = await failure(
      parseReport(codecov, { fileName: 'c', sessionId: 0, resolver: createPathResolver({ ignore: ['src'] }) }),
    );
    assert.equal(e.code, 'report_empty');
    assert.match(e.reason, /dropped/);
  });

  test('a line with an impossible number is skipped, the rest kept, and the warning returned', async () => {
    const lcov = Buffer.from('SF:a.c\nDA:1,3\nDA:2,-1\nDA:3,0\nend_of_record\n');
    for (const input of [lcov, chunked(gzipSync(lcov), 7)]) {
      const { report, warnings } = await parseReport(input, { fileName: 'lcov.info', sessionId: 0 });
      assert.deepEqual(toParseJson(report).files['a.c']?.lines, { 1: 3, 3: 0 });
      assert.deepEqual(warnings, [{ code: 'negative_count', count: 1, positions: [{ line: 3, column: 6, source: 'a.c', field: 'DA' }] }]);
    }
    const clean = await parseReport(codecov, { fileName: 'cov.json', sessionId: 0 });
    assert.deepEqual(clean.warnings, []);
  });

  test('structural damage still throws; a report whose every line was skipped is report_empty naming why', async () => {
    const xml = Buffer.from('<?xml version="1.0"?>\n<coverage><packages><package><classes><class filename="a.py"><lines><line number="1" hits="-1"/>');
    assert.equal((await failure(parseReport(xml, { fileName: 'c.xml', sessionId: 0 }))).code, 'truncated');
    const gcov = Buffer.from('-: 0:Source:a.c\n  12x:  3:x();\n');
    assert.equal((await failure(parseReport(gcov, { fileName: 'a.c.gcov', format: 'gcov', sessionId: 0 }))).code, 'invalid_number');
    const allBad = Buffer.from('SF:a.c\nDA:1,-1\nDA:2,-5\nend_of_record\n');
    const e = await failure(parseReport(allBad, { fileName: 'lcov.info', sessionId: 0 }));
    assert.equal(e.code, 'report_empty');
    assert.match(e.reason, /every line was skipped \(negative_count 2\)/);
  });

  test('limits are passed through to parsers', async () => {
    const e = await failure(parseReport(codecov, { fileName: 'c', sessionId: 0, limits: { maxJsonBytes: 16 } }));
    assert.equal(e.code, 'limit_exceeded');
    assert.equal(e.limit, 'maxJsonBytes');
  });

  test('a gzip bomb is stopped by maxDecompressedBytes', async () => {
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"coverage": {"a": {"1": 1'), Buffer.alloc(8 * 1024 * 1024, 0x20)]));
    const e = await failure(
      parseReport(bomb, { fileName: 'bomb.gz', sessionId: 0, limits: { maxDecompressedBytes: 256 * 1024 } }),
    );
    assert.equal(e.code, 'limit_exceeded');
    assert.equal(e.limit, 'maxDecompressedBytes');
  });
  test('Cobertura source bases reach the resolver and repository files resolve them', async () => {
    const xml = readFileSync(path.join(CORPUS, 'tomli-misc/coverage-py.xml'));
    const plain = await parseReport(xml, { fileName: 'coverage.xml', sessionId: 0, resolver: createPathResolver() });
    assert.deepEqual([...plain.report.paths()], ['src/tomli/__init__.py', 'src/tomli/_parser.py', 'src/tomli/_re.py', 'src/tomli/_types.py']);
    const resolver = createPathResolver({ repoFiles: ['pkg/src/tomli/_parser.py', 'pkg/src/tomli/_re.py', 'docs/index.md'] });
    const r = await parseReport(xml, { fileName: 'coverage.xml', sessionId: 0, resolver });
    assert.deepEqual([...r.report.paths()], ['pkg/src/tomli/_parser.py', 'pkg/src/tomli/_re.py']);
    assert.equal(r.droppedFiles, 2);
  });
});
