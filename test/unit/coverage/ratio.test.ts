import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { displayPercent, ratio } from '../../../src/coverage/ratio';

describe('ratio', () => {
  // Expected strings are Python's `"%.5f" % round(x / y * 100, 5)` (Codecov's ratio).
  const cases: Array<[number, number, string]> = [
    [6, 9, '66.66667'],
    [1, 3, '33.33333'],
    [2, 3, '66.66667'],
    [1, 8, '12.50000'],
    [1, 2, '50.00000'],
    [3, 3, '100'],
    [0, 0, '100'],
    [0, 5, '0'],
    [5, 0, '0'],
    [199, 200, '99.50000'],
    [1, 7, '14.28571'],
    // Exact binary ties: round half to even, where toFixed would round up.
    [1, 6400, '0.01562'],
    [3, 6400, '0.04688'],
    [1, 3200, '0.03125'],
  ];
  for (const [x, y, want] of cases) {
    test(`ratio(${x}, ${y}) = ${want}`, () => assert.equal(ratio(x, y), want));
  }
});

test('displayPercent cuts to two decimals, never rounding up', () => {
  assert.equal(displayPercent('90.51724'), '90.51%');
  assert.equal(displayPercent('79.99999'), '79.99%', 'a figure under a target never reads as the target');
  assert.equal(displayPercent('100'), '100.00%');
  assert.equal(displayPercent('0'), '0.00%');
  assert.equal(displayPercent('5.1'), '5.10%');
  assert.equal(displayPercent('-1.29870'), '-1.29%');
});
