import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { resolveLimits, type ParseLimits } from '../../../src/coverage/limits';
import { XmlScanner } from '../../../src/coverage/parsers/xml/scanner';
import { Utf8Guard } from '../../../src/coverage/parsers/xml/utf8-guard';
import { parseError } from '../../fixtures/xml/harness';

/** Runs the scanner and returns its events as strings, capturing text of elements named "t". */
function scan(
  input: Uint8Array | string,
  options: { cuts?: number[]; size?: number; limits?: Partial<ParseLimits>; numbers?: string[] } = {},
): string[] {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const events: string[] = [];
  const scanner: XmlScanner = new XmlScanner(
    {
      open(name, attrs, selfClosing) {
        const parts: string[] = [];
        for (let i = 0; i < attrs.length; i++) {
          const attr = attrs.names[i];
          parts.push(
            options.numbers?.includes(attr) ? `${attr}=#${attrs.count(i, attr)}` : `${attr}=${JSON.stringify(attrs.text(i))}`,
          );
        }
        events.push(`<${name}${parts.length ? ' ' + parts.join(' ') : ''}${selfClosing ? '/' : ''}>`);
        if (name === 't') scanner.captureText = true;
      },
      close(name) {
        if (name === 't') events.push(`text ${JSON.stringify(scanner.takeText())}`);
        events.push(`</${name}>`);
      },
    },
    { fileName: 'in.xml', format: 'test', limits: resolveLimits(options.limits), names: ['a', 'x'] },
  );
  const cuts = [...(options.cuts ?? [])];
  if (options.size) for (let i = options.size; i < bytes.length; i += options.size) cuts.push(i);
  let from = 0;
  for (const cut of cuts.sort((a, b) => a - b)) {
    if (cut <= from || cut >= bytes.length) continue;
    scanner.write(bytes.subarray(from, cut));
    from = cut;
  }
  scanner.write(bytes.subarray(from));
  scanner.end();
  return events;
}

const SAMPLE = [
  '\uFEFF<?xml version="1.0" encoding="UTF-8"?>',
  '<!DOCTYPE root SYSTEM "http://example.invalid/root.dtd">',
  '<!-- a comment with <tags> & ampersands -->',
  '<root a="1" x=\'two\'>',
  '  <?pi some > data?>',
  '  <t>base &amp; <![CDATA[<raw> & ]]>caf\u00e9 &#x1F600;</t>',
  '  <e  a = "&lt;&gt;&amp;&quot;&apos;&#65;&#x42;" x="tab\there"/>',
  '  <deep><deeper a="\u00e9\u20ac\u{1F600}"></deeper></deep>',
  '</root>',
  '',
].join('\n');

const SAMPLE_EVENTS = [
  '<root a="1" x="two">',
  '<t>',
  'text "base & <raw> & café 😀"',
  '</t>',
  '<e a="<>&\\"\'AB" x="tab here"/>',
  '</e>',
  '<deep>',
  '<deeper a="é€😀">',
  '</deeper>',
  '</deep>',
  '</root>',
];

