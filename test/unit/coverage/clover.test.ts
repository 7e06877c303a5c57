import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseReport } from '../../../src/coverage/parse';
import { createPathResolver } from '../../../src/coverage/paths';
import { reportTotals } from '../../../src/coverage/totals';
import { classifyValue } from '../../../src/coverage/values';
import { createCloverParser } from '../../../src/coverage/parsers/clover';
import { createCoberturaParser } from '../../../src/coverage/parsers/cobertura';
import type { LineValue } from '../../../src/coverage/types';
import { corpus, fixture, parseError, parseJson, record, recordWarnings } from '../../fixtures/xml/harness';

const parse = createCloverParser;
const dropIgnore = (p: string): boolean => p === 'ignore';

describe('Clover quirks (per-line sink calls)', () => {
  const rec = record(parse, fixture('clover-quirks.xml'), { drop: dropIgnore });

  test('stmt counts, cond fractions from truecount/falsecount, methods with complexity', () => {
    assert.deepEqual(rec.files.get('source.php'), [
      [5, 1, 'm', { complexity: 0 }],
      [6, 2969, 'm', { complexity: 9 }],
      [1, '1/2', 'b'],
      [2, '1/2', 'b'],
      [3, '2/2', 'b'],
      [4, '0/2', 'b'],
      [8, 0],
      [11, 1],
      [21, 0],
      [22, 0],
      [23, 0],
      // Line 87 is past <metrics loc="86">: dropped for PHP files.
    ]);
  });

  test('path wins over name; an empty path falls back to name; eof cut applies to PHP only', () => {
    assert.deepEqual(rec.files.get('file.php'), [[11, 1]]);
    assert.deepEqual(rec.files.get('lib/app.js'), [
      [3, 0],
      [4, 0],
      [5, 2, 'm', { complexity: 0 }],
      [500, 1],
    ]);
  });

  test('templated names and vendored PHP are skipped; files without lines open nothing', () => {
    const opened = rec.events.filter((e) => e[0] === 'file').map((e) => e[1]);
    assert.deepEqual(opened, ['source.php', 'file.php', 'ignore', 'lib/app.js']);
    assert.equal(rec.files.has('ignore'), false);
  });
});

describe('Clover through the session builder', () => {
  test('derived values and totals match Codecov', () => {
    const json = parseJson(parse, fixture('clover-quirks.xml'), 'clover', dropIgnore);
    assert.deepEqual(json.files['source.php'].lines, {
      1: '1/2', 2: '1/2', 3: '2/2', 4: '0/2', 5: 1, 6: 2969, 8: 0, 11: 1, 21: 0, 22: 0, 23: 0,
    });
    assert.deepEqual(json.files['source.php'].totals, {
      files: 1, lines: 11, hits: 4, misses: 5, partials: 2, branches: 4, methods: 2, coverage: '36.36364',
    });
    assert.deepEqual(json.files['file.php'].totals, {
      files: 1, lines: 1, hits: 1, misses: 0, partials: 0, branches: 0, methods: 0, coverage: '100',
    });
  });
});

