import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createGcovParser, createGcovParserWith } from '../../../src/coverage/parsers/gcov';
import { fixture, parseError, parseJson, record, recordWarnings, mutations, outcome } from '../../fixtures/text/harness';

const SAMPLE = 'gcov/sample.c.gcov';

describe('gcov: line values', () => {
  test('counts, markers, methods, branches, exclusions and skipped lines (default branch detection)', () => {
    const r = record(createGcovParser, fixture(SAMPLE));
    assert.deepEqual(r.compact(), {
      'src/sample.c:3': '4m', // line after a "function" line
      'src/sample.c:5': 4,
      'src/sample.c:7': '2m',
      'src/sample.c:9': '2/2b', // conditional: both branches taken
      'src/sample.c:10': 1,
      'src/sample.c:12': '1/2b', // "} else if (": one branch "taken 0"
      'src/sample.c:13': 0, // #####
      'src/sample.c:15': 1,
      'src/sample.c:17': '2/2b', // loop
      'src/sample.c:18': 2, // macro branches are not counted by default
      'src/sample.c:19': 0, // =====
      'src/sample.c:20': 12, // "12*", and the later instantiation's 3 loses to it
      'src/sample.c:29': 6,
      'src/sample.c:40': '1m', // branches on a method line are not counted by default
    });
  });

  test('branch detection options: macro and method on, conditional off', () => {
    const parser = createGcovParserWith({ branchDetection: { conditional: false, loop: true, method: true, macro: true } });
    const r = record(parser, fixture(SAMPLE)).compact();
    assert.equal(r['src/sample.c:9'], '2b'); // still typed as a branch line, but its count kept
    assert.equal(r['src/sample.c:12'], '1b');
    assert.equal(r['src/sample.c:17'], '2/2b');
    assert.equal(r['src/sample.c:18'], '1/2'); // "never executed" is a miss
    assert.equal(r['src/sample.c:40'], '1/2m');
  });

  test('the same line in several instantiations keeps the highest count and sums its branches', () => {
    const text = [
      '        -:    0:Source:tmpl.h',
      '        2:    5:    if (x) {',
      'branch  0 taken 2',
      'branch  1 taken 0',
      '------------------',
      '_Z1fIiEvT_:',
      '        7:    5:    if (x) {',
      'branch  0 taken 0',
      'branch  1 taken 7',
      'function g called 1',
      '        1:    9:void g()',
      'function g2 called 1',
      '    #####:    9:void g()',
    ].join('\n');
    assert.deepEqual(record(createGcovParser, text).compact(), { 'tmpl.h:5': '2/4b', 'tmpl.h:9': '1m' });
  });

  test('several gcov files concatenated are each read; leading ./ and ../ are dropped from paths', () => {
    const text = '-: 0:Source:../a.c\n 1: 1:a();\n-: 0:Source:/abs/b.c\n 0: 2:b();\n';
    assert.deepEqual(record(createGcovParser, text).compact(), { 'a.c:1': 1, '/abs/b.c:2': 0 });
  });

  test('Swift reports have the line and count columns swapped', () => {
    const text = '        -:    0:Source:App/View.swift\n    4:    1:let x = 1\n    5:    0:let y = 2\n';
    assert.deepEqual(record(createGcovParser, text).compact(), { 'App/View.swift:4': 1, 'App/View.swift:5': 0 });
  });

  test('source text in a legacy encoding does not matter; CRLF is fine; chunking does not matter', () => {
    const bytes = Buffer.concat([
      Buffer.from('        -:    0:Source:x.c\r\n        3:    1:    puts("caf'),
      Buffer.from([0xe9]), // Latin-1 é, invalid as UTF-8
      Buffer.from('");\r\n'),
    ]);
    for (const chunkSize of [undefined, 1, 5]) {
      assert.deepEqual(record(createGcovParser, bytes, { chunkSize }).compact(), { 'x.c:1': 3 });
    }
    const whole = record(createGcovParser, fixture(SAMPLE)).calls;
    assert.deepEqual(record(createGcovParser, fixture(SAMPLE), { chunkSize: 3 }).calls, whole);
  });

  test('derived values and totals through the session builder', () => {
    const json = parseJson(createGcovParser, fixture(SAMPLE), 'gcov');
    assert.deepEqual(json.totals, {
      files: 1,
      lines: 14,
      hits: 11,
      misses: 2,
      partials: 1,
      branches: 3,
      methods: 3,
      coverage: '78.57143',
    });
  });
});