describe('XmlScanner tokens', () => {
  test('elements, attributes, entities, CDATA, comments, PIs, DOCTYPE and BOM', () => {
    assert.deepEqual(scan(SAMPLE), SAMPLE_EVENTS);
  });

  test('every chunking of the input gives the same events', () => {
    const bytes = Buffer.from(SAMPLE);
    for (const size of [1, 2, 3, 5, 8, 13]) assert.deepEqual(scan(bytes, { size }), SAMPLE_EVENTS, `size ${size}`);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }), (cuts) => {
        assert.deepEqual(scan(bytes, { cuts }), SAMPLE_EVENTS);
      }),
      { numRuns: 300 },
    );
  });

  test('attribute whitespace is normalised as XML requires', () => {
    assert.deepEqual(scan('<r a="x\r\ny\nz\tw"/>'), ['<r a="x y z w"/>', '</r>']);
  });

  test('numbers are parsed from bytes; fractions truncate like int(float(x))', () => {
    assert.deepEqual(scan('<r a="12" x="7.0"/>', { numbers: ['a', 'x'] }), ['<r a=#12 x=#7/>', '</r>']);
    assert.deepEqual(scan('<r a="9007199254740991"/>', { numbers: ['a'] }), ['<r a=#9007199254740991/>', '</r>']);
    assert.deepEqual(scan('<r a="&#49;2" x="&#x35;.5"/>', { numbers: ['a', 'x'] }), ['<r a=#12 x=#5/>', '</r>']);
  });

  for (const bad of ['-1', 'NaN', '1e3', '', ' 1', '0x10', '1.', '+5', 'Infinity', '99999999999999999999', '&#45;1', '1\t']) {
    test(`number ${JSON.stringify(bad)} is a typed invalid_number error with its position`, () => {
      const err = parseError(() => scan(`<r>\n  <e a="${bad}"/></r>`, { numbers: ['a'] }), 'invalid_number');
      assert.equal(err.line, 2);
      assert.equal(err.column, 9);
      assert.equal(err.offset, 12);
      assert.equal(err.file, 'in.xml');
      assert.equal(err.format, 'test');
    });
  }
});

describe('XmlScanner errors', () => {
  const cases: [string, string, string, number, number][] = [
    ['mismatched end tag', '<a>\n<b></a>', 'invalid_syntax', 2, 4],
    ['duplicate attribute', '<a x="1" x="2"/>', 'invalid_syntax', 1, 10],
    ['missing whitespace between attributes', '<a x="1"y="2"/>', 'invalid_syntax', 1, 9],
    ['"<" in an attribute value', '<a x="<"/>', 'invalid_syntax', 1, 7],
    ['unquoted attribute value', '<a x=1/>', 'invalid_syntax', 1, 6],
    ['text before the root element', 'hello <a/>', 'invalid_syntax', 1, 1],
    ['JSON instead of XML', '{"coverage": {}}', 'invalid_syntax', 1, 1],
    ['text after the root element', '<a/>\n  junk', 'invalid_syntax', 2, 3],
    ['a second root element', '<a/><b/>', 'invalid_syntax', 1, 5],
    ['an undefined entity in an attribute', '<a x="&foo;"/>', 'invalid_syntax', 1, 7],
    ['an invalid character reference', '<a x="&#0;"/>', 'invalid_syntax', 1, 7],
    ['an undefined entity in captured text', '<a><t>&bogus;</t></a>', 'invalid_syntax', 1, 7],
    ['a closing tag without an open element', '</a>', 'invalid_syntax', 1, 1],
    ['a bad element name', '<a><1/></a>', 'invalid_syntax', 1, 5],
    ['an unknown declaration', '<a><!FOO></a>', 'invalid_syntax', 1, 4],
    ['a DOCTYPE inside the root', '<a><!DOCTYPE a></a>', 'invalid_syntax', 1, 4],
  ];
  for (const [what, input, code, line, column] of cases) {
    test(`${what} -> ${code} at ${line}:${column}`, () => {
      for (const size of [undefined, 1, 3]) {
        const err = parseError(() => scan(input, { size }), code as 'invalid_syntax');
        assert.equal(err.line, line, `${err.message} (chunk ${size})`);
        assert.equal(err.column, column, `${err.message} (chunk ${size})`);
      }
    });
  }

  test('empty and blank inputs are report_empty', () => {
    parseError(() => scan(''), 'report_empty');
    parseError(() => scan(' \n\t '), 'report_empty');
    parseError(() => scan('\uFEFF'), 'report_empty');
  });

  test('every proper prefix of a document is truncated (or empty), never accepted', () => {
    const bytes = Buffer.from(SAMPLE.trimEnd());
    for (let cut = 0; cut < bytes.length; cut++) {
      let caught: unknown;
      try {
        scan(bytes.subarray(0, cut), { size: 7 });
      } catch (err) {
        caught = err;
      }
      assert.ok(caught instanceof Error && 'code' in caught, `prefix of ${cut} bytes was accepted`);
      const code = (caught as { code: string }).code;
      // A cut inside a multi-byte character is invalid UTF-8 at the end, which is truncation too.
      assert.ok(['truncated', 'report_empty', 'invalid_utf8'].includes(code), `prefix ${cut}: ${code}`);
      if (cut > 60) assert.notEqual(code, 'report_empty');
    }
  });

  test('nesting deeper than maxXmlDepth is a limit error naming the limit', () => {
    assert.equal(scan('<a><a><a><a></a></a></a></a>', { limits: { maxXmlDepth: 4 } }).length, 8);
    const err = parseError(() => scan('<a><a><a><a><a></a></a></a></a></a>', { limits: { maxXmlDepth: 4 } }), 'limit_exceeded');
    assert.equal(err.limit, 'maxXmlDepth');
    assert.equal(err.column, 13);
  });

  test('a markup token longer than maxLineBytes is a limit error, whatever the chunking', () => {
    const input = `<a x="${'y'.repeat(5000)}"/>`;
    assert.equal(scan(input, { size: 1000, limits: { maxLineBytes: 6000 } }).length, 2);
    for (const size of [undefined, 1000]) {
      const err = parseError(() => scan(input, { size, limits: { maxLineBytes: 4096 } }), 'limit_exceeded');
      assert.equal(err.limit, 'maxLineBytes');
    }
  });

  test('errors are sticky: writing after a failure throws the same error', () => {
    const events: string[] = [];
    const scanner = new XmlScanner(
      { open: (n) => events.push(n), close: () => undefined },
      { fileName: 'f', format: 'test', limits: resolveLimits(), names: [] },
    );
    let first: unknown;
    try {
      scanner.write(Buffer.from('<a><b></c>'));
    } catch (err) {
      first = err;
    }
    assert.ok(first);
    assert.throws(() => scanner.write(Buffer.from('</b></a>')), (err) => err === first);
    assert.throws(() => scanner.end(), (err) => err === first);
  });
});

