import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCodecovJsonParser } from '../../../src/coverage/parsers/codecov-json';
import { ReportParseError } from '../../../src/coverage/errors';
import { RecordingSink, runParser, runParserWarnings } from './helpers/json-recording-sink';

function parseError(input: string): ReportParseError {
  try {
    runParser(createCodecovJsonParser, input);
  } catch (err) {
    assert.ok(err instanceof ReportParseError, `expected ReportParseError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ReportParseError');
}

describe('Codecov JSON parser', () => {
  test('the line map: counts, fractions, booleans, skipped and null', () => {
    const sink = runParser(
      createCodecovJsonParser,
      JSON.stringify({
        coverage: { 'src/a.py': { 1: 1, 2: '1/2', 3: null, 4: 0, 5: true, 6: -1, 7: '12', 8: false, 9: '2/2' } },
      }),
    );
    assert.deepEqual(sink.values(), {
      'src/a.py': { 1: 1, 2: '1/2b', 4: 0, 5: 'trueb', 6: -1, 7: 12, 8: '0b', 9: '2/2b' },
    });
  });

  test('the list form is indexed by line number', () => {
    const sink = runParser(createCodecovJsonParser, JSON.stringify({ coverage: { 'a.rb': [null, 1, null, 0, '0/2'] } }));
    assert.deepEqual(sink.values(), { 'a.rb': { 1: 1, 3: 0, 4: '0/2b' } });
  });

  test('the { lines: [...] } form starts at line 1 and reads "ignored" as skipped', () => {
    const sink = runParser(
      createCodecovJsonParser,
      JSON.stringify({ coverage: { 'a.rb': { lines: [1, null, 0, 'ignored'] } } }),
    );
    assert.deepEqual(sink.values(), { 'a.rb': { 1: 1, 3: 0, 4: -1 } });
  });

  test('files with no data at all are not opened', () => {
    const sink = runParser(createCodecovJsonParser, JSON.stringify({ coverage: { 'a.py': { 1: null }, 'b.py': [] } }));
    assert.deepEqual(sink.opened, []);
  });

  test('dropped files are skipped', () => {
    const sink = runParser(createCodecovJsonParser, JSON.stringify({ coverage: { 'a.py': { 1: 1 }, 'b.py': { 1: 0 } } }), {
      sink: new RecordingSink((p) => p === 'a.py'),
    });
    assert.deepEqual(sink.values(), { 'b.py': { 1: 0 } });
  });

  test('a bad value skips its line with a warning naming its JSON path', () => {
    for (const [value, code] of [
      [-2, 'negative_count'],
      ['-2', 'negative_count'],
      [1.5, 'non_integer_count'],
      ['3/2', 'invalid_branch_count'],
    ] as const) {
      const { sink, warnings } = runParserWarnings(createCodecovJsonParser, JSON.stringify({ coverage: { 'a.py': { 1: 4, 7: value, 9: 0 } } }));
      assert.deepEqual(sink.values(), { 'a.py': { 1: 4, 9: 0 } }, JSON.stringify(value));
      assert.deepEqual(warnings, [{ code, count: 1, positions: [{ path: '$.coverage["a.py"]["7"]' }] }]);
    }
    const keys = runParserWarnings(createCodecovJsonParser, JSON.stringify({ coverage: { 'a.py': { '-3': 1, '2.5': 1, 99999999: 1, 2: 1 } } }));
    assert.deepEqual(keys.sink.values(), { 'a.py': { 2: 1 } });
    assert.deepEqual(
      keys.warnings.map((w) => [w.code, w.count]),
      [
        ['invalid_line_number', 2],
        ['line_number_out_of_range', 1],
      ],
    );
    // Infinity (JSON.parse reads 1e400 so) is a huge count: clamped like one.
    const inf = runParserWarnings(createCodecovJsonParser, '{"coverage": {"a": {"1": 1e400}}}', { limits: { maxHits: 99 } });
    assert.deepEqual(inf.sink.values(), { a: { 1: 99 } });
    assert.deepEqual(inf.warnings.map((w) => w.code), ['count_clamped']);
  });

  test('values of the wrong kind are typed errors', () => {
    for (const [value, code] of [
      ['1/x', 'invalid_number'],
      ['NaN', 'invalid_number'],
      [[1], 'invalid_number'],
    ] as const) {
      const e = parseError(JSON.stringify({ coverage: { 'a.py': { 7: value } } }));
      assert.equal(e.code, code, JSON.stringify(value));
      assert.equal(e.format, 'codecov');
      assert.match(e.reason, /^\$\.coverage\["a\.py"\]\["7"\]: /);
    }
    let e = parseError(JSON.stringify({ coverage: { 'a.py': { x: 1 } } }));
    assert.match(e.reason, /line number key/);
    e = parseError(JSON.stringify({ coverage: 3 }));
    assert.match(e.reason, /^\$\.coverage: expected an object/);
  });

  test('huge counts clamp to maxHits, with a warning', () => {
    const { sink, warnings } = runParserWarnings(createCodecovJsonParser, '{"coverage": {"a": {"2": 123456789012345678901234567890}}}', {
      limits: { maxHits: 99 },
    });
    assert.deepEqual(sink.values(), { a: { 2: 99 } });
    assert.deepEqual(warnings, [{ code: 'count_clamped', count: 1, positions: [{ path: '$.coverage.a["2"]' }] }]);
  });
});
