import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LineValue } from '../../../src/coverage/types';
import { branchScheme, foldSessionValues, intersectMissingBranches, mergeSessionEntries, type SessionEntry } from '../../../src/coverage/session-entries';
import { classifyValue, encodeValue, mergeValues } from '../../../src/coverage/values';

describe('classifyValue', () => {
  // Codecov test_line_type / test_branch_type.
  const cases: Array<[LineValue, string]> = [
    [true, 'partial'],
    [1, 'hit'],
    [7, 'hit'],
    [0, 'miss'],
    [-1, 'skipped'],
    ['0/2', 'miss'],
    ['1/2', 'partial'],
    ['2/2', 'hit'],
    ['0/0', 'hit'],
  ];
  for (const [v, want] of cases) {
    test(`${JSON.stringify(v)} is ${want}`, () => assert.equal(classifyValue(v), want));
  }
});

describe('mergeValues (Codecov merge_coverage table)', () => {
  const cases: Array<[LineValue | undefined, LineValue | undefined, string[] | undefined, LineValue]> = [
    [1, 5, undefined, 5],
    [1, 0, undefined, 1],
    [1, undefined, undefined, 1],
    ['0/3', '0/3', ['1:12', '1:3', '10:22', '10:12'], '0/3'],
    [99999, 10, undefined, 99999],
    [0, -1, undefined, -1],
    ['1/2', '2/2', undefined, '2/2'],
    ['0/2', '2/2', undefined, '2/2'],
    ['1/2', '1/2', undefined, '1/2'],
    ['1/2', '1/2', [], '2/2'],
    ['1/2', '1/2', ['56'], '1/2'],
    ['1/4', '1/4', ['56'], '3/4'],
    ['1/4', 0, undefined, '1/4'],
    ['0/4', '0/4', undefined, '0/4'],
    ['1/4', 1, undefined, '4/4'],
    ['1/4', 3, undefined, '4/4'],
    [0, 0, undefined, 0],
    // merge_branch table (fraction vs fraction, -1, absent)
    ['1/2', '2/3', undefined, '2/3'],
    ['1/2', '1/6', undefined, '1/6'],
    ['0/2', '0/2', undefined, '0/2'],
    ['0/2', -1, undefined, -1],
    [0, '2/2', undefined, '2/2'],
    [undefined, '2/2', undefined, '2/2'],
    [true, '2/2', undefined, '2/2'],
  ];
  for (const [a, b, missing, want] of cases) {
    test(`${JSON.stringify(a)} + ${JSON.stringify(b)} (${JSON.stringify(missing)}) = ${JSON.stringify(want)}`, () => {
      assert.deepEqual(mergeValues(a, b, missing), want);
      assert.deepEqual(mergeValues(b, a, missing), want);
    });
  }

  test('both absent stays absent', () => assert.equal(mergeValues(undefined, undefined), undefined));
});

describe('true (partial) rules', () => {
  // Design doc: true loses to any hit and wins over a miss.
  const cases: Array<[LineValue, LineValue]> = [
    [0, true],
    [1, 1],
    [42, 42],
    [true, true],
    ['0/2', true],
    ['1/2', '1/2'],
    ['3/3', '3/3'],
    [-1, -1],
  ];
  for (const [other, want] of cases) {
    test(`true + ${JSON.stringify(other)} = ${JSON.stringify(want)}`, () => {
      assert.deepEqual(mergeValues(true, other), want);
      assert.deepEqual(mergeValues(other, true), want);
    });
  }
});

