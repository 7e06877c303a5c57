/**
 * Codecov's report fixes, both forms: the v1 JSON of the real codecov-cli 11.3.1 capture
 * (test/fixtures/codecov/v1-payload.json) and the legacy `# path=fixes` text of the older
 * uploaders (codecov-cli's --legacy sends none, so those cases are made by hand): plain and listed
 * lines, `/* ... *\/` and LCOV_EXCL blocks, EOF, malformed lines ignored and counted; then how the
 * fixes' paths resolve and how a session built with them loses exactly those lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeStoredFixes, encodeStoredFixes, fixesFromV1, parseLegacyFixes, resolveFixes, storedFixes } from '../../src/codecov/fixes';
import { splitBuffered as splitPayload } from '../support/split-payload';
import { parseReport } from '../../src/coverage/parse';
import { createPathResolver } from '../../src/coverage/paths';
import { reportTotals } from '../../src/coverage/totals';

const FIXTURES = path.resolve(__dirname, '../fixtures/codecov');

const plain = (fixes: ReturnType<typeof parseLegacyFixes>['fixes']) =>
  Object.fromEntries([...fixes].map(([p, f]) => [p, { lines: [...f.lines].sort((a, b) => a - b), ...(f.eof !== undefined ? { eof: f.eof } : {}) }]));

test('the real v1 capture: report_fixes.value as codecov-cli sent it', async () => {
  const doc = JSON.parse(readFileSync(path.join(FIXTURES, 'v1-payload.json'), 'utf8')) as { report_fixes: { value: Record<string, { eof: number | null; lines: number[] }> } };
  const parsed = fixesFromV1(doc.report_fixes.value);
  assert.deepEqual(plain(parsed.fixes), { 'src/calc.c': { lines: [2, 3, 5] } });
  assert.deepEqual(parsed.warnings, []);
  // The splitter gives the same, in the stored form.
  assert.deepEqual((await splitPayload(readFileSync(path.join(FIXTURES, 'v1-payload.json')))).fixes, storedFixes(parsed));
});

test('v1: eof null or 0 (an empty file) is unknown; bad numbers are ignored and counted', () => {
  const parsed = fixesFromV1({ 'a.kt': { eof: 12, lines: [3, 1] }, 'empty.kt': { eof: 0, lines: [] }, 'b.go': { eof: null, lines: [4, -1, 2.5, 'x'] }, 'c.go': { eof: -3 } });
  assert.deepEqual(plain(parsed.fixes), { 'a.kt': { lines: [1, 3], eof: 12 }, 'empty.kt': { lines: [] }, 'b.go': { lines: [4] }, 'c.go': { lines: [] } });
  assert.equal(parsed.warnings.length, 1);
  assert.equal(parsed.warnings[0]!.code, 'invalid_fix');
  assert.equal(parsed.warnings[0]!.count, 4);
  assert.equal(parsed.warnings[0]!.positions[0]!.path, '$.report_fixes.value["b.go"].lines[1]');
});

test('legacy: single lines, lists, sources, EOF; a file named twice accumulates', () => {
  const text = ['./src/a.c:3', './src/a.c:7,9,11', 'src/b.go:4:}', 'EOF: 40 src/b.go', 'src/b.go:5', 'EOF: 0 src/empty.kt', ''].join('\n');
  const parsed = parseLegacyFixes(text);
  assert.deepEqual(plain(parsed.fixes), { './src/a.c': { lines: [3, 7, 9, 11] }, 'src/b.go': { lines: [4, 5], eof: 40 }, 'src/empty.kt': { lines: [] } });
  assert.deepEqual(parsed.warnings, []);
});

test('legacy blocks: the lines strictly between the k-th start and the k-th stop of a file', () => {
  const text = [
    'src/a.c:2:/*',
    'src/a.c:6: */',
    'src/a.c:10:  // LCOV_EXCL_START',
    'src/a.c:14:// LCOV_EXCL_STOP',
    'src/a.c:20:/* one line */',
    'src/a.c:30:// LCOV_EXCL_START',
    'src/a.c:33:// LCOV_EXCL_END',
    'src/b.c:1:/*', // never closed: only the line itself
    'src/c.c:8:*/', // a stop without a start: only the line itself
  ].join('\r\n');
  const parsed = parseLegacyFixes(text);
  assert.deepEqual(plain(parsed.fixes), {
    'src/a.c': { lines: [2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 20, 30, 31, 32, 33] },
    'src/b.c': { lines: [1] },
    'src/c.c': { lines: [8] },
  });
});

