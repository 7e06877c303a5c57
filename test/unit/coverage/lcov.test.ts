import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseWarnings } from '../../../src/coverage/warnings';
import { createLcovParser } from '../../../src/coverage/parsers/lcov';
import { createSessionBuilder } from '../../../src/coverage/builder';
import { ReportParseError } from '../../../src/coverage/errors';
import { toParseJson } from '../../../src/coverage/json-output';
import type { ParseLimits } from '../../../src/coverage/limits';
import type { CoverageSink, FileSink } from '../../../src/coverage/types';
import { CallRecorder, corpusFile, feed, parseError, parseJson, record, recordWarnings, mutations, outcome } from '../../fixtures/text/harness';

const lcov = (text: string): string => text.replace(/^\s+/gm, '');

describe('LCOV: line values', () => {
  test('DA gives hit counts; coverage.py checksum field is ignored', () => {
    const r = record(
      createLcovParser,
      lcov(`TN:
        SF:src/a.py
        DA:1,1,0yyEIwWLgBPbXh9zLakMrw
        DA:2,0,8+OfkPs5bxbPg1/CzQbdPw
        DA:5,12
        LF:3
        LH:2
        end_of_record
      `),
    );
    assert.deepEqual(r.compact(), { 'src/a.py:1': 1, 'src/a.py:2': 0, 'src/a.py:5': 12 });
  });

  test('BRDA overrides DA of its line: taken/total, type b, missing block:branch ids', () => {
    const r = record(
      createLcovParser,
      lcov(`SF:foo.c
        DA:1047,731835
        DA:1048,3
        BRDA:1047,0,0,0
        BRDA:1047,0,1,1
        end_of_record
      `),
    );
    assert.deepEqual(r.calls, [
      { path: 'foo.c', line: 1047, value: '1/2', type: 'b', extras: { missingBranches: ['0:0'] } },
      { path: 'foo.c', line: 1048, value: 3, type: 'line' },
    ]);
  });

  test('lines are emitted in ascending order when the DA lines are, branch lines merged in', () => {
    const r = record(createLcovParser, 'SF:a.c\nDA:1,1\nDA:3,1\nDA:5,1\nDA:9,1\nBRDA:7,0,0,1\nBRDA:3,0,0,1\nBRDA:12,0,0,1\nend_of_record\n');
    assert.deepEqual(
      r.calls.map((c) => c.line),
      [1, 3, 5, 7, 9, 12],
    );
    // coverage.py lists executed lines, then missing ones; repeats keep their order
    const py = record(createLcovParser, 'SF:m.py\nDA:2,1\nDA:8,1\nDA:8,4\nDA:1,0\nDA:5,0\nBRDA:6,0,0,1\nend_of_record\n');
    assert.deepEqual(
      py.calls.map((c) => [c.line, c.value]),
      [[1, 0], [2, 1], [5, 0], [6, '1/1'], [8, 1], [8, 4]],
    );
    // a long record in reverse order, with branch data on some of its lines
    let text = 'SF:r.c\n';
    for (let n = 5000; n >= 1; n--) text += `DA:${n},${n % 3}\n`;
    for (let n = 10; n <= 5000; n += 10) text += `BRDA:${n},0,0,1\nBRDA:${n},0,1,0\n`;
    const long = record(createLcovParser, `${text}end_of_record\n`);
    assert.deepEqual(
      long.calls.map((c) => c.line),
      Array.from({ length: 5000 }, (_, i) => i + 1),
    );
    assert.equal(long.calls[9]!.value, '1/2');
    assert.equal(long.calls[10]!.value, 11 % 3);
  });

  test('BRDA "-" is not taken; a repeated block:branch keeps its last value; all taken has no missing list', () => {
    const r = record(
      createLcovParser,
      lcov(`SF:x.c
        DA:3,1
        BRDA:3,0,0,-
        BRDA:3,0,1,4
        BRDA:3,1,0,0
        BRDA:3,0,0,2
        BRDA:7,0,0,1
        BRDA:7,0,1,9
        end_of_record
      `),
    );
    assert.deepEqual(r.calls, [
      { path: 'x.c', line: 3, value: '2/3', type: 'b', extras: { missingBranches: ['1:0'] } },
      { path: 'x.c', line: 7, value: '2/2', type: 'b' },
    ]);
  });

  test("a line's branches split over the record are gathered: first position, last value", () => {
    const r = record(
      createLcovParser,
      lcov(`SF:a.c
        BRDA:5,0,0,1
        BRDA:5,0,1,0
        BRDA:6,0,0,1
        BRDA:5,0,1,1
        BRDA:5,1,0,0
        BRDA:5,x y,(expr, with comma),-
        end_of_record
      `),
    );
    assert.deepEqual(r.calls, [
      { path: 'a.c', line: 5, value: '2/4', type: 'b', extras: { missingBranches: ['1:0', 'x y:(expr, with comma)'] } },
      { path: 'a.c', line: 6, value: '1/1', type: 'b' },
    ]);
  });

  test('lines with many branches (generated code) dedupe ids in and across runs', () => {
    let text = 'SF:gen.c\n';
    for (let b = 0; b < 40; b++) text += `BRDA:3,${b},0,1\n`;
    text += 'BRDA:3,0,0,0\nBRDA:2,0,0,1\n';
    for (let b = 39; b >= 0; b--) text += `BRDA:3,${b},1,${b % 2}\n`;
    text += 'BRDA:3,39,0,0\nend_of_record\n';
    const r = record(createLcovParser, text);
    const line3 = r.calls.find((c) => c.line === 3)!;
    assert.equal(line3.value, '58/80');
    const missing = line3.extras!.missingBranches!;
    assert.equal(missing.length, 22);
    assert.deepEqual(missing.slice(0, 2), ['0:0', '39:0']);
    assert.ok(missing.includes('38:1') && !missing.includes('37:1'));
  });

  test('FN marks branch lines as methods; FN lines without branches stay plain; FNDA is ignored', () => {
    const r = record(
      createLcovParser,
      lcov(`SF:m.js
        FN:2,withBranches
        FN:5,plain
        FN:9,12,lcov2Style
        FNDA:4,withBranches
        FNDA:0,plain
        DA:2,4
        DA:5,0
        DA:9,1
        BRDA:2,0,0,1
        BRDA:2,0,1,0
        BRDA:9,0,0,1
        BRDA:9,0,1,1
        end_of_record
      `),
    );
    assert.deepEqual(r.compact(), { 'm.js:5': 0, 'm.js:2': '1/2m', 'm.js:9': '2/2m' });
  });

  test('C++: branch data of lines with mangled function names is dropped, their DA stays', () => {
    const r = record(
      createLcovParser,
      lcov(`SF:file.cpp
        FN:2,not_hit
        FN:3,_Zalkfjeo
        FN:4,_Gsabebra
        FN:78,_Zalkfjeo2
        DA:1,1
        DA:77,0
        DA:78,1
        BRDA:2,1,0,1
        BRDA:2,1,1,-
        BRDA:2,1,3,0
        BRDA:5,1,0,1
        BRDA:5,1,1,1
        BRDA:77,3,0,0
        BRDA:77,3,1,0
        BRDA:77,4,0,0
        BRDA:77,4,1,0
        BRDA:78,0,0,0
        BRDA:78,0,1,0
        end_of_record
      `),
    );
    assert.deepEqual(r.compact(), {
      'file.cpp:1': 1,
      'file.cpp:78': 1,
      'file.cpp:2': '1/3m',
      'file.cpp:5': '2/2b',
      'file.cpp:77': '0/4b',
    });
    assert.deepEqual(r.calls.find((c) => c.line === 77)?.extras, { missingBranches: ['3:0', '3:1', '4:0', '4:1'] });
    assert.deepEqual(r.calls.find((c) => c.line === 2)?.extras, { missingBranches: ['1:1', '1:3'] });
  });

  test('.ts: BRDA on line 1 is dropped; BRDA on line 0 (coverage.py module arcs) is skipped', () => {
    const r = record(
      createLcovParser,
      lcov(`SF:file.ts
        DA:1,1
        DA:2,1
        BRDA:1,1,0,1
        end_of_record
        SF:mod.py
        DA:1,1
        BRDA:0,0,0,1
        BRDA:0,40,0,1
        end_of_record
      `),
    );
    assert.deepEqual(r.compact(), { 'file.ts:1': 1, 'file.ts:2': 1, 'mod.py:1': 1 });
  });

  test('unknown records and lines without a colon are ignored', () => {
    const r = record(
      createLcovParser,
      lcov(`VER:2.0
        TN:suite
        SF:a.c
        FNL:0,1,3
        FNA:0,1,main
        removed
        XYZ:whatever,1
        DA:1,1
        LF:1
        LH:1
        BRF:0
        BRH:0
        end_of_record
      `),
    );
    assert.deepEqual(r.compact(), { 'a.c:1': 1 });
  });

  test('a record with no end_of_record at the end of input is kept', () => {
    const r = record(createLcovParser, 'SF:a.c\nDA:1,1\nDA:2,0');
    assert.deepEqual(r.compact(), { 'a.c:1': 1, 'a.c:2': 0 });
  });

  test('a new SF closes the open record', () => {
    const r = record(createLcovParser, 'SF:a.c\nDA:1,1\nBRDA:1,0,0,1\nSF:b.c\nDA:1,0\nend_of_record\n');
    assert.deepEqual(r.compact(), { 'a.c:1': '1/1b', 'b.c:1': 0 });
  });

  test('CRLF line ends, a UTF-8 BOM and blanks around fields are accepted', () => {
    const text = '\ufeffSF: src/a b.c \r\nDA: 3 , 2 \r\nBRDA:4,0,0, - \r\nend_of_record \r\n';
    const r = record(createLcovParser, text);
    assert.deepEqual(r.compact(), { 'src/a b.c:3': 2, 'src/a b.c:4': '0/1b' });
  });

  test('dropped files are skipped but still validated', () => {
    const sink = new CallRecorder((p) => p === 'ignored.c');
    feed(createLcovParser, sink, 'SF:ignored.c\nDA:1,1\nend_of_record\nSF:kept.c\nDA:2,2\nend_of_record\n');
    assert.deepEqual(sink.compact(), { 'kept.c:2': 2 });
    assert.deepEqual(sink.opened, ['ignored.c', 'kept.c']);
    const err = parseError(createLcovParser, 'SF:ignored.c\nDA:1\nend_of_record\n');
    assert.equal(err.code, 'invalid_syntax');
  });

  test('hit counts above maxHits or 2^53 are clamped, with a warning', () => {
    const { rec: r, warnings } = recordWarnings(createLcovParser, 'SF:a.c\nDA:1,99999999999999999999999\nDA:2,5000\nDA:3,7\nend_of_record\n', {
      limits: { maxHits: 1000 },
    });
    assert.deepEqual(r.compact(), { 'a.c:1': 1000, 'a.c:2': 1000, 'a.c:3': 7 });
    assert.deepEqual(warnings, [
      {
        code: 'count_clamped',
        count: 2,
        positions: [
          { line: 2, column: 6, source: 'a.c', field: 'DA' },
          { line: 3, column: 6, source: 'a.c', field: 'DA' },
        ],
      },
    ]);
    const big = recordWarnings(createLcovParser, 'SF:a.c\nDA:1,99999999999999999999999\nend_of_record\n');
    assert.deepEqual(big.rec.compact(), { 'a.c:1': Number.MAX_SAFE_INTEGER });
    assert.deepEqual(big.warnings.map((w) => [w.code, w.count]), [['count_clamped', 1]]);
  });

  test('paths with multi-byte UTF-8 survive any chunking', () => {
    const text = 'SF:src/日本語/ü.js\nDA:1,1\nend_of_record\n';
    for (const chunkSize of [1, 2, 3, 5]) {
      const r = record(createLcovParser, text, { chunkSize });
      assert.deepEqual(r.compact(), { 'src/日本語/ü.js:1': 1 }, `chunk size ${chunkSize}`);
    }
  });
});

