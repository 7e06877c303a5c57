import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimplecovParser } from '../../../src/coverage/parsers/simplecov';
import { ReportParseError } from '../../../src/coverage/errors';
import { runParser, runParserWarnings } from './helpers/json-recording-sink';

function parseError(input: string): ReportParseError {
  try {
    runParser(createSimplecovParser, input);
  } catch (err) {
    assert.ok(err instanceof ReportParseError, `expected ReportParseError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ReportParseError');
}

describe('SimpleCov parser', () => {
  test('.resultset.json with lines and branches', () => {
    const sink = runParser(
      createSimplecovParser,
      JSON.stringify({
        RSpec: {
          coverage: {
            '/app/lib/a.rb': {
              lines: [1, 1, null, 0, 'ignored', 3],
              branches: {
                '[:if, 0, 2, 4, 6, 7]': { '[:then, 1, 3, 6, 3, 10]': 0, '[:else, 2, 5, 6, 5, 10]': 4 },
                '[:case, 3, 6, 4, 9, 7]': { '[:when, 4, 7, 6, 7, 10]': 1, '[:else, 5, 8, 6, 8, 10]': 2 },
              },
            },
          },
          timestamp: 1700000000,
        },
      }),
    );
    assert.deepEqual(sink.values(), { '/app/lib/a.rb': { 1: 1, 2: '1/2b', 4: 0, 5: -1, 6: '2/2b' } });
    assert.deepEqual(sink.files.get('/app/lib/a.rb')?.get(2)?.extras, { missingBranches: ['0:1'] });
  });

  test('pre-0.18 resultsets with bare arrays, several commands merged by reopening the file', () => {
    const sink = runParser(
      createSimplecovParser,
      JSON.stringify({
        RSpec: { coverage: { 'a.rb': [1, null, 0] }, timestamp: 1 },
        Cucumber: { coverage: { 'b.rb': [null, 2] }, timestamp: 2 },
      }),
    );
    assert.deepEqual(sink.values(), { 'a.rb': { 1: 1, 3: 0 }, 'b.rb': { 2: 2 } });
  });

  test('simplecov-json formatter output', () => {
    const sink = runParser(
      createSimplecovParser,
      JSON.stringify({
        timestamp: 1,
        command_name: 'RSpec',
        files: [
          { filename: '/app/a.rb', covered_percent: 50, coverage: [1, 0, null] },
          { filename: '/app/b.rb', coverage: { lines: [null, 5], branches: [] } },
        ],
      }),
    );
    assert.deepEqual(sink.values(), { '/app/a.rb': { 1: 1, 2: 0 }, '/app/b.rb': { 2: 5 } });
  });

  test('simplecov_json_formatter output', () => {
    const sink = runParser(
      createSimplecovParser,
      JSON.stringify({
        meta: { simplecov_version: '0.22.0' },
        coverage: { '/app/a.rb': { lines: [null, 1, 'ignored', 0], branches: [{ type: 'then', start_line: 2, coverage: 0 }] } },
        groups: {},
      }),
    );
    assert.deepEqual(sink.values(), { '/app/a.rb': { 2: 1, 3: -1, 4: 0 } });
  });

  test('a negative or fractional count skips its line with a warning', () => {
    const { sink, warnings } = runParserWarnings(createSimplecovParser, JSON.stringify({ RSpec: { coverage: { 'a.rb': [1, -4, 0.5, 0] } } }));
    assert.deepEqual(sink.values(), { 'a.rb': { 1: 1, 4: 0 } });
    assert.deepEqual(warnings, [
      { code: 'negative_count', count: 1, positions: [{ path: '$.RSpec.coverage["a.rb"][1]' }] },
      { code: 'non_integer_count', count: 1, positions: [{ path: '$.RSpec.coverage["a.rb"][2]' }] },
    ]);
  });

  test('malformed input gives typed errors naming the JSON path', () => {
    let e = parseError(JSON.stringify({ RSpec: { coverage: { 'a.rb': [1, 'x'] } } }));
    assert.equal(e.code, 'invalid_number');
    assert.match(e.reason, /^\$\.RSpec\.coverage\["a\.rb"\]\[1\]/);
    e = parseError(JSON.stringify({ RSpec: { coverage: { 'a.rb': { lines: [1], branches: { nonsense: {} } } } } }));
    assert.match(e.reason, /branch key/);
    e = parseError(JSON.stringify({ files: [{ coverage: [1] }] }));
    assert.match(e.reason, /^\$\.files\[0\]\.filename: expected a string/);
    e = parseError(JSON.stringify({ RSpec: 1 }));
    assert.match(e.reason, /^\$\.RSpec: expected an object/);
  });
});
