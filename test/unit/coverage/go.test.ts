import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { combinePartials, createGoParser, partialsToValue } from '../../../src/coverage/parsers/go';
import { CallRecorder, feed, fixture, parseError, parseJson, record, recordWarnings, mutations, outcome } from '../../fixtures/text/harness';

describe('Go coverprofile: blocks to lines', () => {
  test('single-line and multi-line blocks; a last line holding only the closing brace is left out', () => {
    const r = record(
      createGoParser,
      [
        'mode: atomic',
        'pkg/a.go:1.1,1.10 1 1',
        'pkg/a.go:7.14,9.10 1 4',
        'pkg/a.go:11.26,13.2 1 0',
        '',
      ].join('\n'),
    );
    assert.deepEqual(r.compact(), {
      'pkg/a.go:1': 1,
      'pkg/a.go:7': 4,
      'pkg/a.go:8': 4,
      'pkg/a.go:9': 4,
      'pkg/a.go:11': 0,
      'pkg/a.go:12': 0,
    });
  });

  test('the same block repeated (merged profiles) takes the highest count; identical blocks count once', () => {
    const r = record(
      createGoParser,
      ['mode: count', 'f.go:15.19,17.2 1 0', 'mode: count', 'f.go:15.19,17.2 1 1', 'f.go:15.19,17.2 1 1', 'f.go:20.1,20.30 1 2', 'f.go:20.1,20.30 1 2'].join(
        '\n',
      ),
    );
    assert.deepEqual(r.compact(), { 'f.go:15': 1, 'f.go:16': 1, 'f.go:20': 2 });
  });

  test('blocks sharing a line give partial spans and a "hit/spans" value', () => {
    const r = record(
      createGoParser,
      ['mode: count', 'f.go:18.95,22.51 3 0', 'f.go:22.51,24.3 1 3', 'f.go:24.8,26.3 1 0', 'f.go:28.2,28.20 1 5'].join('\n'),
    );
    assert.deepEqual(r.compact(), {
      'f.go:18': 0,
      'f.go:19': 0,
      'f.go:20': 0,
      'f.go:21': 0,
      'f.go:22': '1/2',
      'f.go:23': 3,
      'f.go:24': '1/2',
      'f.go:25': 0,
      'f.go:26': 0,
      'f.go:28': 5,
    });
    const extras = (line: number) => r.calls.find((c) => c.line === line)?.extras;
    // line 22: the first block ends at column 51, the second starts there and runs on
    assert.deepEqual(extras(22), { partials: [[0, 51, 0], [51, null, 3]] });
    // line 24: the second block ends at column 3; the third starts at 8 (an open span placed
    // after the last closed end, as Codecov's sweep does)
    assert.deepEqual(extras(24), { partials: [[0, 3, 3], [4, null, 0]] });
    assert.equal(extras(23), undefined);
  });

  test("a file's blocks scattered over the profile are combined; files come out in order of first appearance", () => {
    const r = record(createGoParser, 'mode: set\nb.go:1.1,1.5 1 1\na.go:2.1,2.9 1 0\nb.go:1.5,1.9 1 0\n');
    assert.deepEqual(r.calls.map((c) => c.path), ['b.go', 'a.go']);
    assert.deepEqual(r.compact(), { 'b.go:1': '1/2', 'a.go:2': 0 });
  });

  test('Windows paths keep their drive; "go tool cover -func" lines and empty blocks are skipped', () => {
    const r = record(
      createGoParser,
      'mode: set\r\nC:\\src\\app\\main.go:3.2,3.9 1 1\r\npkg/x.go:19: calcP 100.0%\r\nignored:\r\n',
    );
    assert.deepEqual(r.compact(), { 'C:\\src\\app\\main.go:3': 1 });
  });

  test('overlapping multi-line blocks (merged profiles of different versions) combine line by line', () => {
    const r = record(createGoParser, 'mode: count\na.go:1.1,5.9 1 1\na.go:3.1,8.9 1 0\n');
    assert.deepEqual(r.compact(), {
      'a.go:1': 1,
      'a.go:2': 1,
      'a.go:3': 1,
      'a.go:4': 1,
      'a.go:5': '1/2',
      'a.go:6': 0,
      'a.go:7': 0,
      'a.go:8': 0,
    });
  });

  test('a long block is emitted line by line, in order', () => {
    const r = record(createGoParser, 'mode: set\nbig.go:10.1,50009.2 1 1\nbig.go:3.1,3.5 1 0\n');
    assert.equal(r.calls.length, 1 + 49999); // line 3, then 10..50008 (50009 holds only the brace)
    assert.deepEqual(r.calls.slice(0, 2).map((c) => [c.line, c.value]), [[3, 0], [10, 1]]);
    assert.deepEqual(r.calls.at(-1)!.line, 50008);
  });

  test('dropped files are not emitted; counts above maxHits are clamped', () => {
    const sink = new CallRecorder((p) => p.startsWith('vendor/'));
    feed(createGoParser, sink, 'mode: count\nvendor/x.go:1.1,1.2 1 1\nmain.go:1.1,1.9 1 99999\n', { limits: { maxHits: 100 } });
    assert.deepEqual(sink.compact(), { 'main.go:1': 100 });
  });

  test('values merge through the session builder; partial lines are partials in the totals', () => {
    const json = parseJson(createGoParser, fixture('go/sample.out'), 'go');
    assert.deepEqual(json.files['github.com/acme/calc/calc.go']!.lines, {
      '5': 1,
      '6': 1,
      '7': '1/2',
      '8': 0,
      '9': '1/2',
      '10': 1,
      '13': 7,
      '14': 7,
      '17': 0,
    });
    assert.deepEqual(json.totals, {
      files: 2,
      lines: 11,
      hits: 6,
      misses: 3,
      partials: 2,
      branches: 0,
      methods: 0,
      coverage: '54.54545',
    });
  });

  test('chunking does not change the result', () => {
    const bytes = fixture('go/sample.out');
    const whole = record(createGoParser, bytes).calls;
    for (const chunkSize of [1, 3, 17]) assert.deepEqual(record(createGoParser, bytes, { chunkSize }).calls, whole);
  });
});