describe('LCOV: derived values through the session builder', () => {
  test('repeated lines and repeated files merge by the standard rule', () => {
    const json = parseJson(
      createLcovParser,
      lcov(`SF:a.c
        DA:1,0
        DA:1,3
        DA:2,0
        DA:3,2
        end_of_record
        SF:a.c
        DA:2,0
        DA:4,1
        BRDA:3,0,0,0
        BRDA:3,0,1,1
        BRDA:4,0,0,0
        BRDA:4,0,1,1
        end_of_record
      `),
      'lcov',
    );
    // line 3: DA 2 (record 1) merged with "1/2" (record 2): a hit makes the branch line covered.
    // line 4: the second record's BRDA overrides its own DA, giving "1/2".
    assert.deepEqual(json.files['a.c']!.lines, { '1': 3, '2': 0, '3': '2/2', '4': '1/2' });
    assert.deepEqual(json.files['a.c']!.totals, {
      files: 1,
      lines: 4,
      hits: 2,
      misses: 1,
      partials: 1,
      branches: 2,
      methods: 0,
      coverage: '50.00000',
    });
  });
});

describe('LCOV: a bad number skips its record with a warning naming the line', () => {
  // Each input has good lines around the bad one (line 3 of the input); they must all survive.
  const cases: [string, string, string, number, string][] = [
    ['negative count', 'DA:4,-1', 'negative_count', 6, 'DA'],
    ['scientific notation', 'DA:4,1e+0', 'non_integer_count', 6, 'DA'],
    ['NaN', 'DA:4,NaN', 'non_integer_count', 6, 'DA'],
    ['fraction', 'DA:4,1.5', 'non_integer_count', 6, 'DA'],
    ['empty count', 'DA:4,', 'non_integer_count', 6, 'DA'],
    ['line 0', 'DA:0,1', 'invalid_line_number', 4, 'DA'],
    ['undefined line', 'DA:undefined,1', 'invalid_line_number', 4, 'DA'],
    ['negative line', 'DA:-3,1', 'invalid_line_number', 4, 'DA'],
    ['BRDA negative taken', 'BRDA:4,0,1,-2', 'negative_count', 12, 'BRDA'],
    ['BRDA line 0 with a bad count is still skipped silently', 'BRDA:0,0,1,x', '', 0, ''],
    ['FN line 0', 'FN:0,main', 'invalid_line_number', 4, 'FN'],
    ['FN negative line', 'FN:-1,main', 'invalid_line_number', 4, 'FN'],
  ];
  for (const [name, bad, code, column, field] of cases) {
    test(name, () => {
      const { rec, warnings } = recordWarnings(createLcovParser, `SF:a.c\nDA:1,1\n${bad}\nDA:2,0\nend_of_record\n`);
      assert.deepEqual(rec.compact(), { 'a.c:1': 1, 'a.c:2': 0 });
      if (code === '') return assert.deepEqual(warnings, []);
      assert.deepEqual(warnings, [{ code, count: 1, positions: [{ line: 3, column, source: 'a.c', field }] }]);
    });
  }

  test('line numbers above maxLineNumber are skipped as out of range', () => {
    const { rec, warnings } = recordWarnings(createLcovParser, 'SF:a.c\nDA:1,1\nDA:101,1\nBRDA:99999999999999999999,0,0,1\n', {
      limits: { maxLineNumber: 100 },
    });
    assert.deepEqual(rec.compact(), { 'a.c:1': 1 });
    assert.deepEqual(warnings, [
      {
        code: 'line_number_out_of_range',
        count: 2,
        positions: [
          { line: 3, column: 4, source: 'a.c', field: 'DA' },
          { line: 4, column: 6, source: 'a.c', field: 'BRDA' },
        ],
      },
    ]);
  });

  test('positions are bounded per code; the count is not', () => {
    const bad = Array.from({ length: 50 }, (_, i) => `DA:${i + 10},-${i + 1}\n`).join('');
    const { rec, warnings } = recordWarnings(createLcovParser, `SF:a.c\nDA:1,3\n${bad}DA:2,0\n`);
    assert.deepEqual(rec.compact(), { 'a.c:1': 3, 'a.c:2': 0 });
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.count, 50);
    assert.deepEqual(warnings[0]!.positions.map((p) => p.line), [3, 4, 5, 6, 7]);
  });

  test('records of a dropped file are skipped without warnings', () => {
    const warnings = new ParseWarnings();
    const sink = new CallRecorder((p) => p === 'ignored.c');
    feed(createLcovParser, sink, 'SF:ignored.c\nDA:1,-1\nend_of_record\nSF:kept.c\nDA:2,-2\nend_of_record\n', { warnings });
    assert.deepEqual(warnings.list(), [{ code: 'negative_count', count: 1, positions: [{ line: 5, column: 6, source: 'kept.c', field: 'DA' }] }]);
  });
});