test('legacy: malformed lines are ignored, counted as invalid_fix with their line, and lose nothing else', async () => {
  const text = ['src/a.c:3', 'no-colon-here', ':5', 'src/a.c:x', 'src/a.c:4,,5', 'src/a.c:0', 'src/a.c:0x10', 'EOF: many src/a.c', 'EOF: 12', 'src/a.c:y:/*', 'src/a.c:9'].join('\n');
  const parsed = parseLegacyFixes(text);
  assert.deepEqual(plain(parsed.fixes), { 'src/a.c': { lines: [3, 9] } });
  assert.equal(parsed.warnings.length, 1);
  const w = parsed.warnings[0]!;
  assert.equal(w.code, 'invalid_fix');
  assert.equal(w.count, 9);
  assert.deepEqual(
    w.positions.map((p) => p.line),
    [2, 3, 4, 5, 6],
    'the first positions are kept, one-based lines of the section',
  );
  // A payload with such lines is accepted: its reports are registered, the fixes it could read kept.
  const payload = ['# path=coverage.lcov', 'SF:src/a.c', 'DA:3,1', 'end_of_record', '<<<<<< EOF', '# path=fixes', 'src/a.c:3', 'garbage', '<<<<<< EOF', ''].join('\n');
  const split = await splitPayload(Buffer.from(payload));
  assert.equal(split.files.length, 1);
  assert.deepEqual(split.fixes.files, { 'src/a.c': { eof: null, lines: [3] } });
  assert.equal(split.fixes.warnings[0]?.count, 1);
});

test('the stored form round-trips; a damaged blob is refused', () => {
  const stored = storedFixes(parseLegacyFixes('src/a.c:5,2\nEOF: 9 src/a.c\nbad\n'));
  assert.deepEqual(stored.files, { 'src/a.c': { eof: 9, lines: [2, 5] } });
  assert.deepEqual(decodeStoredFixes(encodeStoredFixes(stored)), stored);
  assert.throws(() => decodeStoredFixes(Buffer.from('{"files": {"a": {"eof": 0, "lines": []}}, "warnings": []}')));
  assert.throws(() => decodeStoredFixes(Buffer.from('not json')));
});

test('paths resolve as report paths do: against the file list, dropped when not in it, merged when two meet', () => {
  const resolver = createPathResolver({ repoFiles: ['src/a.c', 'lib/b.c'] });
  const out = resolveFixes(
    { './src/a.c': { eof: 20, lines: [1, 2] }, '/home/runner/work/x/x/src/a.c': { eof: 15, lines: [3] }, 'b.c': { eof: null, lines: [7] }, 'gone.c': { eof: null, lines: [1] } },
    (p) => resolver.resolve(p),
  );
  assert.deepEqual(
    Object.fromEntries([...out].map(([p, e]) => [p, { lines: [...e.lines].sort((a, b) => a - b), eof: e.eof }])),
    { 'src/a.c': { lines: [1, 2, 3], eof: 15 }, 'lib/b.c': { lines: [7], eof: undefined } },
  );
});

test('branch lines follow the same exclusions: an excluded or past-eof branch line is dropped, the others kept', async () => {
  const lcov = [
    'SF:src/a.c', 'DA:1,1', 'DA:3,1', 'DA:4,1', 'DA:9,1',
    'BRDA:3,0,0,1', 'BRDA:3,0,1,0', 'BRDA:4,0,0,1', 'BRDA:4,0,1,0', 'BRDA:9,0,0,1', 'BRDA:9,0,1,1',
    'end_of_record', '',
  ].join('\n');
  const exclusions = new Map([['src/a.c', { lines: new Set([3]), eof: 5 }]]);
  const { report } = await parseReport(Buffer.from(lcov), { fileName: 'lcov.info', sessionId: 0, exclusions });
  const a = report.files.get('src/a.c')!;
  assert.deepEqual([...a.lines], [1, 4]);
  assert.equal(a.valueAt(4), '1/2');
  const { report: unfixed } = await parseReport(Buffer.from(lcov), { fileName: 'lcov.info', sessionId: 0 });
  assert.deepEqual([...unfixed.files.get('src/a.c')!.lines], [1, 3, 4, 9]);
});

test('a session built with exclusions loses those lines and the lines past eof, in those files only', async () => {
  const lcov = ['SF:src/a.c', 'DA:1,1', 'DA:2,0', 'DA:3,4', 'DA:4,0', 'DA:9,1', 'end_of_record', 'SF:src/b.c', 'DA:1,1', 'DA:2,0', 'DA:3,0', 'end_of_record', ''].join('\n');
  const exclusions = new Map([['src/a.c', { lines: new Set([2, 3]), eof: 5 }]]);
  const withFixes = await parseReport(Buffer.from(lcov), { fileName: 'lcov.info', sessionId: 0, exclusions });
  const a = withFixes.report.files.get('src/a.c')!;
  const b = withFixes.report.files.get('src/b.c')!;
  assert.deepEqual([...a.lines], [1, 4]);
  assert.deepEqual([...b.lines], [1, 2, 3]);
  const totals = reportTotals(withFixes.report);
  assert.equal(totals.lines, 5);
  assert.equal(totals.hits, 2);
  // A file every line of which is excluded is left out, as a file without lines is.
  const all = await parseReport(Buffer.from(lcov), { fileName: 'lcov.info', sessionId: 0, exclusions: new Map([['src/b.c', { lines: new Set([1, 2, 3]) }]]) });
  assert.deepEqual([...all.report.files.keys()], ['src/a.c']);
});