describe('Clover corpus (nyc)', () => {
  test('statements and conditionals agree with the report metrics', () => {
    const json = parseJson(parse, corpus('negotiator-nyc/clover.xml'), 'clover');
    // <metrics statements="229"> at project level; every statement line is one line here.
    assert.equal(json.totals.lines, 229);
    assert.equal(json.totals.files, 6);
  });

  test('hit/miss classes agree with the same run written as Cobertura', () => {
    const clover = parseJson(parse, corpus('negotiator-nyc/clover.xml'), 'clover');
    const cobertura = parseJson(createCoberturaParser, corpus('negotiator-nyc/cobertura-coverage.xml'), 'cobertura');
    const base = '/home/runner/work/negotiator-nyc/negotiator-nyc/';
    const covered = (v: LineValue): boolean => (typeof v === 'string' ? !v.startsWith('0/') : v !== 0);
    const relative = Object.keys(clover.files).map((p) => path.posix.relative(base, p)).sort();
    assert.deepEqual(relative, Object.keys(cobertura.files).sort());
    let shared = 0;
    for (const [abs, file] of Object.entries(clover.files)) {
      const other = cobertura.files[path.posix.relative(base, abs)].lines;
      for (const [n, value] of Object.entries(file.lines)) {
        // Codecov reads cond lines from truecount/falsecount alone ("1/2" when either is 0), so
        // only statement lines are comparable; see the next test.
        if (!(n in other) || typeof value === 'string') continue;
        shared++;
        assert.equal(covered(value), covered(other[n]), `${abs}:${n} ${JSON.stringify(value)} vs ${JSON.stringify(other[n])}`);
      }
    }
    assert.equal(shared, 169);
  });

  test('istanbul writes covered/uncovered branches: truecount 0 and falsecount 3 is "0/3"', () => {
    const rec = record(parse, corpus('negotiator-nyc/clover.xml'));
    assert.deepEqual(rec.generators, ['istanbul']);
    const encoding = rec.files.get('/home/runner/work/negotiator-nyc/negotiator-nyc/lib/encoding.js');
    // Codecov (OpenClover's reading) says "1/2" here.
    assert.deepEqual(encoding?.find((c) => c[0] === 131), [131, '0/3', 'b']);
  });

  test('any chunking gives the same sink calls', () => {
    const quirks = fixture('clover-quirks.xml');
    const expected = record(parse, quirks).events;
    for (const size of [1, 17]) assert.deepEqual(record(parse, quirks, { size }).events, expected, `quirks / ${size}`);
    const input = corpus('negotiator-nyc/clover.xml');
    const whole = record(parse, input).events;
    for (const size of [1, 5, 333]) assert.deepEqual(record(parse, input, { size }).events, whole, `size ${size}`);
  });
});

describe('Clover bad input', () => {
  const line = (attrs: string): string =>
    `<coverage generated="1"><project><file name="a.js">\n<line ${attrs}/></file></project></coverage>`;

  test('non-numeric truecount is invalid_number with its position', () => {
    const err = parseError(() => record(parse, line('num="1" type="cond" truecount="x" falsecount="0"')), 'invalid_number');
    assert.equal(err.format, 'clover');
    assert.equal(err.line, 2);
  });

  for (const [attrs, code, field] of [
    ['num="5" type="stmt" count="-1"', 'negative_count', 'count'],
    ['num="5" type="stmt" count="NaN"', 'non_integer_count', 'count'],
    ['num="5" type="stmt" count="1.5e2"', 'non_integer_count', 'count'],
    ['num="18446744073709551616" type="stmt" count="1"', 'line_number_out_of_range', 'line number'],
  ]) {
    test(`${attrs}: the line is skipped with a ${code} warning at its position`, () => {
      const input = `<coverage generated="1"><project><file name="a.js">\n<line num="1" type="stmt" count="3"/>\n<line ${attrs}/>\n<line num="9" type="stmt" count="0"/></file></project></coverage>`;
      const { rec, warnings } = recordWarnings(parse, input);
      assert.deepEqual(rec.files.get('a.js'), [[1, 3], [9, 0]]);
      assert.deepEqual(warnings.map((w) => [w.code, w.count, w.positions[0]!.line, w.positions[0]!.field]), [[code, 1, 3, field]]);
    });
  }

  test('missing attributes are invalid_syntax', () => {
    parseError(() => record(parse, line('type="stmt" count="1"')), 'invalid_syntax');
    parseError(() => record(parse, line('num="1" count="1"')), 'invalid_syntax');
    parseError(() => record(parse, line('num="1" type="cond" truecount="1"')), 'invalid_syntax');
    parseError(() => record(parse, '<coverage><project><file><line num="1" type="stmt"/></file></project></coverage>'), 'invalid_syntax');
  });

  test('a JaCoCo document is rejected at its root', () => {
    parseError(() => record(parse, '<report name="x"/>'), 'invalid_syntax');
  });
});

