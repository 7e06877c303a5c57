import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSessionBuilder } from '../../../src/coverage/builder';
import { toParseJson, toSummaryJson } from '../../../src/coverage/json-output';
import { mergeReports } from '../../../src/coverage/merge';
import { CoverageReport } from '../../../src/coverage/report';
import { FileCoverage } from '../../../src/coverage/file-coverage';
import { fileTotals, reportTotals } from '../../../src/coverage/totals';

function sample() {
  const b = createSessionBuilder({ sessionId: 0, session: { format: 'lcov', file: 'one.info' } });
  const a = b.sink.file('src/a.ts')!;
  a.line(1, 3); // hit
  a.line(2, 0); // miss
  a.line(3, '1/2', 'b'); // partial branch
  a.line(4, '2/2', 'b'); // hit branch
  a.line(5, '0/2', 'b'); // miss branch
  a.line(6, 1, 'm'); // hit method
  a.line(7, true); // partial
  a.line(8, -1, 'b'); // skipped: counted nowhere
  a.line(9, 0, 'm'); // miss method
  const c = b.sink.file('src/c.ts')!;
  c.line(1, 0);
  c.line(2, 0);
  c.line(3, 5);
  return b.finish();
}

describe('totals', () => {
  test('file totals follow the semantics', () => {
    const r = sample();
    assert.deepEqual(fileTotals(r.file('src/a.ts')!), {
      files: 1,
      lines: 8,
      hits: 3,
      misses: 3,
      partials: 2,
      branches: 3,
      methods: 2,
      coverage: '37.50000',
    });
    assert.deepEqual(fileTotals(r.file('src/c.ts')!), {
      files: 1,
      lines: 3,
      hits: 1,
      misses: 2,
      partials: 0,
      branches: 0,
      methods: 0,
      coverage: '33.33333',
    });
  });

  test('report totals are column sums plus files and sessions', () => {
    assert.deepEqual(reportTotals(sample()), {
      files: 2,
      lines: 11,
      hits: 4,
      misses: 5,
      partials: 2,
      branches: 3,
      methods: 2,
      coverage: '36.36364',
      sessions: 1,
    });
  });

  test('totals use the derived value across sessions', () => {
    const r = new CoverageReport(
      [
        FileCoverage.fromEntries('x', [
          [1, [{ sessionId: 0, value: 0 }, { sessionId: 1, value: 2 }]],
          [2, [{ sessionId: 0, value: '1/2', missingBranches: ['a'] }, { sessionId: 1, value: '1/2', missingBranches: ['b'] }]],
          [3, [{ sessionId: 0, value: 0 }, { sessionId: 1, value: -1 }]],
        ]),
      ],
      [{ id: 0 }, { id: 1 }],
    );
    const t = reportTotals(r);
    assert.equal(t.hits, 2);
    assert.equal(t.lines, 2);
    assert.equal(t.coverage, '100');
    assert.equal(t.sessions, 2);
  });

  test('an empty report', () => {
    assert.deepEqual(reportTotals(new CoverageReport([], [])), {
      files: 0,
      lines: 0,
      hits: 0,
      misses: 0,
      partials: 0,
      branches: 0,
      methods: 0,
      coverage: '100',
      sessions: 0,
    });
  });
});

describe('toParseJson / toSummaryJson', () => {
  test('prints the documented shape with files and lines in order', () => {
    const b = createSessionBuilder({ sessionId: 1, session: { format: 'cobertura', file: 'cov.xml' } });
    b.sink.file('src/a.ts')!.line(2, '1/2', 'b');
    b.sink.file('src/a.ts')!.line(10, 4);
    const merged = mergeReports([sample(), b.finish()]);
    const j = toParseJson(merged);
    assert.deepEqual(Object.keys(j), ['files', 'totals', 'sessions']);
    assert.deepEqual(Object.keys(j.files), ['src/a.ts', 'src/c.ts']);
    assert.deepEqual(j.files['src/a.ts']!.lines, {
      1: 3,
      2: '1/2',
      3: '1/2',
      4: '2/2',
      5: '0/2',
      6: 1,
      7: true,
      8: -1,
      9: 0,
      10: 4,
    });
    assert.deepEqual(Object.keys(j.files['src/a.ts']!.lines), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    assert.deepEqual(Object.keys(j.totals), ['files', 'lines', 'hits', 'misses', 'partials', 'branches', 'methods', 'coverage']);
    assert.deepEqual(j.files['src/a.ts']!.totals, {
      files: 1,
      lines: 9,
      hits: 4,
      misses: 2,
      partials: 3,
      branches: 4,
      methods: 2,
      coverage: '44.44444',
    });
    assert.deepEqual(j.totals, {
      files: 2,
      lines: 12,
      hits: 5,
      misses: 4,
      partials: 3,
      branches: 4,
      methods: 2,
      coverage: '41.66667',
    });
    assert.deepEqual(j.sessions, [
      { id: 0, format: 'lcov', file: 'one.info' },
      { id: 1, format: 'cobertura', file: 'cov.xml' },
    ]);
    assert.deepEqual(toSummaryJson(merged), { totals: j.totals, sessions: j.sessions });
  });

  test('given sessions override the report sessions', () => {
    const j = toSummaryJson(sample(), [{ id: 0, format: 'lcov', file: 'renamed.info', flags: ['x'] }]);
    assert.deepEqual(j.sessions, [{ id: 0, format: 'lcov', file: 'renamed.info' }]);
  });

  test('equal reports print equal text whatever the build order', () => {
    const one = createSessionBuilder({ sessionId: 0, session: {} });
    one.sink.file('b')!.line(2, 1);
    one.sink.file('a')!.line(1, 0);
    const two = createSessionBuilder({ sessionId: 0, session: {} });
    two.sink.file('a')!.line(1, 0);
    two.sink.file('b')!.line(2, 1);
    assert.equal(JSON.stringify(toParseJson(one.finish())), JSON.stringify(toParseJson(two.finish())));
  });
});