describe('Go coverprofile: span combination', () => {
  test('adjacent spans with equal counts join; disjoint ones stay apart', () => {
    assert.deepEqual(combinePartials([[1, 5, 1], [9, 12, 0], [5, 7, 1], [8, 9, 0]]), [
      [1, 7, 1],
      [8, 12, 0],
    ]);
    assert.deepEqual(combinePartials([[1, 2, 0], [4, 10, 1]]), [
      [1, 2, 0],
      [4, 10, 1],
    ]);
  });

  test('overlaps take the highest count; an inner span splits the outer one', () => {
    assert.deepEqual(combinePartials([[1, 5, 0], [4, 10, 1]]), [
      [1, 4, 0],
      [4, 10, 1],
    ]);
    assert.deepEqual(combinePartials([[1, 10, 0], [4, 6, 1]]), [
      [1, 4, 0],
      [4, 6, 1],
      [6, 10, 0],
    ]);
    assert.deepEqual(combinePartials([[1, null, 1], [2, null, 0]]), [[1, null, 1]]);
  });

  test('open ends, open starts, the [0, 1] noise segment and empty spans', () => {
    assert.deepEqual(combinePartials([[2, 35, 1], [35, null, 1]]), [[2, null, 1]]);
    assert.deepEqual(combinePartials([[2, 24, 1], [24, null, 0]]), [
      [2, 24, 1],
      [24, null, 0],
    ]);
    assert.deepEqual(combinePartials([[null, 2, 1], [1, 5, 1]]), [[0, 5, 1]]);
    assert.deepEqual(combinePartials([[null, 1, 1], [1, 2, 0], [2, 3, 1]]), [
      [1, 2, 0],
      [2, 3, 1],
    ]);
    assert.deepEqual(combinePartials([[0, null, 28], [0, null, 0]]), [[0, null, 28]]);
    assert.equal(combinePartials([[2, 2, 1], [2, 2, 0]]), null);
  });

  test('many spans on one line stay fast and exact', () => {
    const spans: [number, number, number][] = [];
    for (let i = 0; i < 20000; i++) spans.push([i * 2, i * 2 + 2, i % 2]);
    const out = combinePartials(spans)!;
    assert.equal(out.length, 20000);
    assert.equal(partialsToValue(out), '10000/20000');
  });

  test('line value: one span gives its count, several give hit spans / spans', () => {
    assert.equal(partialsToValue([[0, null, 7]]), 7);
    assert.equal(partialsToValue([[0, 3, 3], [4, null, 0]]), '1/2');
  });
});

