import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCoberturaParser } from '../../../src/coverage/parsers/cobertura';
import { byLine, corpus, fixture, parseError, parseJson, record, recordWarnings } from '../../fixtures/xml/harness';

const parse = createCoberturaParser;
const dropIgnore = (p: string): boolean => p === 'ignore';

function doc(classes: string, head = ''): string {
  return `<?xml version="1.0" ?>\n<coverage>${head}<packages><package name="p"><classes>${classes}</classes></package></packages></coverage>`;
}

describe('Cobertura quirks (per-line sink calls)', () => {
  const rec = record(parse, fixture('cobertura-quirks.xml'), { drop: dropIgnore });

  test('<sources> are passed trimmed, without blanks, before the first file', () => {
    assert.deepEqual(rec.events[0], ['bases', ['/home/runner/work/proj/proj', 'src']]);
    assert.equal(rec.events.filter((e) => e[0] === 'bases').length, 1);
  });

  test('condition-coverage, missing-branches, <condition> children, skipped line numbers', () => {
    assert.deepEqual(rec.files.get('source'), [
      [1, 1],
      [2, '0/2', 'b', { missingBranches: ['exit'] }],
      [3, '1/2', 'b', { missingBranches: ['30'] }],
      [4, '2/2', 'b'],
      [5, '2/4', 'b', { missingBranches: ['0:jump', '1:jump'] }],
      [6, '2/4', 'b', { missingBranches: ['0:jump', '1:jump'] }],
      // coverage.py writes "exit" per exit arc; several of them mean "loop, exit".
      [7, '0/2', 'b', { missingBranches: ['loop', 'exit'] }],
      // "50%" without "(a/b)" falls back to hits.
      [8, 1],
      [9, '1/2', 'b'],
    ]);
  });

  test('scoverage statements: method -> m, branch -> b, ignored skipped', () => {
    assert.deepEqual(rec.files.get('file'), [
      [1, 0, 'm'],
      [2, 1, 'b'],
      [3, 1],
    ]);
  });

  test('classes without lines open no file; dropped files record nothing', () => {
    const opened = rec.events.filter((e) => e[0] === 'file').map((e) => e[1]);
    assert.ok(!opened.includes('empty'));
    assert.ok(opened.includes('ignore'));
    assert.equal(rec.files.has('ignore'), false);
  });

  test('untaken branches without ids get "0", "1", ...; case-insensitive branch="TRUE"', () => {
    const lines = byLine(rec.files.get('dup.py'));
    assert.deepEqual(lines.get(3), [['0/3', 'b', { missingBranches: ['0', '1', '2'] }]]);
    assert.deepEqual(lines.get(4), [['0/3', 'b', { missingBranches: ['7:jump', '1', '2'] }]]);
  });

  test('the same file in several classes reopens it and repeats lines for the sink to merge', () => {
    const lines = byLine(rec.files.get('dup.py'));
    assert.deepEqual(lines.get(1), [[0], [4]]);
    assert.deepEqual(lines.get(5), [[2], ['1/2', 'b']]);
    assert.equal(rec.events.filter((e) => e[0] === 'file' && e[1] === 'dup.py').length, 2);
  });

  test('references in file names are decoded', () => {
    assert.deepEqual(rec.files.get('a & b/café.py'), [[10, 7]]);
  });
});

describe('Cobertura flavours', () => {
  test('gcovr: <conditions> per line, a partly taken jump still names its condition', () => {
    const gcovr = `<?xml version='1.0' encoding='UTF-8'?>
<!DOCTYPE coverage SYSTEM 'http://cobertura.sourceforge.net/xml/coverage-04.dtd'>
<coverage line-rate="0.5" branch-rate="0.25" lines-covered="2" lines-valid="4" branches-covered="1" branches-valid="4" complexity="0.0" timestamp="1795420914" version="gcovr 7.2">
  <sources><source>/home/runner/work/app/app</source></sources>
  <packages><package name="src" line-rate="0.5" branch-rate="0.25" complexity="0.0"><classes>
    <class name="main_c" filename="src/main.c" line-rate="0.5" branch-rate="0.25" complexity="0.0">
      <methods/>
      <lines>
        <line number="3" hits="1" branch="false"/>
        <line number="5" hits="2" branch="true" condition-coverage="50% (1/2)">
          <conditions><condition number="0" type="jump" coverage="50%"/></conditions>
        </line>
        <line number="7" hits="0" branch="true" condition-coverage="0% (0/2)">
          <conditions><condition number="0" type="jump" coverage="0%"/></conditions>
        </line>
        <line number="9" hits="0" branch="false"/>
      </lines>
    </class>
  </classes></package></packages>
</coverage>`;
    const rec = record(parse, gcovr);
    assert.deepEqual(rec.events[0], ['bases', ['/home/runner/work/app/app']]);
    assert.deepEqual(rec.files.get('src/main.c'), [
      [3, 1],
      [5, '1/2', 'b', { missingBranches: ['0:jump'] }],
      [7, '0/2', 'b', { missingBranches: ['0:jump', '1'] }],
      [9, 0],
    ]);
  });

  test('istanbul/nyc: method lines are plain lines merged with the statement lines', () => {
    const rec = record(parse, corpus('negotiator-nyc/cobertura-coverage.xml'));
    const index = byLine(rec.files.get('index.js'));
    // charset() starts on line 38: hits 37 under <methods>, hits 1 (the declaration) under <lines>.
    assert.deepEqual(index.get(38)?.map((call) => call[0]), [37, 1]);
    // A method line missing from <lines> still counts (Codecov iterates every <line> of a class).
    assert.deepEqual(index.get(30)?.map((call) => call[0]), [256]);
    const json = parseJson(parse, corpus('negotiator-nyc/cobertura-coverage.xml'), 'cobertura');
    assert.equal(json.files['index.js'].lines['38'], 37);
  });
});