describe('foldSessionValues (merge_all, get_coverage_from_sessions)', () => {
  const v = (...values: LineValue[]) => values.map((value) => ({ value }));
  test('[0] -> 0', () => assert.equal(foldSessionValues(v(0)), 0));
  test('[0, 1] -> 1', () => assert.equal(foldSessionValues(v(0, 1)), 1));
  test('[0, "0/2", "1/2"] -> "1/2"', () => assert.equal(foldSessionValues(v(0, '0/2', '1/2')), '1/2'));
  test('[1, "0/2", "1/2"] -> "2/2"', () => assert.equal(foldSessionValues(v(1, '0/2', '1/2')), '2/2'));
  test('empty -> undefined', () => assert.equal(foldSessionValues([]), undefined));
  test('"2/2" and "0/2" missing [1, 2] -> "2/2"', () => {
    assert.equal(foldSessionValues([{ value: '2/2' }, { value: '0/2', missingBranches: ['1', '2'] }]), '2/2');
  });
  test('disjoint missing branches across sessions make the line fully covered', () => {
    const a = { value: '1/2', missingBranches: ['1'] };
    const b = { value: '1/2', missingBranches: ['2'] };
    assert.equal(foldSessionValues([a, b]), '2/2');
    assert.equal(foldSessionValues([b, a]), '2/2');
  });
  test('a common missing branch keeps the line partial', () => {
    const a = { value: '2/4', missingBranches: ['1', '2'] };
    const b = { value: '2/4', missingBranches: ['2', '3'] };
    assert.equal(foldSessionValues([a, b]), '3/4');
  });
});

describe('intersectMissingBranches (merge_missed_branches table)', () => {
  const s = (value: LineValue, missingBranches?: string[]) => ({ value, missingBranches });
  const cases: Array<[string, Array<{ value: LineValue; missingBranches?: string[] }>, string[] | undefined]> = [
    ['2,3 missing', [s(0, ['1', '2', '3']), s(0, ['2', '3'])], ['2', '3']],
    ['1,2 missing', [s(0, ['1', '2']), s(0, ['1', '2'])], ['1', '2']],
    ['disjoint', [s(0, ['1', '2']), s(0, ['3', '4'])], []],
    ['none missing on one side', [s(0, ['1', '2']), s(0, [])], []],
    ['a hit without a list', [s(0, ['1', '2']), s(1)], []],
    ['a miss without a list carries over', [s(0, ['1', '2']), s(0)], ['1', '2']],
    ['no lists', [s(0), s(1)], undefined],
    ['no sessions', [], undefined],
    ['one session', [s(0, ['1', '2'])], ['1', '2']],
  ];
  for (const [name, sessions, want] of cases) {
    test(name, () => {
      assert.deepEqual(intersectMissingBranches(sessions), want);
      assert.deepEqual(intersectMissingBranches([...sessions].reverse())?.sort(), want);
    });
  }
});

describe('mergeSessionEntries (merge_line_session, deduplicate_sessions)', () => {
  const e = (value: LineValue, missingBranches?: string[]): SessionEntry =>
    missingBranches === undefined ? { sessionId: 0, value } : { sessionId: 0, value, missingBranches };
  const cases: Array<[SessionEntry, SessionEntry, LineValue, string[] | undefined]> = [
    [e('1/2', ['exit']), e('2/2'), '2/2', []],
    [e('1/2'), e('2/2'), '2/2', undefined],
    [e('1/2', ['exit']), e('1/2', ['1']), '2/2', []],
    [e('2/3', ['1']), e('1/3', ['1', '2']), '2/3', ['1']],
    [e(5), e(3), 5, undefined],
    [e('1/2', ['5', '7']), e('1/2', ['7', '9']), '1/2', ['7']],
    [e(1), e(1, ['5']), 1, []],
  ];
  for (const [a, b, value, missing] of cases) {
    test(`${JSON.stringify(a)} + ${JSON.stringify(b)}`, () => {
      for (const m of [mergeSessionEntries(a, b), mergeSessionEntries(b, a)]) {
        assert.deepEqual(m.value, value);
        assert.deepEqual(m.missingBranches, missing);
      }
    });
  }

  test('three records of one session fold to "3/3"', () => {
    const m = mergeSessionEntries(mergeSessionEntries(e('1/3', ['1', '2']), e('1/3', ['2', '3'])), e('1/3', ['3']));
    assert.equal(m.value, '3/3');
    assert.deepEqual(m.missingBranches, []);
  });

  test('partials concatenate sorted by start, type and complexity carry', () => {
    const m = mergeSessionEntries(
      { sessionId: 2, value: 1, partials: [[5, 9, 1]], complexity: 2 },
      { sessionId: 2, value: 0, type: 'b', partials: [[null, 4, 0]], complexity: [3, 4] },
    );
    assert.deepEqual(m, {
      sessionId: 2,
      value: 1,
      type: 'b',
      partials: [
        [null, 4, 0],
        [5, 9, 1],
      ],
      complexity: [3, 4],
    });
  });
});