describe('LCOV: errors name the input line', () => {
  const cases: [string, string, string, number, RegExp][] = [
    ['text where a count belongs', 'SF:a.c\nDA:1,1\nDA:4,abc\n', 'invalid_number', 3, /not an unsigned integer/],
    ['text where a line number belongs', 'SF:a.c\nDA:x1,1\n', 'invalid_number', 2, /line number/],
    ['DA without count', 'SF:a.c\nDA:12\n', 'invalid_syntax', 2, /DA needs/],
    ['DA before SF', 'TN:\nDA:1,1\n', 'invalid_syntax', 2, /no SF/],
    ['DA after end_of_record', 'SF:a.c\nend_of_record\nDA:1,1\n', 'invalid_syntax', 3, /no SF/],
    ['BRDA with too few fields', 'SF:a.c\nBRDA:1,0,1\n', 'invalid_syntax', 2, /BRDA needs/],
    ['BRDA bad taken', 'SF:a.c\nBRDA:1,0,1,x\n', 'invalid_number', 2, /count/],
    ['FN bad line', 'SF:a.c\nFN:abc,main\n', 'invalid_number', 2, /FN line number/],
    ['empty SF', 'SF:\n', 'invalid_syntax', 1, /empty path/],
  ];
  for (const [name, input, code, line, reason] of cases) {
    test(name, () => {
      const err = parseError(createLcovParser, input);
      assert.equal(err.code, code);
      assert.equal(err.line, line);
      assert.equal(err.format, 'lcov');
      assert.equal(err.file, 'input');
      assert.match(err.reason, reason);
      assert.match(err.message, new RegExp(`^input:${line}`));
    });
  }

  test('invalid UTF-8 in a path is a typed error', () => {
    const bytes = Buffer.concat([Buffer.from('SF:src/'), Buffer.from([0xc3, 0x28]), Buffer.from('.c\nDA:1,1\n')]);
    const err = parseError(createLcovParser, bytes);
    assert.equal(err.code, 'invalid_utf8');
    assert.equal(err.line, 1);
  });

  test('an input without records is report_empty', () => {
    assert.equal(parseError(createLcovParser, '').code, 'report_empty');
    assert.equal(parseError(createLcovParser, 'TN:\n\n').code, 'report_empty');
    assert.equal(parseError(createLcovParser, '{"not": "lcov"}').code, 'report_empty');
  });

  test('a line longer than maxLineBytes is limit_exceeded, wherever chunks split it', () => {
    const input = `SF:a.c\nDA:1,1\nSF:${'x'.repeat(5000)}\n`;
    for (const chunkSize of [undefined, 100, 4096]) {
      const err = parseError(createLcovParser, input, { chunkSize, limits: { maxLineBytes: 1000 } });
      assert.equal(err.code, 'limit_exceeded');
      assert.equal(err.limit, 'maxLineBytes');
      assert.equal(err.line, 3);
    }
  });

  test('more SF records than maxFiles is limit_exceeded', () => {
    const err = parseError(createLcovParser, 'SF:a\nend_of_record\nSF:b\nend_of_record\nSF:c\n', { limits: { maxFiles: 2 } });
    assert.equal(err.limit, 'maxFiles');
    assert.equal(err.line, 5);
  });
});

