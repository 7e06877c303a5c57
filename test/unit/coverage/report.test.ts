import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoverageReport } from '../../../src/coverage/report';
import { FileCoverage } from '../../../src/coverage/file-coverage';
import type { SessionEntry } from '../../../src/coverage/session-entries';

describe('FileCoverage', () => {
  test('derives each line from its sessions in session-id order', () => {
    const f = FileCoverage.fromEntries('a.py', [
      [3, [{ sessionId: 2, value: '0/2', missingBranches: ['1', '2'] }, { sessionId: 1, value: '2/2', type: 'b' }]],
      [1, [{ sessionId: 0, value: 0 }, { sessionId: 1, value: 4 }]],
      [2, [{ sessionId: 0, value: true }, { sessionId: 5, value: 0 }]],
      [4, [{ sessionId: 0, value: 3 }, { sessionId: 1, value: -1 }]],
      [5, [{ sessionId: 1, value: '1/2', missingBranches: ['1'] }, { sessionId: 0, value: '1/2', missingBranches: ['2'] }]],
    ]);
    assert.deepEqual([...f.lines], [1, 2, 3, 4, 5]);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => f.value(i)), [4, true, '2/2', -1, '2/2']);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => f.type(i)), ['line', 'line', 'b', 'line', 'line']);
    assert.deepEqual(
      f.entries(2).map((e) => e.sessionId),
      [1, 2],
    );
    assert.equal(f.valueAt(3), '2/2');
    assert.equal(f.valueAt(99), undefined);
    assert.deepEqual(f.sessionIdSet(), [0, 1, 2, 5]);
  });

  test('the first non-plain type in session order is the line type', () => {
    const f = FileCoverage.fromEntries('a', [
      [1, [{ sessionId: 4, value: 1, type: 'b' }, { sessionId: 2, value: 1, type: 'm' }, { sessionId: 1, value: 1 }]],
    ]);
    assert.equal(f.type(0), 'm');
  });

  test('entries are stored once per session and round-trip with their extras', () => {
    const entries: SessionEntry[] = [
      { sessionId: 0, value: 1, partials: [[0, 4, 1], [5, null, 0]], complexity: [1, 2] },
      { sessionId: 7, value: '3/4', type: 'b', missingBranches: ['x'] },
    ];
    const f = FileCoverage.fromEntries('a', [[9, entries]]);
    assert.deepEqual(f.entries(0), entries);
    assert.equal(f.entryCount, 2);
  });

  test('fromEntries merges two records of one session', () => {
    const f = FileCoverage.fromEntries('a', [
      [1, [{ sessionId: 0, value: 1 }]],
      [1, [{ sessionId: 0, value: 6 }]],
    ]);
    assert.deepEqual(f.entries(0), [{ sessionId: 0, value: 6 }]);
  });

  test('rejects bad line numbers', () => {
    assert.throws(() => FileCoverage.fromEntries('a', [[0, [{ sessionId: 0, value: 1 }]]]), RangeError);
  });
});

describe('CoverageReport', () => {
  const file = (path: string) => FileCoverage.fromEntries(path, [[1, [{ sessionId: 0, value: 1 }]]]);

  test('sorts sessions and paths', () => {
    const r = new CoverageReport([file('b'), file('a/z'), file('a')], [{ id: 2 }, { id: 0, format: 'lcov' }]);
    assert.deepEqual(r.paths(), ['a', 'a/z', 'b']);
    assert.deepEqual([...r].map((f) => f.path), ['a', 'a/z', 'b']);
    assert.deepEqual(r.sessionIds(), [0, 2]);
    assert.equal(r.fileCount, 3);
  });

  test('keeps only known session metadata, without undefined members', () => {
    const extra = { id: 3, format: 'lcov', name: undefined, flags: ['a'], uploadId: 'u-1' } as unknown as { id: number };
    const r = new CoverageReport([], [extra]);
    assert.deepEqual(r.sessions, [{ id: 3, format: 'lcov', flags: ['a'] }]);
  });

  test('rejects duplicate sessions and files', () => {
    assert.throws(() => new CoverageReport([], [{ id: 1 }, { id: 1 }]), /duplicate session/);
    assert.throws(() => new CoverageReport([file('a'), file('a')], [{ id: 0 }]), /duplicate file/);
    assert.throws(() => new CoverageReport([], [{ id: -1 }]), /invalid session/);
  });
});
