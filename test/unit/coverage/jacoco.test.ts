import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createJacocoParser } from '../../../src/coverage/parsers/jacoco';
import { buildJacoco } from '../../../bench/xml-inputs';
import { fixture, parseError, parseJson, record, recordWarnings } from '../../fixtures/xml/harness';

const parse = createJacocoParser;
const dropIgnore = (p: string): boolean => p === 'base/ignore';

describe('JaCoCo quirks (per-line sink calls)', () => {
  const rec = record(parse, fixture('jacoco-quirks.xml'), { drop: dropIgnore });

  test('branch lines, instruction counts, method lines with complexity, nr=0 skipped', () => {
    assert.deepEqual(rec.files.get('base/source.java'), [
      // cb only: "cb/cb"; a method starts here, so type m with [covered, missed + covered].
      [1, '2/2', 'm', { complexity: [1, 4] }],
      [2, '1/2', 'm', { complexity: [1, 4] }],
      // The inner class's method (class name with "$") does not make line 3 a method line.
      [3, 0],
      [4, 2],
      [5, '0/3', 'b'],
    ]);
    assert.deepEqual(rec.files.get('base/file.java'), [[1, 1]]);
  });

  test('file paths are package/sourcefile; empty source files open nothing', () => {
    const opened = rec.events.filter((e) => e[0] === 'file').map((e) => e[1]);
    assert.deepEqual(opened, ['base/source.java', 'base/file.java', 'base/ignore', 'org/example/Main.java']);
    assert.equal(rec.files.has('base/ignore'), false);
  });

  test('packages inside groups', () => {
    assert.deepEqual(rec.files.get('org/example/Main.java'), [
      [7, 4, 'm', { complexity: [2, 2] }],
      [8, '1/2', 'b'],
      [9, 0],
    ]);
  });
});

describe('JaCoCo through the session builder', () => {
  const json = parseJson(parse, fixture('jacoco-quirks.xml'), 'jacoco', dropIgnore);

  test('derived values and totals', () => {
    assert.deepEqual(json.files['base/source.java'].lines, { 1: '2/2', 2: '1/2', 3: 0, 4: 2, 5: '0/3' });
    assert.deepEqual(json.files['base/source.java'].totals, {
      files: 1, lines: 5, hits: 2, misses: 2, partials: 1, branches: 1, methods: 2, coverage: '40.00000',
    });
    assert.deepEqual(Object.keys(json.files).sort(), ['base/file.java', 'base/source.java', 'org/example/Main.java']);
    assert.deepEqual(json.totals, {
      files: 3, lines: 9, hits: 4, misses: 3, partials: 2, branches: 2, methods: 3, coverage: '44.44444',
    });
  });
});

describe('JaCoCo streaming', () => {
  test('any chunking gives the same sink calls', () => {
    const input = buildJacoco(40_000);
    const whole = record(parse, input).events;
    assert.ok(whole.length > 500);
    for (const size of [1, 3, 1000]) assert.deepEqual(record(parse, input, { size }).events, whole, `size ${size}`);
  });
});

describe('JaCoCo bad input', () => {
  const line = (attrs: string): string =>
    `<report name="r"><package name="p"><sourcefile name="A.java">\n<line ${attrs}/></sourcefile></package></report>`;

  // The bad line sits on line 3 of the input, between two good ones.
  const lines = (attrs: string): string =>
    '<report name="r"><package name="p"><sourcefile name="A.java">\n<line nr="1" mi="0" ci="4" mb="0" cb="0"/>\n' +
    `<line ${attrs}/>\n<line nr="9" mi="2" ci="0" mb="0" cb="0"/></sourcefile></package></report>`;

  for (const [attrs, code, field] of [
    ['nr="5" mi="0" ci="-3" mb="0" cb="0"', 'negative_count', 'ci'],
    ['nr="5" mi="0" ci="1" mb="NaN" cb="0"', 'invalid_branch_count', 'mb'],
    ['nr="5" mi="0" ci="1" mb="0" cb="2E1"', 'invalid_branch_count', 'cb'],
    ['nr="99999999999999999999999" mi="0" ci="1" mb="0" cb="0"', 'line_number_out_of_range', 'line number'],
    ['nr="5" mi="0" ci="1" mb="900000" cb="900000"', 'invalid_branch_count', 'mb'],
  ]) {
    test(`${attrs}: the line is skipped with a ${code} warning at its position`, () => {
      const { rec, warnings } = recordWarnings(parse, lines(attrs!));
      assert.deepEqual(rec.files.get('p/A.java'), [[1, 4], [9, 0]]);
      assert.deepEqual(warnings.map((w) => [w.code, w.count, w.positions[0]!.line, w.positions[0]!.field]), [[code, 1, 3, field]]);
    });
  }

  test('missing attributes are invalid_syntax', () => {
    parseError(() => record(parse, line('nr="1" mi="0" ci="1" cb="0"')), 'invalid_syntax');
    parseError(() => record(parse, '<report><package><sourcefile name="a"/></package></report>'), 'invalid_syntax');
  });

  test('a Cobertura document is rejected at its root', () => {
    parseError(() => record(parse, '<coverage><packages/></coverage>'), 'invalid_syntax');
  });

  test('a truncated report is truncated', () => {
    const input = fixture('jacoco-quirks.xml');
    for (let cut = 1; cut < input.length; cut += 101) {
      parseError(() => record(parse, input.subarray(0, cut), { size: 64 }), 'truncated');
    }
  });
});
