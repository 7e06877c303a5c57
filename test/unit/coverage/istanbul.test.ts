import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createIstanbulParser } from '../../../src/coverage/parsers/istanbul';
import { ReportParseError } from '../../../src/coverage/errors';
import { runParser, runParserWarnings } from './helpers/json-recording-sink';

const REPO = path.resolve(__dirname, '../../..');
const CORPUS = path.resolve(REPO, '../shared/corpus');
const fixture = readFileSync(path.join(REPO, 'test/fixtures/json/istanbul-small.json'));
const A = '/home/runner/work/demo/demo/src/a.js';

function parseError(input: string): ReportParseError {
  try {
    runParser(createIstanbulParser, input);
  } catch (err) {
    assert.ok(err instanceof ReportParseError, `expected ReportParseError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ReportParseError');
}

describe('istanbul parser', () => {
  test('statements, branches and functions follow the istanbul LCOV reporter', () => {
    const sink = runParser(createIstanbulParser, fixture);
    assert.deepEqual(sink.values(), {
      [A]: {
        1: 1,
        2: 5, // max of the two statements starting on line 2
        3: '3/4b', // branches 0 and 1 both start on line 3; their counts replace the statement's
        4: 0,
        6: '3m', // a declaration line without statements gets the function's count
        7: '2/2b',
        10: '0m', // statement on a function's line: the statement's count, type m
      },
    });
  });

  test('files without instrumented lines are left out', () => {
    const sink = runParser(createIstanbulParser, fixture);
    assert.ok(!sink.opened.includes('/home/runner/work/demo/demo/src/empty.js'));
  });

  test('missing branches name the branch id and location index', () => {
    const sink = runParser(createIstanbulParser, fixture);
    assert.deepEqual(sink.files.get(A)?.get(3)?.extras, { missingBranches: ['0:0'] });
    assert.equal(sink.files.get(A)?.get(7)?.extras, undefined);
  });

  test('statements with different counts on one line keep their column spans', () => {
    const sink = runParser(createIstanbulParser, fixture);
    assert.deepEqual(sink.files.get(A)?.get(2)?.extras, {
      partials: [
        [2, 10, 5],
        [12, 30, 0],
      ],
    });
    assert.equal(sink.files.get(A)?.get(1)?.extras, undefined);
  });

  test('chunking does not change the result', () => {
    const whole = runParser(createIstanbulParser, fixture).values();
    assert.deepEqual(runParser(createIstanbulParser, fixture, { chunkSize: 7 }).values(), whole);
  });

  test('old nyc output wrapped in { data } is read', () => {
    const doc = JSON.parse(fixture.toString('utf8')) as Record<string, unknown>;
    const wrapped = JSON.stringify({ [A]: { data: doc[A] } });
    assert.deepEqual(runParser(createIstanbulParser, wrapped).values(), runParser(createIstanbulParser, fixture).values());
  });

  test('agrees with the lcov.info written from the same nyc run', () => {
    const json = readFileSync(path.join(CORPUS, 'negotiator-nyc/coverage-final.json'));
    const sink = runParser(createIstanbulParser, json);
    const lcov = readFileSync(path.join(CORPUS, 'negotiator-nyc/lcov.info'), 'utf8');
    let file = '';
    const da = new Map<string, number>();
    const brda = new Map<string, [number, number]>();
    for (const line of lcov.split('\n')) {
      if (line.startsWith('SF:')) file = `/home/runner/work/negotiator-nyc/negotiator-nyc/${line.slice(3)}`;
      else if (line.startsWith('DA:')) {
        const [ln, hits] = line.slice(3).split(',');
        da.set(`${file}:${ln}`, Number(hits));
      } else if (line.startsWith('BRDA:')) {
        const [ln, , , taken] = line.slice(5).split(',');
        const key = `${file}:${ln}`;
        const b = brda.get(key) ?? [0, 0];
        brda.set(key, [b[0] + (taken !== '-' && Number(taken) > 0 ? 1 : 0), b[1] + 1]);
      }
    }
    assert.ok(da.size > 200);
    let compared = 0;
    for (const [key, hits] of da) {
      const at = key.lastIndexOf(':');
      const got = sink.files.get(key.slice(0, at))?.get(Number(key.slice(at + 1)));
      assert.ok(got, `line ${key} missing`);
      const b = brda.get(key);
      assert.equal(got.value, b ? `${b[0]}/${b[1]}` : hits, key);
      compared++;
    }
    assert.equal(compared, da.size);
  });

  test('a bad count or line number skips its statement, branch or function with a warning', () => {
    const at = (line: number) => ({ start: { line, column: 0 }, end: { line, column: 5 } });
    const { sink, warnings } = runParserWarnings(
      createIstanbulParser,
      JSON.stringify({
        'a.js': {
          statementMap: { 0: at(1), 1: at(2), 2: at(3), 3: { start: { line: -4 } }, 4: at(20_000_000), 5: at(6) },
          s: { 0: 5, 1: -1, 2: 1.5, 3: 1, 4: 1, 5: 0 },
          branchMap: { 0: { line: 6, locations: [at(6), at(6)] } },
          b: { 0: [1, -2] },
          fnMap: { 0: { decl: at(1), loc: at(1) } },
          f: { 0: -9 },
        },
      }),
    );
    // Statement 1 and 2 are skipped (so lines 2 and 3 have none), 3 and 4 have no usable line, and
    // the branch arm with -2 is left out of line 6's fraction; the function with -9 is dropped.
    assert.deepEqual(sink.values(), { 'a.js': { 1: 5, 6: '1/1b' } });
    assert.deepEqual(warnings, [
      { code: 'negative_count', count: 3, positions: [{ path: '$["a.js"].s["1"]' }, { path: '$["a.js"].b["0"][1]' }, { path: '$["a.js"].f["0"]' }] },
      { code: 'non_integer_count', count: 1, positions: [{ path: '$["a.js"].s["2"]' }] },
      { code: 'invalid_line_number', count: 1, positions: [{ path: '$["a.js"].statementMap["3"].start.line' }] },
      { code: 'line_number_out_of_range', count: 1, positions: [{ path: '$["a.js"].statementMap["4"].start.line' }] },
    ]);
  });

  test('malformed documents give typed errors naming the JSON path', () => {
    const bad = (s: unknown) => JSON.stringify({ 'a.js': s });
    const statement = { start: { line: 1, column: 0 }, end: { line: 1, column: 5 } };
    let e = parseError(bad({ statementMap: { 0: statement }, s: { 0: 'x' } }));
    assert.equal(e.code, 'invalid_number');
    assert.match(e.reason, /^\$\["a\.js"\]\.s\["0"\]: /);
    e = parseError(bad({ statementMap: { 0: statement }, s: {} }));
    assert.match(e.reason, /s\["0"\]/);
    e = parseError(bad({ statementMap: { 0: { start: { line: 'x' } } }, s: { 0: 1 } }));
    assert.match(e.reason, /statementMap\["0"\]\.start\.line/);
    e = parseError(bad({ statementMap: {}, branchMap: { 0: { line: 1 } }, b: { 0: 'x' } }));
    assert.match(e.reason, /b\["0"\]: expected an array/);
    e = parseError(JSON.stringify({ coverage: { 'a.py': { 1: 1 } } }));
    assert.match(e.reason, /^\$\.coverage\.statementMap: expected an object, got undefined/);
    e = parseError(JSON.stringify([1, 2]));
    assert.equal(e.format, 'istanbul');
    assert.match(e.reason, /^\$: expected an object/);
  });

  test('shape errors name the line and column of the offending value', () => {
    const doc = JSON.parse(fixture.toString('utf8')) as Record<string, { s: Record<string, unknown> }>;
    doc[A]!.s['5'] = 'three';
    const text = JSON.stringify(doc, null, 2);
    const e = parseError(text);
    const lines = text.split('\n');
    const expectedLine = lines.findIndex((l) => l.includes('"three"')) + 1;
    assert.equal(e.line, expectedLine);
    assert.equal(e.column, lines[expectedLine - 1]!.indexOf('"three"') + 1);
    assert.match(e.message, new RegExp(`^report\\.json:${expectedLine}:\\d+: istanbul: \\$\\[`));
    // A missing key points at the object that lacks it.
    const missing = parseError('{\n  "a.js": {\n    "statementMap": {"0": {"start": {"line": 1}}},\n    "s": {}\n  }\n}');
    assert.equal(missing.line, 4);
  });

  test('JSON syntax errors carry line and column', () => {
    const e = parseError('{\n  "a.js": {\n    "s": {,}\n  }\n}');
    assert.equal(e.code, 'invalid_syntax');
    assert.equal(e.line, 3);
    assert.equal(e.column, 11);
    const t = parseError('{"a.js": {"s": {');
    assert.equal(t.code, 'truncated');
  });

  test('huge counts are clamped to maxHits', () => {
    const doc = JSON.stringify({
      'a.js': { statementMap: { 0: { start: { line: 1, column: 0 }, end: { line: 1, column: 1 } } }, s: { 0: 1e300 } },
    });
    const sink = runParser(createIstanbulParser, doc, { limits: { maxHits: 1000 } });
    assert.deepEqual(sink.values(), { 'a.js': { 1: 1000 } });
  });

  test('the document is bounded by maxJsonBytes', () => {
    try {
      runParser(createIstanbulParser, fixture, { limits: { maxJsonBytes: 100 }, chunkSize: 64 });
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof ReportParseError);
      assert.equal(err.code, 'limit_exceeded');
      assert.equal(err.limit, 'maxJsonBytes');
    }
  });
});
