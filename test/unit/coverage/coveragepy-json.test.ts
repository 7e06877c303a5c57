import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createCoveragePyJsonParser } from '../../../src/coverage/parsers/coveragepy-json';
import { ReportParseError } from '../../../src/coverage/errors';
import { runParser, runParserWarnings } from './helpers/json-recording-sink';

const CORPUS = path.resolve(__dirname, '../../../../shared/corpus');

const doc = (files: unknown) => JSON.stringify({ meta: { version: '7.4.0', branch_coverage: true }, files });

function parseError(input: string): ReportParseError {
  try {
    runParser(createCoveragePyJsonParser, input);
  } catch (err) {
    assert.ok(err instanceof ReportParseError, `expected ReportParseError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ReportParseError');
}

describe('coverage.py JSON parser', () => {
  test('executed lines are 1, missing 0, excluded left out', () => {
    const sink = runParser(
      createCoveragePyJsonParser,
      doc({ 'pkg/a.py': { executed_lines: [1, 2, 5], missing_lines: [3, 4], excluded_lines: [5, 6] } }),
    );
    assert.deepEqual(sink.values(), { 'pkg/a.py': { 1: 1, 2: 1, 3: 0, 4: 0 } });
  });

  test('branch arcs become fractions on their source line with missing destinations', () => {
    const sink = runParser(
      createCoveragePyJsonParser,
      doc({
        'a.py': {
          executed_lines: [1, 2, 3, 5],
          missing_lines: [4, 6],
          excluded_lines: [],
          executed_branches: [
            [2, 3],
            [5, -1],
          ],
          missing_branches: [
            [2, 4],
            [5, 6],
            [6, 7],
            [6, 8],
          ],
        },
      }),
    );
    assert.deepEqual(sink.values(), { 'a.py': { 1: 1, 2: '1/2b', 3: 1, 4: 0, 5: '1/2b', 6: '0/2b' } });
    assert.deepEqual(sink.files.get('a.py')?.get(2)?.extras, { missingBranches: ['4'] });
    assert.deepEqual(sink.files.get('a.py')?.get(6)?.extras, { missingBranches: ['7', '8'] });
    assert.equal(sink.files.get('a.py')?.get(1)?.extras, undefined);
  });

  test('files without lines are left out', () => {
    const sink = runParser(createCoveragePyJsonParser, doc({ 'e.py': { executed_lines: [], missing_lines: [] } }));
    assert.deepEqual(sink.opened, []);
  });

  test('the tomli report matches its Cobertura twin line for line', () => {
    const sink = runParser(createCoveragePyJsonParser, readFileSync(path.join(CORPUS, 'tomli-misc/coverage-py.json')));
    const xml = readFileSync(path.join(CORPUS, 'tomli-misc/coverage-py.xml'), 'utf8');
    let file = '';
    let compared = 0;
    for (const m of xml.matchAll(/<class [^>]*filename="([^"]+)"|<line number="(\d+)" hits="(\d+)"(?: branch="true" condition-coverage="\d+% \((\d+)\/(\d+)\)")?/g)) {
      if (m[1]) {
        file = m[1];
        continue;
      }
      const got = sink.files.get(file)?.get(Number(m[2]));
      assert.ok(got, `${file}:${m[2]} missing`);
      if (m[4] === undefined) {
        assert.equal(got.value, Number(m[3]), `${file}:${m[2]}`);
      } else {
        // coverage.py's XML counts a line's exits slightly differently (an arc that leaves and
        // re-enters the same line), so compare the class of the fraction, not its digits.
        const [a, b] = String(got.value).split('/').map(Number);
        const cls = (x: number, y: number) => (x === 0 ? 'miss' : x === y ? 'hit' : 'partial');
        assert.equal(cls(a, b), cls(Number(m[4]), Number(m[5])), `${file}:${m[2]}`);
      }
      compared++;
    }
    assert.ok(compared > 300, `compared ${compared}`);
  });

  test('malformed input gives typed errors naming the JSON path', () => {
    let e = parseError(JSON.stringify({ meta: {}, files: [] }));
    assert.match(e.reason, /^\$\.files: expected an object/);
    e = parseError(doc({ 'a.py': { executed_lines: [1, 'x'] } }));
    assert.equal(e.code, 'invalid_number');
    assert.match(e.reason, /executed_lines\[1\]/);
    e = parseError(doc({ 'a.py': { executed_lines: [1], executed_branches: [[1]] } }));
    assert.match(e.reason, /executed_branches\[0\]: expected a \[from, to\] pair/);
  });

  test('a bad line number is skipped with a warning naming its JSON path', () => {
    const { sink, warnings } = runParserWarnings(
      createCoveragePyJsonParser,
      doc({ 'a.py': { executed_lines: [1, -3, 2.5, 1e9, 4], missing_lines: [5], executed_branches: [[4, 5], [4, 6.5]], missing_branches: [] } }),
    );
    assert.deepEqual(sink.values(), { 'a.py': { 1: 1, 4: '1/1b', 5: 0 } });
    assert.deepEqual(warnings, [
      {
        code: 'invalid_line_number',
        count: 3,
        positions: [
          { path: '$.files["a.py"].executed_lines[1]' },
          { path: '$.files["a.py"].executed_lines[2]' },
          { path: '$.files["a.py"].executed_branches[1][1]' },
        ],
      },
      { code: 'line_number_out_of_range', count: 1, positions: [{ path: '$.files["a.py"].executed_lines[3]' }] },
    ]);
  });
});
