import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NOT_A_UINT, UINT_CLAMPED, describeBadUint, parseUint, parseUintString } from '../../../src/coverage/parsers/numbers';

const parse = (s: string): number => {
  const b = Buffer.from(`<${s}>`, 'latin1');
  return parseUint(b, 1, b.length - 1);
};
const describeText = (s: string): string => {
  const b = Buffer.from(s, 'latin1');
  return describeBadUint(b, 0, b.length);
};

describe('parseUint', () => {
  test('unsigned decimals, leading zeros', () => {
    assert.equal(parse('0'), 0);
    assert.equal(parse('7'), 7);
    assert.equal(parse('00042'), 42);
    assert.equal(parse('123456789012345'), 123456789012345);
    assert.equal(parse('9007199254740991'), Number.MAX_SAFE_INTEGER);
  });

  test('everything else is NOT_A_UINT', () => {
    for (const s of ['', '-1', '+1', '1.0', '1e3', '1E+3', 'NaN', 'Infinity', ' 1', '1 ', '0x10', '١', '1_000']) {
      assert.equal(parse(s), NOT_A_UINT, JSON.stringify(s));
      assert.equal(parseUintString(s), NOT_A_UINT, JSON.stringify(s));
    }
  });

  test('values beyond 2^53 - 1 clamp, however long', () => {
    assert.equal(parse('9007199254740992'), UINT_CLAMPED);
    assert.equal(parse('99999999999999999999999999999999'), UINT_CLAMPED);
    assert.equal(parse(`${'9'.repeat(10000)}`), UINT_CLAMPED);
    assert.equal(parse(`${'9'.repeat(30)}x`), NOT_A_UINT); // a bad byte after the clamp is still seen
    assert.equal(parseUintString('18446744073709551616'), UINT_CLAMPED);
  });

  test('agrees with the decimal text of every safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.nat(3), (n, zeros) => {
        const text = '0'.repeat(zeros) + String(n);
        assert.equal(parse(text), n);
        assert.equal(parseUintString(text), n);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('describeBadUint', () => {
  test('names what is wrong', () => {
    assert.match(describeText(''), /empty/);
    assert.match(describeText('-5'), /negative number "-5"/);
    assert.match(describeText('1e+0'), /scientific notation/);
    assert.match(describeText('2.5E10'), /scientific notation/);
    assert.match(describeText('1.5'), /non-integer/);
    assert.match(describeText('NaN'), /not a number/);
    assert.match(describeText('-inf'), /not a number/);
    assert.match(describeText('abc'), /not an unsigned integer "abc"/);
    assert.match(describeText('x'.repeat(100)), /\.\.\."$/);
  });
});