/**
 * An independent, string-based reading of the same rules, to check the byte parser against
 * real reports without copying its output into the test.
 */
function referenceValues(text: string): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const record of text.split(/\nend_of_record/)) {
    let file = '';
    const da = new Map<number, number>();
    const br = new Map<number, Map<string, number>>();
    const fn = new Set<number>();
    for (const raw of record.split('\n')) {
      const [key, rest = ''] = raw.split(/:(.*)/s);
      const f = rest.split(',');
      if (key === 'SF') file = rest;
      else if (key === 'DA') da.set(Number(f[0]), Math.max(da.get(Number(f[0])) ?? 0, Number(f[1])));
      else if (key === 'FN') fn.add(Number(f[0]));
      else if (key === 'BRDA' && f[0] !== '0') {
        const m = br.get(Number(f[0])) ?? new Map<string, number>();
        m.set(`${f[1]}:${f[2]}`, f[3] === '-' || f[3] === '0' ? 0 : 1);
        br.set(Number(f[0]), m);
      }
    }
    if (!file) continue;
    for (const [ln, hits] of da) if (!br.has(ln)) out[`${file}:${ln}`] = hits;
    for (const [ln, m] of br) {
      const taken = [...m.values()].filter((v) => v === 1).length;
      out[`${file}:${ln}`] = `${taken}/${m.size}${fn.has(ln) ? 'm' : 'b'}`;
    }
  }
  return out;
}