describe('UTF-8 validation', () => {
  const bad: [string, number[]][] = [
    ['a lone continuation byte', [0x80]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a surrogate', [0xed, 0xa0, 0x80]],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated sequence', [0xe2, 0x82, 0x41]],
    ['Latin-1 text', [0x63, 0x61, 0x66, 0xe9, 0x22]],
  ];
  for (const [what, seq] of bad) {
    test(`${what} in an attribute is invalid_utf8 with its position, whatever the chunking`, () => {
      const input = Buffer.concat([Buffer.from('<a>\n <b x="'), Buffer.from(seq), Buffer.from('"/></a>')]);
      for (const size of [undefined, 1, 2, 3, 12]) {
        const err = parseError(() => scan(input, { size }), 'invalid_utf8');
        assert.equal(err.line, 2, `chunk ${size}: ${err.message}`);
        assert.ok(err.offset !== undefined && err.offset >= 11 && err.offset <= 11 + seq.length, `offset ${err.offset}`);
      }
    });
  }

  test('input that ends inside a multi-byte character is invalid_utf8', () => {
    parseError(() => scan(Buffer.from([...Buffer.from('<a>'), 0xe2, 0x82])), 'invalid_utf8');
  });

  test('the guard agrees with TextDecoder on random byte strings split anywhere', () => {
    const strict = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }).map((b) => b.map((x) => (x < 64 ? 0x41 : x))),
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 5 }),
        (bytes, cuts) => {
          let valid = true;
          try {
            strict.decode(bytes);
          } catch {
            valid = false;
          }
          const guard = new Utf8Guard();
          let ok = true;
          let from = 0;
          for (const cut of [...cuts, bytes.length].sort((a, b) => a - b)) {
            if (cut < from || cut > bytes.length) continue;
            if (guard.check(bytes.subarray(from, cut)) !== null) ok = false;
            from = cut;
          }
          if (guard.danglingBytes > 0) ok = false;
          assert.equal(ok, valid, Buffer.from(bytes).toString('hex'));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