describe('Cobertura through the session builder', () => {
  const json = parseJson(parse, fixture('cobertura-quirks.xml'), 'cobertura', dropIgnore);

  test('derived values and per-file totals match Codecov', () => {
    assert.deepEqual(json.files.source.lines, {
      1: 1, 2: '0/2', 3: '1/2', 4: '2/2', 5: '2/4', 6: '2/4', 7: '0/2', 8: 1, 9: '1/2',
    });
    assert.deepEqual(json.files.source.totals, {
      files: 1, lines: 9, hits: 3, misses: 2, partials: 4, branches: 7, methods: 0, coverage: '33.33333',
    });
    assert.deepEqual(json.files.file.totals, {
      files: 1, lines: 3, hits: 2, misses: 1, partials: 0, branches: 1, methods: 1, coverage: '66.66667',
    });
  });

  test('duplicate lines merge: max of counts, a hit count completes a branch', () => {
    assert.deepEqual(json.files['dup.py'].lines, { 1: 4, 2: 3, 3: '0/3', 4: '0/3', 5: '2/2' });
  });

  test('report totals', () => {
    assert.deepEqual(Object.keys(json.files).sort(), ['a & b/café.py', 'dup.py', 'file', 'source']);
    assert.equal(json.totals.files, 4);
    assert.equal(json.totals.lines, 18);
    assert.equal(json.totals.hits, 9);
    assert.equal(json.totals.misses, 5);
    assert.equal(json.totals.partials, 4);
    assert.equal(json.totals.coverage, '50.00000');
  });
});