describe('LCOV: real reports', () => {
  for (const name of ['negotiator-nyc/lcov.info', 'negotiator-c8/lcov.info', 'tomli-misc/coverage-py.lcov']) {
    test(`${name}: every line as an independent reading gives, for any chunking`, () => {
      const bytes = corpusFile(name);
      const expected = referenceValues(bytes.toString('utf8'));
      assert.ok(Object.keys(expected).length > 100);
      for (const chunkSize of [undefined, 1, 7, 4096]) {
        assert.deepEqual(record(createLcovParser, bytes, { chunkSize }).compact(), expected, `chunk size ${chunkSize}`);
      }
    });
  }

  test('negotiator-nyc: spot values and totals through the builder', () => {
    const json = parseJson(createLcovParser, corpusFile('negotiator-nyc/lcov.info'), 'lcov');
    assert.deepEqual(Object.keys(json.files).sort(), [
      'index.js',
      'lib/accept.js',
      'lib/charset.js',
      'lib/encoding.js',
      'lib/language.js',
      'lib/mediaType.js',
    ]);
    const index = json.files['index.js']!.lines;
    assert.equal(index['32'], 55); // DA:32,55
    assert.equal(index['31'], '2/2'); // DA:31,256 overridden by BRDA:31,0,0,55 / 0,1,201
    const totals = json.totals;
    assert.equal(totals.files, 6);
    assert.equal(totals.lines, totals.hits + totals.misses + totals.partials);
  });

  test('tomli (coverage.py with checksums and branch arcs): partial lines carry missing branches', () => {
    const r = record(createLcovParser, corpusFile('tomli-misc/coverage-py.lcov'));
    const partial = r.calls.filter((c) => c.type === 'b' && typeof c.value === 'string' && !c.value.startsWith('0/'));
    const missing = partial.filter((c) => c.extras?.missingBranches !== undefined);
    assert.ok(missing.length > 0);
    for (const c of missing) {
      const [taken, total] = String(c.value).split('/').map(Number) as [number, number];
      assert.equal(c.extras!.missingBranches!.length, total - taken);
    }
  });
});

