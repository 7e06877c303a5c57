import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReportParseError } from '../../../src/coverage/errors';
import { LineSplitter, decodeUtf8 } from '../../../src/coverage/parsers/line-splitter';

/** Splits `input` fed at the given cut points; returns the lines (as latin1 text) and their numbers. */
function split(input: Uint8Array, cuts: number[] = [], maxLineBytes = 1 << 20): { lines: string[]; numbers: number[] } {
  const lines: string[] = [];
  const numbers: number[] = [];
  const splitter: LineSplitter = new LineSplitter(
    {
      line(bytes, start, end) {
        lines.push(Buffer.from(bytes.subarray(start, end)).toString('latin1'));
        numbers.push(splitter.lineNumber);
      },
    },
    { maxLineBytes, fileName: 'in', format: 'test' },
  );
  let pos = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    splitter.push(input.subarray(pos, cut));
    pos = cut;
  }
  splitter.push(input.subarray(pos));
  splitter.finish();
  return { lines, numbers };
}

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

describe('LineSplitter', () => {
  test('LF and CRLF terminators, empty lines, last line without terminator', () => {
    const r = split(bytes('a\r\n\nbc\nd'));
    assert.deepEqual(r.lines, ['a', '', 'bc', 'd']);
    assert.deepEqual(r.numbers, [1, 2, 3, 4]);
  });

  test('a lone CR inside a line is kept; a trailing newline adds no empty line', () => {
    assert.deepEqual(split(bytes('a\rb\nc\n')).lines, ['a\rb', 'c']);
  });

  test('a UTF-8 BOM at the start is dropped, even when split over chunks; elsewhere it is content', () => {
    const input = bytes('\xef\xbb\xbfSF:a\n\xef\xbb\xbfx\n');
    const expected = ['SF:a', '\xef\xbb\xbfx'];
    assert.deepEqual(split(input).lines, expected);
    assert.deepEqual(split(input, [1]).lines, expected);
    assert.deepEqual(split(input, [1, 2]).lines, expected);
    assert.deepEqual(split(input, [2, 4]).lines, expected);
    // A start that only looks like a BOM is kept.
    assert.deepEqual(split(bytes('\xef\xbbX\n'), [1]).lines, ['\xef\xbbX']);
  });

  test('any chunking gives the same lines', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', '\n', '\r', '\r\n', 'é', '\xef', ':'), { maxLength: 60 }),
        fc.array(fc.nat(80), { maxLength: 10 }),
        (parts, rawCuts) => {
          const input = Buffer.from(parts.join(''), 'utf8');
          const cuts = rawCuts.map((c) => c % (input.length + 1));
          assert.deepEqual(split(input, cuts), split(input));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('lines longer than maxLineBytes fail with the limit, inside a chunk or across chunks', () => {
    const input = bytes(`ok\n${'x'.repeat(11)}\nrest\n`);
    for (const cuts of [[], [5], [3, 4, 5, 6, 7, 8, 9, 10]]) {
      assert.throws(
        () => split(input, cuts, 10),
        (err: unknown) => err instanceof ReportParseError && err.code === 'limit_exceeded' && err.limit === 'maxLineBytes' && err.line === 2,
      );
    }
    // Exactly the limit is accepted, and so is a CR beyond it (it is not part of the line).
    assert.deepEqual(split(bytes(`${'y'.repeat(10)}\r\nz`), [4], 10).lines, ['y'.repeat(10), 'z']);
    assert.throws(() => split(bytes('x'.repeat(11)), [], 10), /maxLineBytes|longer than 10/);
  });

  test('memory stays bounded on a newline-free stream: the error comes before the limit is far exceeded', () => {
    const splitter = new LineSplitter({ line() {} }, { maxLineBytes: 1000, fileName: 'in', format: 'test' });
    const chunk = new Uint8Array(100).fill(0x41);
    let fed = 0;
    assert.throws(() => {
      for (;;) {
        splitter.push(chunk);
        fed += chunk.length;
      }
    }, ReportParseError);
    assert.ok(fed <= 1100, `fed ${fed} bytes before failing`);
  });
});

describe('decodeUtf8', () => {
  test('ASCII, multi-byte and invalid sequences', () => {
    const b = Buffer.from('ab日本ü', 'utf8');
    assert.equal(decodeUtf8(b, 0, b.length), 'ab日本ü');
    assert.equal(decodeUtf8(b, 0, 2), 'ab');
    assert.equal(decodeUtf8(b, 0, 3), null); // cut inside a sequence
    assert.equal(decodeUtf8(Buffer.from([0x61, 0xff]), 0, 2), null);
    assert.equal(decodeUtf8(Buffer.from([0xed, 0xa0, 0x80]), 0, 3), null); // surrogate
    const long = Buffer.from('x'.repeat(100), 'utf8');
    assert.equal(decodeUtf8(long, 0, 100), 'x'.repeat(100));
  });
});