describe('encodeValue validation', () => {
  const bad: unknown[] = [NaN, Infinity, 1.5, -2, 2 ** 60, '1/', '/2', 'a/b', '1e3/4', '-1/2', '1/2/3', '', false, null, {}];
  for (const v of bad) {
    test(`rejects ${String(typeof v === 'string' ? JSON.stringify(v) : v)}`, () => {
      assert.equal(typeof encodeValue(v, { num: 0, den: 0 }), 'string');
    });
  }
  test('accepts the value forms', () => {
    const out = { num: 0, den: 0 };
    assert.equal(encodeValue(12, out), null);
    assert.deepEqual(out, { num: 12, den: -1 });
    assert.equal(encodeValue('3/7', out), null);
    assert.deepEqual(out, { num: 3, den: 7 });
    assert.equal(encodeValue(true, out), null);
    assert.equal(encodeValue(-1, out), null);
  });
});

describe('foldSessionValues across branch-id schemes', () => {
  const e = (value: LineValue, missingBranches?: string[], branchScheme?: string) => ({ value, missingBranches, branchScheme });

  test('one run in two formats: partial stays partial (Codecov: "4/4")', () => {
    const cobertura = e('3/4', ['0:jump'], 'cobertura/gcovr');
    const lcov = e('3/4', ['1:2'], 'lcov');
    assert.equal(foldSessionValues([cobertura, lcov]), '3/4');
    assert.equal(foldSessionValues([lcov, cobertura]), '3/4');
  });

  test('the largest taken count and the smallest missing count any side proves', () => {
    assert.equal(foldSessionValues([e('1/4', ['a', 'b', 'c'], 'x'), e('2/4', ['0', '1'], 'y')]), '2/4');
    assert.equal(foldSessionValues([e('0/2', ['a', 'b'], 'x'), e('1/2', ['1'], 'y')]), '1/2');
    assert.equal(foldSessionValues([e('0/2', ['a', 'b'], 'x'), e('0/2', ['0', '1'], 'y')]), '0/2');
    // A fraction without a list is a side of its own.
    assert.equal(foldSessionValues([e('1/3', ['a', 'b'], 'x'), e('2/3'), e('1/3', ['9', '8'], 'y')]), '2/3');
  });

  test('a side that took every branch, or a hit without a list, makes a hit', () => {
    assert.equal(foldSessionValues([e('1/2', ['a'], 'x'), e('2/2', [], 'y')]), '2/2');
    assert.equal(foldSessionValues([e('1/2', ['a'], 'x'), e('1/2', ['b'], 'y'), e(5)]), '2/2');
  });

  test('within a scheme lists intersect as before; entries without a scheme are one scheme', () => {
    assert.equal(foldSessionValues([e('1/2', ['1'], 'lcov'), e('1/2', ['2'], 'lcov')]), '2/2');
    assert.equal(foldSessionValues([e('1/2', ['1']), e('1/2', ['2'])]), '2/2');
    assert.equal(foldSessionValues([e('1/2', ['1']), e('1/2', ['2'], 'lcov')]), '1/2');
    assert.equal(branchScheme('cobertura', 'gcovr'), 'cobertura/gcovr');
    assert.equal(branchScheme('lcov'), 'lcov');
  });
});