describe('lcov: mutated inputs', () => {
  test('only typed errors, whatever the bytes and chunking', () => {
    const base = corpusFile('negotiator-nyc/lcov.info').subarray(0, 3000);
    fc.assert(
      fc.property(mutations(base), ({ input, chunkSize }) => {
        outcome(createLcovParser, input, chunkSize);
      }),
      { numRuns: 300 },
    );
  });
});

describe('LCOV: DA and BRDA lines read in one pass', () => {
  // Chunks shorter than 7 bytes never hold a whole DA or BRDA line, so at chunk size 1 every line
  // goes through the splitter's newline search and `line`: the reading the one pass must equal.
  function reading(input: string, chunkSize: number | undefined, limits?: Partial<ParseLimits>): unknown {
    const warnings = new ParseWarnings();
    const rec = new CallRecorder();
    let error: unknown = null;
    try {
      feed(createLcovParser, rec, input, { chunkSize, limits, warnings });
    } catch (err) {
      if (!(err instanceof ReportParseError)) throw err;
      error = { code: err.code, line: err.line, column: err.column, reason: err.reason, limit: err.limit };
    }
    return { calls: rec.calls, warnings: warnings.list(), error };
  }

  const cases: Array<{ name: string; input: string; limits?: Partial<ParseLimits> }> = [
    {
      name: 'odd but valid lines, with warnings',
      input: [
        'TN:', 'SF:a.c', 'DA:1,1\r', 'DA:2,0,0yyEIwWLgBPbXh9zLakMrw\r', 'DA:3,99999999999999999999', 'DA:0,4',
        'DA:04,2', 'DA:5,-1', 'DA: 6,1', 'DA:7,5000', 'BRDA:3,0,0,-\r', 'BRDA:3,0,1,7', 'BRDA:3,00,2,1',
        'BRDA:0,0,0,1', 'BRDA:4,x,y,1', 'BRDA:4,0,0,99999999999999999999', 'BRDA:4,0,1,-1', 'DA:8,1,', 'FN:3,f',
        'end_of_record', 'SF:b.ts', 'BRDA:1,0,0,1', 'DA:1,1', 'DA:1,2', 'BRDA:2,1,0,0', 'DA:2,1', 'end_of_record', '',
      ].join('\n'),
      limits: { maxHits: 1000 },
    },
    { name: 'a damaged count', input: 'SF:a\nDA:1,1\nDA:2,1\nDA:3,x1\nDA:4,1\n' },
    { name: 'a BRDA without its count', input: 'SF:a\nBRDA:1,0,0,1\nBRDA:1,0,1\nDA:1,1\n' },
    { name: 'DA outside a record', input: 'SF:a\nDA:1,1\nend_of_record\nDA:2,1\nDA:3,1\n' },
    { name: 'a DA line over maxLineBytes', input: 'SF:a\nDA:1,1\nDA:2,12\nDA:123456,1\n', limits: { maxLineBytes: 8 } },
    { name: 'a BRDA line over maxLineBytes', input: 'SF:a\nBRDA:1,0,0,1\nBRDA:1,0,1,1234\n', limits: { maxLineBytes: 14 } },
    { name: 'no newline at the end', input: 'SF:a\nDA:1,1\nBRDA:2,0,0,1\nDA:2,3' },
  ];

  for (const { name, input, limits } of cases) {
    test(`${name}: every chunking reads as line-by-line reading does (values, warnings, errors, positions)`, () => {
      const expected = reading(input, 1, limits);
      for (const chunkSize of [undefined, 7, 8, 9, 10, 11, 13, 17, 64]) {
        assert.deepEqual(reading(input, chunkSize, limits), expected, `chunk size ${chunkSize}`);
      }
    });
  }

  test('the cases above do reach errors, warnings and the one pass', () => {
    const first = reading(cases[0]!.input, undefined, cases[0]!.limits) as { calls: unknown[]; warnings: unknown[]; error: unknown };
    assert.equal(first.error, null);
    assert.equal(first.warnings.length, 3); // negative, clamped (twice each), an invalid line number
    assert.ok(first.calls.length >= 8);
    for (const c of cases.slice(1, 6)) {
      assert.notEqual((reading(c.input, undefined, c.limits) as { error: unknown }).error, null, c.name);
    }
  });
});