describe('Cobertura corpus', () => {
  test('coverage.py (tomli): lines and covered lines agree with the report header', () => {
    const json = parseJson(parse, corpus('tomli-misc/coverage-py.xml'), 'cobertura');
    assert.equal(json.totals.files, 4);
    assert.equal(json.totals.lines, 532); // lines-valid
    assert.equal(json.totals.hits + json.totals.partials, 313); // lines-covered
    assert.equal(json.files['src/tomli/_parser.py'].lines['94'], '0/2');
  });

  test('c8: every line of the report is counted once', () => {
    const json = parseJson(parse, corpus('negotiator-c8/cobertura-coverage.xml'), 'cobertura');
    assert.equal(json.totals.lines, 800); // lines-valid
    assert.equal(json.totals.files, 6);
  });

  test('nyc: method lines count as lines, as in Codecov', () => {
    const xml = corpus('negotiator-nyc/cobertura-coverage.xml').toString();
    // Independent count: distinct line numbers per class, over <methods> and <lines> alike.
    let expected = 0;
    for (const cls of xml.match(/<class [\s\S]*?<\/class>/g) ?? []) {
      expected += new Set([...cls.matchAll(/<line number="(\d+)"/g)].map((m) => m[1])).size;
    }
    const json = parseJson(parse, Buffer.from(xml), 'cobertura');
    assert.equal(json.totals.lines, expected);
    assert.ok(expected > 229);
    const filenames = new Set([...xml.matchAll(/<class [^>]*filename="([^"]+)"/g)].map((m) => m[1]));
    assert.deepEqual(Object.keys(json.files).sort(), [...filenames].sort());
  });

  test('any chunking of the corpus files gives the same sink calls', () => {
    for (const f of ['negotiator-nyc/cobertura-coverage.xml', 'tomli-misc/coverage-py.xml']) {
      const input = corpus(f);
      const whole = record(parse, input).events;
      for (const size of [1, 7, 4096]) assert.deepEqual(record(parse, input, { size }).events, whole, `${f} / ${size}`);
    }
  });
});

describe('Cobertura bad input', () => {
  const line = (attrs: string): string => doc(`<class filename="a.py"><lines>\n<line ${attrs}/></lines></class>`);

  // The bad line sits on line 4 of the input, between two good ones.
  const lines = (attrs: string): string =>
    doc(`<class filename="a.py"><lines>\n<line number="1" hits="2"/>\n<line ${attrs}/>\n<line number="9" hits="0"/></lines></class>`);

  for (const [attrs, code, field] of [
    ['number="5" hits="-1"', 'negative_count', 'hits'],
    ['number="5" hits="NaN"', 'non_integer_count', 'hits'],
    ['number="5" hits="1e3"', 'non_integer_count', 'hits'],
    ['number="-4" hits="1"', 'invalid_line_number', 'line number'],
    ['number="x" hits="1"', 'invalid_line_number', 'line number'],
    ['number="5" hits="1" branch="true" condition-coverage="50% (3/2)"', 'invalid_branch_count', 'condition-coverage'],
  ]) {
    test(`${attrs}: the line is skipped with a ${code} warning at its position`, () => {
      const { rec, warnings } = recordWarnings(parse, lines(attrs!));
      assert.deepEqual(rec.files.get('a.py'), [[1, 2], [9, 0]]);
      assert.equal(warnings.length, 1);
      const [w] = warnings;
      assert.equal(w!.code, code);
      assert.equal(w!.count, 1);
      assert.equal(w!.positions.length, 1);
      const p = w!.positions[0]!;
      assert.equal(p.line, 4);
      assert.equal(p.field, field);
      // The offset points at the offending attribute's value.
      const attr = field === 'line number' ? 'number' : field!;
      const value = new RegExp(`${attr}="([^"]*)"`).exec(attrs!)![1]!;
      assert.equal(lines(attrs!).slice(p.offset, p.offset! + value.length), value);
    });
  }

  test('a line number past maxLineNumber is skipped as out of range', () => {
    const { rec, warnings } = recordWarnings(parse, lines('number="1001" hits="1"'), { limits: { maxLineNumber: 1000 } });
    assert.deepEqual(rec.files.get('a.py'), [[1, 2], [9, 0]]);
    assert.deepEqual(warnings.map((w) => [w.code, w.count]), [['line_number_out_of_range', 1]]);
  });

  test('hit counts past maxHits (or 2^53) are clamped, with a warning', () => {
    const { rec, warnings } = recordWarnings(parse, line('number="3" hits="5000"'), { limits: { maxHits: 100 } });
    assert.deepEqual(rec.files.get('a.py'), [[3, 100]]);
    assert.deepEqual(warnings.map((w) => [w.code, w.count]), [['count_clamped', 1]]);
    const huge = recordWarnings(parse, line('number="3" hits="123456789012345678901234567890"'));
    assert.deepEqual(huge.rec.files.get('a.py'), [[3, Number.MAX_SAFE_INTEGER]]);
    assert.deepEqual(huge.warnings.map((w) => [w.code, w.count]), [['count_clamped', 1]]);
  });

  test('a bad statement (scoverage) is skipped too', () => {
    const text = doc('<class filename="a.scala"><statements><statement line="3" invocation-count="-7"/><statement line="4" invocation-count="1"/></statements></class>');
    const { rec, warnings } = recordWarnings(parse, text);
    assert.deepEqual(rec.files.get('a.scala'), [[4, 1]]);
    assert.deepEqual(warnings.map((w) => [w.code, w.count, w.positions[0]!.field]), [['negative_count', 1, 'invocation-count']]);
  });

  test('missing required attributes are invalid_syntax', () => {
    parseError(() => record(parse, line('hits="1"')), 'invalid_syntax');
    parseError(() => record(parse, line('number="1"')), 'invalid_syntax');
    parseError(() => record(parse, doc('<class name="x"><lines/></class>')), 'invalid_syntax');
  });

  test('a document of another format is rejected at its root', () => {
    const err = parseError(() => record(parse, '<report name="x"><package name="p"/></report>'), 'invalid_syntax');
    assert.match(err.reason, /root element <report>/);
  });

  test('truncation anywhere in a real report is a typed error, never a silent success', () => {
    const input = corpus('tomli-misc/coverage-py.xml');
    for (let cut = 1; cut < input.length; cut += 997) {
      const err = parseError(() => record(parse, input.subarray(0, cut), { size: 512 }), 'truncated');
      assert.ok(err.line !== undefined && err.line >= 1);
    }
  });
});