describe('gcov: errors', () => {
  test('input that does not start with a 0:Source: line', () => {
    const err = parseError(createGcovParser, '\n        1:    1:int x;\n');
    assert.equal(err.code, 'invalid_syntax');
    assert.equal(err.line, 2);
    assert.equal(err.format, 'gcov');
  });

  test('counts with digits that are not numbers at all', () => {
    const err = parseError(createGcovParser, `-: 0:Source:a.c\n  12x:  3:x();\n`);
    assert.equal(err.code, 'invalid_number');
    assert.equal(err.line, 2);
    assert.match(err.reason, /not an unsigned integer/);
  });

  test('invalid UTF-8 in the source path', () => {
    const bytes = Buffer.concat([Buffer.from('-: 0:Source:a'), Buffer.from([0xc0, 0xaf]), Buffer.from('.c\n')]);
    assert.equal(parseError(createGcovParser, bytes).code, 'invalid_utf8');
  });

  test('empty input is report_empty; an over-long line is limit_exceeded', () => {
    assert.equal(parseError(createGcovParser, '').code, 'report_empty');
    const err = parseError(createGcovParser, `-: 0:Source:a.c\n 1: 1:${'x'.repeat(300)}\n`, { limits: { maxLineBytes: 100 } });
    assert.equal(err.limit, 'maxLineBytes');
    assert.equal(err.line, 2);
  });
});

describe('gcov: a bad number skips its line with a warning naming it', () => {
  for (const [count, code] of [
    ['1e5', 'non_integer_count'],
    ['2.5', 'non_integer_count'],
    ['-2147483648', 'negative_count'],
  ] as const) {
    test(`count ${count}`, () => {
      const { rec, warnings } = recordWarnings(createGcovParser, `-: 0:Source:a.c\n  4:  2:a();\n  ${count}:  3:x();\n  #####:  4:y();\n`);
      assert.deepEqual(rec.compact(), { 'a.c:2': 4, 'a.c:4': 0 });
      assert.deepEqual(warnings, [{ code, count: 1, positions: [{ line: 3, source: 'a.c', field: 'count' }] }]);
    });
  }

  test('a count for line 0 and line numbers above maxLineNumber; huge counts are clamped', () => {
    const { rec, warnings } = recordWarnings(createGcovParser, '-: 0:Source:a.c\n 5: 0:x\n 5: 5000:x\n 500: 7:y\n 1: 8:z\n', {
      limits: { maxLineNumber: 100, maxHits: 100 },
    });
    assert.deepEqual(rec.compact(), { 'a.c:7': 100, 'a.c:8': 1 });
    assert.deepEqual(warnings, [
      { code: 'count_clamped', count: 1, positions: [{ line: 4, source: 'a.c', field: 'count' }] },
      { code: 'invalid_line_number', count: 1, positions: [{ line: 2, source: 'a.c', field: 'line number' }] },
      { code: 'line_number_out_of_range', count: 1, positions: [{ line: 3, source: 'a.c', field: 'line number' }] },
    ]);
  });

  test('a branch line after a skipped line is ignored', () => {
    const { rec } = recordWarnings(createGcovParser, '-: 0:Source:a.c\n  -3:  3:  if (x) {\nbranch  0 taken 1\n  2:  4:  if (y) {\nbranch  0 taken 1\nbranch  1 never executed\n');
    assert.deepEqual(rec.compact(), { 'a.c:4': '1/2b' });
  });
});

describe('gcov: mutated inputs', () => {
  test('only typed errors, whatever the bytes and chunking', () => {
    const base = fixture('gcov/sample.c.gcov');
    fc.assert(
      fc.property(mutations(base), ({ input, chunkSize }) => {
        outcome(createGcovParser, input, chunkSize);
      }),
      { numRuns: 300 },
    );
  });
});