describe('Go coverprofile: a bad number skips its block with a warning naming the line', () => {
  const cases: [string, string, string, number | undefined, string][] = [
    ['negative count', 'a.go:5.1,5.9 1 -1', 'negative_count', 16, 'count'],
    ['scientific count', 'a.go:5.1,5.9 1 1e3', 'non_integer_count', 16, 'count'],
    ['fractional count', 'a.go:5.1,5.9 1 1.5', 'non_integer_count', 16, 'count'],
    ['NaN count', 'a.go:5.1,5.9 1 NaN', 'non_integer_count', 16, 'count'],
    ['line 0', 'a.go:0.1,5.9 1 1', 'invalid_line_number', 6, 'start line'],
    ['negative end line', 'a.go:5.1,-5.9 1 1', 'invalid_line_number', 10, 'end line'],
  ];
  for (const [name, bad, code, column, field] of cases) {
    test(name, () => {
      const { rec, warnings } = recordWarnings(createGoParser, `mode: count\na.go:1.1,1.9 1 4\n${bad}\na.go:2.1,2.9 1 0\n`);
      assert.deepEqual(rec.compact(), { 'a.go:1': 4, 'a.go:2': 0 });
      assert.deepEqual(warnings, [{ code, count: 1, positions: [{ line: 3, column, source: 'a.go', field }] }]);
    });
  }

  test('lines above maxLineNumber are skipped as out of range; counts above maxHits clamped', () => {
    const { rec, warnings } = recordWarnings(createGoParser, 'mode: count\na.go:1.1,2000.2 1 1\na.go:3.1,3.5 1 5000\n', {
      limits: { maxLineNumber: 1000, maxHits: 100 },
    });
    assert.deepEqual(rec.compact(), { 'a.go:3': 100 });
    assert.deepEqual(warnings, [
      { code: 'count_clamped', count: 1, positions: [{ line: 3, source: 'a.go', field: 'count' }] },
      { code: 'line_number_out_of_range', count: 1, positions: [{ line: 2, column: 6, source: 'a.go', field: 'end line' }] },
    ]);
  });
});