describe('Clover by generator', () => {
  const MULTI = path.resolve(__dirname, '../../fixtures/multi-format');
  const doc = (root: string, project: string, lines: string): string =>
    `<?xml version="1.0"?>\n<coverage ${root}>\n<project ${project}>\n<file name="a.js" path="a.js">\n${lines}\n</file></project></coverage>`;
  const conds = [
    '<line num="1" count="3" type="cond" truecount="2" falsecount="0"/>',
    '<line num="2" count="3" type="cond" truecount="1" falsecount="1"/>',
    '<line num="3" count="0" type="cond" truecount="0" falsecount="3"/>',
    '<line num="4" count="5" type="cond" truecount="57" falsecount="0"/>',
    '<line num="5" count="5" type="cond" truecount="0" falsecount="0"/>',
  ].join('\n');

  test('istanbul (clover="3.2.0", project "All files"): covered/uncovered branch counts', () => {
    const rec = record(parse, doc('generated="1" clover="3.2.0"', 'timestamp="1" name="All files"', conds));
    assert.deepEqual(rec.generators, ['istanbul']);
    // A cond line without branches is its statement count.
    assert.deepEqual(rec.files.get('a.js'), [[1, '2/2', 'b'], [2, '1/2', 'b'], [3, '0/3', 'b'], [4, '57/57', 'b'], [5, 5]]);
  });

  test('OpenClover, an older Clover 3.2.0 project, PHPUnit: times true / false, as today', () => {
    for (const [root, project, generators] of [
      ['generated="1" clover="4.4.1"', 'name="Project" timestamp="1"', ['openclover']],
      ['generated="1" clover="3.2.0"', 'name="demo" timestamp="1"', ['openclover']],
      ['generated="1" clover="3.2.0" generator="OpenClover 4.5"', 'timestamp="1" name="All files"', ['openclover']],
      ['generated="1"', 'timestamp="1"', []],
    ] as const) {
      const rec = record(parse, doc(root, project, conds));
      assert.deepEqual(rec.generators, generators, root);
      assert.deepEqual(
        rec.files.get('a.js'),
        [[1, '1/2', 'b'], [2, '2/2', 'b'], [3, '1/2', 'b'], [4, '1/2', 'b'], [5, '0/2', 'b']],
        root,
      );
    }
  });

  test('an explicit istanbul generator attribute wins', () => {
    const rec = record(parse, doc('generated="1" clover="9" generator="istanbul-reports"', 'name="x"', conds));
    assert.deepEqual(rec.generators, ['istanbul']);
    assert.deepEqual(rec.files.get('a.js')?.[0], [1, '2/2', 'b']);
  });

  test('istanbul branch counts are bounded like other formats', () => {
    const big = '<line num="1" count="1" type="cond" truecount="100000" falsecount="1"/>';
    const err = parseError(() => record(parse, doc('clover="3.2.0"', 'name="All files"', big)), 'invalid_number');
    assert.equal(err.format, 'clover');
  });

  for (const run of ['c8-js', 'nyc-js']) {
    test(`${run}: istanbul's Clover, LCOV and JSON of one run agree line by line`, async () => {
      const alone = await Promise.all(
        ['clover.xml', 'lcov.info', 'coverage-final.json'].map(async (name, i) => {
          const bytes = readFileSync(path.join(MULTI, run, name));
          const { report } = await parseReport(bytes, { fileName: name, sessionId: i, resolver: createPathResolver() });
          return report;
        }),
      );
      const [clover, ...others] = alone;
      let compared = 0;
      let branchLines = 0;
      for (const f of clover!) {
        for (let i = 0; i < f.lineCount; i++) {
          for (const other of others) {
            const v = other.file(f.path)?.valueAt(f.lines[i]!);
            if (v === undefined) continue;
            compared++;
            if (f.type(i) === 'b') branchLines++;
            assert.equal(classifyValue(f.value(i)), classifyValue(v), `${run} ${f.path}:${f.lines[i]} ${JSON.stringify(f.value(i))} vs ${JSON.stringify(v)}`);
          }
        }
      }
      assert.ok(compared >= 40 && branchLines >= 10, `${compared} lines, ${branchLines} branch lines compared`);
      // c8 lists the same lines in every format, so even the totals agree (Codecov: 56.86% vs 88.24%).
      if (run === 'c8-js') assert.equal(reportTotals(clover!).coverage, reportTotals(others[0]!).coverage);
    });
  }
});
