import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSessionBuilder } from '../../../src/coverage/builder';
import { toParseJson } from '../../../src/coverage/json-output';
import { ReportMergeError, filterSessions, mergeReports } from '../../../src/coverage/merge';
import { CoverageReport } from '../../../src/coverage/report';
import { FileCoverage } from '../../../src/coverage/file-coverage';
import { serializeReport } from '../../../src/coverage/report-format';
import type { LineValue } from '../../../src/coverage/types';

function session(id: number, lines: Record<string, Array<[number, LineValue, string[]?]>>): CoverageReport {
  const b = createSessionBuilder({ sessionId: id, session: { format: 'lcov', file: `s${id}.info` } });
  for (const [path, ls] of Object.entries(lines)) {
    const f = b.sink.file(path)!;
    for (const [ln, v, missing] of ls) {
      f.line(ln, v, typeof v === 'string' ? 'b' : undefined, missing ? { missingBranches: missing } : undefined);
    }
  }
  return b.finish();
}

describe('mergeReports', () => {
  const s0 = session(0, { a: [[1, 0], [2, '1/2', ['x']], [5, 1]], b: [[1, 1]] });
  const s1 = session(1, { a: [[1, 3], [2, '1/2', ['y']], [3, 0]], c: [[4, 0]] });
  const s2 = session(2, { a: [[1, 0], [3, -1]], b: [[2, true]] });

  test('is a union of sessions with values re-derived per line', () => {
    const m = mergeReports([s0, s1, s2]);
    assert.deepEqual(m.sessionIds(), [0, 1, 2]);
    assert.deepEqual(m.paths(), ['a', 'b', 'c']);
    const a = m.file('a')!;
    assert.deepEqual([...a.lines], [1, 2, 3, 5]);
    assert.deepEqual([0, 1, 2, 3].map((i) => a.value(i)), [3, '2/2', -1, 1]);
    assert.deepEqual(a.entries(0).map((e) => [e.sessionId, e.value]), [
      [0, 0],
      [1, 3],
      [2, 0],
    ]);
    assert.deepEqual(toParseJson(m).files['b']!.lines, { 1: 1, 2: true });
  });

  test('does not depend on input order or tree shape', () => {
    const flat = serializeReport(mergeReports([s0, s1, s2]));
    const variants = [
      mergeReports([s2, s0, s1]),
      mergeReports([s1, s2, s0]),
      mergeReports([mergeReports([s2, s0]), s1]),
      mergeReports([s1, mergeReports([s0, s2])]),
      mergeReports([mergeReports([s1]), mergeReports([s2, mergeReports([s0])])]),
    ];
    for (const v of variants) assert.deepEqual(serializeReport(v), flat);
  });

  test('interleaved session sets sort entries by session id', () => {
    const s3 = session(3, { a: [[1, 7]] });
    const left = mergeReports([s0, s2]);
    const right = mergeReports([s1, s3]);
    const m = mergeReports([right, left]);
    assert.deepEqual(m.file('a')!.entries(0).map((e) => e.sessionId), [0, 1, 2, 3]);
    assert.deepEqual(serializeReport(m), serializeReport(mergeReports([s0, s1, s2, s3])));
  });

  test('the same session in two inputs is an error', () => {
    assert.throws(() => mergeReports([s0, session(0, { z: [[1, 1]] })]), ReportMergeError);
  });

  test('zero and one inputs', () => {
    assert.equal(mergeReports([]).fileCount, 0);
    assert.equal(mergeReports([s1]), s1);
  });

  test('extras travel with their entries', () => {
    const x = new CoverageReport(
      [FileCoverage.fromEntries('p', [[4, [{ sessionId: 5, value: 1, partials: [[1, 3, 1]] }]]])],
      [{ id: 5 }],
    );
    const y = new CoverageReport(
      [FileCoverage.fromEntries('p', [[4, [{ sessionId: 4, value: '0/2', missingBranches: ['q'], complexity: 3 }]]])],
      [{ id: 4 }],
    );
    const m = mergeReports([x, y]);
    assert.deepEqual(m.file('p')!.entries(0), [
      { sessionId: 4, value: '0/2', missingBranches: ['q'], complexity: 3 },
      { sessionId: 5, value: 1, partials: [[1, 3, 1]] },
    ]);
    assert.equal(m.file('p')!.value(0), '2/2');
  });
});

describe('filterSessions', () => {
  test('drops sessions and files left without lines', () => {
    const m = mergeReports([
      session(0, { a: [[1, 0]], only0: [[1, 1]] }),
      session(1, { a: [[1, 4], [2, 0]] }),
    ]);
    const f = filterSessions(m, (s) => s.id !== 0);
    assert.deepEqual(f.paths(), ['a']);
    assert.deepEqual(f.sessionIds(), [1]);
    assert.deepEqual(toParseJson(f).files['a']!.lines, { 1: 4, 2: 0 });
  });
});