describe('Go coverprofile: errors', () => {
  const cases: [string, string, string, number, RegExp][] = [
    ['line without position', 'mode: set\npath/file.go:53\n', 'invalid_syntax', 2, /expected/],
    ['three-part position', 'mode: set\npath/file.go:185.129.6 1 0\n', 'invalid_syntax', 2, /expected/],
    ['missing column', 'mode: set\npath/file.go:1917,1915.57 2 0\n', 'invalid_syntax', 2, /expected/],
    ['interleaved writes', 'mode: set\npath/file.go:115corrupt-path/file.go:115.11,116.13 1 3\n', 'invalid_number', 2, /start line: not an unsigned integer/],
    ['interleaved tail', 'mode: set\npath/file.go:242.63,244.3path/file.go:242.63,244.3 1 0\n', 'invalid_syntax', 2, /expected/],
    ['text where the count belongs', 'mode: set\na.go:1.1,1.2 1 lots\n', 'invalid_number', 2, /count: not an unsigned integer/],
    ['negative column', 'mode: set\na.go:1.1,1.-2 1 1\n', 'invalid_number', 2, /end column/],
    ['end before start', 'mode: set\na.go:9.1,3.2 1 1\n', 'invalid_syntax', 2, /before it starts/],
    ['unknown mode', 'mode: sometimes\na.go:1.1,1.2 1 1\n', 'invalid_syntax', 1, /mode/],
    ['no colon', 'mode: set\nwhat is this\n', 'invalid_syntax', 2, /expected/],
  ];
  for (const [name, input, code, line, reason] of cases) {
    test(name, () => {
      const err = parseError(createGoParser, input);
      assert.equal(err.code, code);
      assert.equal(err.line, line);
      assert.equal(err.format, 'go');
      assert.match(err.reason, reason);
    });
  }

  test('blocks claiming huge line ranges are bounded before they are expanded', () => {
    const line = 'a.go:1.1,900.2 1 1\n';
    const err = parseError(createGoParser, `mode: set\n${line.repeat(50)}`, { limits: { maxLineNumber: 1000 } });
    assert.equal(err.code, 'limit_exceeded');
    assert.equal(err.limit, 'maxLineNumber');
    assert.ok(err.line! < 50);
  });

  test('invalid UTF-8 in a path is a typed error', () => {
    const bytes = Buffer.concat([Buffer.from('mode: set\na'), Buffer.from([0xff, 0xfe]), Buffer.from('.go:1.1,1.2 1 1\n')]);
    assert.equal(parseError(createGoParser, bytes).code, 'invalid_utf8');
  });

  test('an input without blocks is report_empty', () => {
    assert.equal(parseError(createGoParser, '').code, 'report_empty');
    assert.equal(parseError(createGoParser, 'mode: set\n').code, 'report_empty');
  });
});

describe('go: mutated inputs', () => {
  test('only typed errors, whatever the bytes and chunking', () => {
    const base = fixture('go/sample.out');
    fc.assert(
      fc.property(mutations(base), ({ input, chunkSize }) => {
        outcome(createGoParser, input, chunkSize);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Go coverprofile: a real profile (go test -coverprofile over sort, container/list, strconv)', () => {
  /** Per line, the distinct spans Codecov's expansion gives, computed independently with strings. */
  function referenceSpans(text: string): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    const add = (key: string, span: string) => {
      const set = out.get(key) ?? new Set<string>();
      set.add(span);
      out.set(key, set);
    };
    for (const line of text.split('\n')) {
      const m = /^(.+):(\d+)\.(\d+),(\d+)\.(\d+) (\d+) (\d+)$/.exec(line);
      if (!m) continue;
      const [, file, sl, sc, el, ec, , count] = m as unknown as string[];
      if (sl === el) add(`${file}:${sl}`, `${sc},${ec},${count}`);
      else {
        add(`${file}:${sl}`, `${sc},-,${count}`);
        for (let n = Number(sl) + 1; n < Number(el); n++) add(`${file}:${n}`, `0,-,${count}`);
        if (Number(ec) > 2) add(`${file}:${el}`, `-,${ec},${count}`);
      }
    }
    return out;
  }

  test('every expanded line is emitted once; single-span lines carry their block count', () => {
    const bytes = fixture('go/stdlib.out');
    const reference = referenceSpans(bytes.toString('utf8'));
    const values = record(createGoParser, bytes).compact();
    assert.deepEqual(Object.keys(values).sort(), [...reference.keys()].sort());
    let shared = 0;
    for (const [key, spans] of reference) {
      if (spans.size === 1) assert.equal(values[key], Number([...spans][0]!.split(',')[2]), key);
      else {
        shared++;
        assert.match(String(values[key]), /^\d+$|^\d+\/\d+$/, key);
      }
    }
    assert.ok(shared > 10, 'the profile has lines shared by several blocks');
  });

  test('totals through the builder are consistent', () => {
    const json = parseJson(createGoParser, fixture('go/stdlib.out'), 'go');
    assert.equal(json.totals.files, 9);
    assert.equal(json.totals.lines, json.totals.hits + json.totals.misses + json.totals.partials);
    assert.ok(json.totals.partials > 0);
  });
});