describe('LCOV through the session builder: counted branch lines', () => {
  /** The builder's sink with `branches` hidden, so the parser gives branch lines as "a/b" strings. */
  function linesOnly(sink: CoverageSink): CoverageSink {
    return {
      file(rawPath: string): FileSink | null {
        const f = sink.file(rawPath);
        return f === null ? null : { line: (n, v, t, x) => f.line(n, v, t, x) };
      },
      generator: (g) => sink.generator?.(g),
    };
  }

  function viaBuilder(input: Uint8Array | string, hideBranches: boolean, limits?: Partial<ParseLimits>): unknown {
    const builder = createSessionBuilder({ sessionId: 0, session: { format: 'lcov', file: 'input' }, limits });
    feed(createLcovParser, hideBranches ? linesOnly(builder.sink) : builder.sink, input, { limits });
    return toParseJson(builder.finish());
  }

  for (const name of ['negotiator-nyc/lcov.info', 'negotiator-c8/lcov.info', 'tomli-misc/coverage-py.lcov']) {
    test(`${name}: the same report either way`, () => {
      const bytes = corpusFile(name);
      assert.deepEqual(viaBuilder(bytes, false), viaBuilder(bytes, true));
    });
  }

  test('repeated branch lines merge, counts clamp and a dropped line 1 of .ts stays dropped, either way', () => {
    const input = lcov(`SF:a.c
      DA:1,1
      BRDA:1,0,0,1
      BRDA:1,0,1,0
      BRDA:2,0,0,3
      BRDA:2,0,1,0
      BRDA:2,0,2,0
      end_of_record
      SF:a.c
      BRDA:1,0,0,0
      BRDA:1,0,1,1
      BRDA:2,0,0,0
      BRDA:2,0,1,0
      BRDA:2,0,2,0
      end_of_record
      SF:b.ts
      BRDA:1,0,0,1
      DA:1,5
      BRDA:3,0,0,1
      end_of_record
    `);
    const counted = viaBuilder(input, false, { maxHits: 1 });
    assert.deepEqual(counted, viaBuilder(input, true, { maxHits: 1 }));
    assert.match(JSON.stringify(counted), /"a\.c"/);
  });
});
