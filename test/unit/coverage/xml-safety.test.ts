import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isReportParseError } from '../../../src/coverage/errors';
import { createCloverParser } from '../../../src/coverage/parsers/clover';
import { createCoberturaParser } from '../../../src/coverage/parsers/cobertura';
import { createJacocoParser } from '../../../src/coverage/parsers/jacoco';
import type { ParserFactory } from '../../../src/coverage/types';
import { corpus, fixture, parseError, record } from '../../fixtures/xml/harness';

const PARSERS: [string, ParserFactory, string][] = [
  ['cobertura', createCoberturaParser, 'coverage'],
  ['jacoco', createJacocoParser, 'report'],
  ['clover', createCloverParser, 'coverage'],
];

/** For each format, an element whose name attribute the parser reads, holding `value`. */
const NAMED: Record<string, (value: string) => string> = {
  cobertura: (v) => `<coverage><packages><package><classes><class filename="${v}"><lines><line number="1" hits="1"/></lines></class></classes></package></packages></coverage>`,
  jacoco: (v) => `<report><package name="${v}"><sourcefile name="A.java"><line nr="1" mi="0" ci="1" mb="0" cb="0"/></sourcefile></package></report>`,
  clover: (v) => `<coverage generated="1"><project><file name="${v}"><line num="1" type="stmt" count="1"/></file></project></coverage>`,
};

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ROOT><package name="&lol9;"><class name="&lol9;" filename="&lol9;"><sourcefile name="&lol9;"/><file name="&lol9;"/></class></package></ROOT>
`;

describe('entity expansion and external entities', () => {
  for (const [format, parse, root] of PARSERS) {
    test(`${format}: billion laughs is rejected at the first entity declaration`, () => {
      const err = parseError(() => record(parse, BILLION_LAUGHS.replace(/ROOT/g, root)), 'unsafe_xml');
      assert.equal(err.format, format);
      assert.equal(err.line, 3);
      assert.equal(err.column, 2);
    });

    test(`${format}: an external SYSTEM entity (XXE) is rejected, whatever the chunking`, () => {
      const input = `<?xml version="1.0"?>\n<!DOCTYPE ${root} [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n<${root}><x a="&xxe;"/></${root}>`;
      for (const size of [undefined, 1, 5]) parseError(() => record(parse, input, { size }), 'unsafe_xml');
    });

    test(`${format}: a parameter entity pulling an external DTD is rejected`, () => {
      const input = `<!DOCTYPE ${root} [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/evil.dtd"> %ext;]><${root}/>`;
      parseError(() => record(parse, input), 'unsafe_xml');
    });

    test(`${format}: a reference to an undeclared entity is never expanded`, () => {
      const input = `<!DOCTYPE ${root} SYSTEM "http://127.0.0.1:9/evil.dtd">${NAMED[format]('&xxe;')}`;
      const err = parseError(() => record(parse, input), 'invalid_syntax');
      assert.match(err.reason, /undefined entity '&xxe;'/);
    });
  }

  test('an external DTD is only a name: the real corpus parses without any fetch', () => {
    // negotiator-nyc's Cobertura report starts with <!DOCTYPE coverage SYSTEM "http://...dtd">.
    const input = corpus('negotiator-nyc/cobertura-coverage.xml');
    assert.match(input.subarray(0, 200).toString(), /<!DOCTYPE coverage SYSTEM "http/);
    const rec = record(createCoberturaParser, input);
    assert.equal(rec.files.size, 6);
  });

  test('an internal subset without entities is skipped inertly (ATTLIST defaults are not applied)', () => {
    const input = `<!DOCTYPE coverage [
      <!ELEMENT coverage ANY>
      <!ATTLIST line hits CDATA "999" branch CDATA "true">
      <!-- a commented-out <!ENTITY x "y"> is not a declaration -->
      <?pi with ] and > inside?>
    ]>
    <coverage><packages><package><classes><class filename="a.py"><lines>
      <line number="1" hits="2"/>
    </lines></class></classes></package></packages></coverage>`;
    assert.deepEqual(record(createCoberturaParser, input).files.get('a.py'), [[1, 2]]);
  });

  test('entity references in character data nobody reads stay inert', () => {
    const input = `<coverage><packages><package><classes><class filename="a.py">&lol9;&xxe;<lines>
      <line number="1" hits="2"/></lines></class></classes></package></packages></coverage>`;
    assert.deepEqual(record(createCoberturaParser, input).files.get('a.py'), [[1, 2]]);
  });
});

describe('structural bounds', () => {
  test('100,000 nested elements stop at maxXmlDepth, at the first element too deep', () => {
    const input = '<coverage>' + '<a>'.repeat(100_000);
    for (const [, parse] of PARSERS.filter(([f]) => f !== 'jacoco')) {
      const err = parseError(() => record(parse, input, { size: 65536 }), 'limit_exceeded');
      assert.equal(err.limit, 'maxXmlDepth');
      // 1 root + 255 <a> fit in the default depth of 256; the 256th <a> is refused.
      assert.equal(err.offset, '<coverage>'.length + 255 * 3);
    }
  });

  test('the depth limit is configurable', () => {
    const input = '<report>' + '<group>'.repeat(10) + '</group>'.repeat(10) + '</report>';
    assert.equal(record(createJacocoParser, input, { limits: { maxXmlDepth: 11 } }).files.size, 0);
    const err = parseError(() => record(createJacocoParser, input, { limits: { maxXmlDepth: 10 } }), 'limit_exceeded');
    assert.equal(err.limit, 'maxXmlDepth');
  });

  test('a megabyte attribute value is refused by maxLineBytes, not buffered without bound', () => {
    const input = `<coverage><packages><package><classes><class filename="${'x'.repeat(2 * 1024 * 1024)}"/></classes></package></packages></coverage>`;
    for (const size of [undefined, 65536]) {
      const err = parseError(() => record(createCoberturaParser, input, { size }), 'limit_exceeded');
      assert.equal(err.limit, 'maxLineBytes');
    }
  });

  test('megabytes of character data inside an element stream through', () => {
    const input = `<coverage>${' \n'.repeat(3 * 1024 * 1024)}<packages/></coverage>`;
    assert.equal(record(createCoberturaParser, input, { size: 65536 }).files.size, 0);
  });

  for (const [where, input] of [
    ['a comment', '<coverage><!-- never closed'],
    ['a CDATA section', '<coverage><![CDATA[ never closed'],
    ['a DOCTYPE', '<!DOCTYPE coverage [ <!ELEMENT coverage ANY>'],
    ['a start tag', '<coverage><packages name="x'],
    ['an end tag', '<coverage></cover'],
    ['a processing instruction', '<?xml version="1.0"'],
    ['the root element', '<coverage><packages></packages>'],
  ]) {
    test(`a document that ends inside ${where} is truncated`, () => {
      for (const size of [undefined, 1]) parseError(() => record(createCoberturaParser, input, { size }), 'truncated');
    });
  }
});

describe('garbage and encodings', () => {
  test('non-XML inputs are invalid_syntax at 1:1', () => {
    for (const input of ['{"coverage": {"a.py": [null, 1]}}', 'TN:\nSF:a.js\nDA:1,1\nend_of_record\n', 'mode: set\n']) {
      for (const [, parse] of PARSERS) {
        const err = parseError(() => record(parse, input), 'invalid_syntax');
        assert.equal(err.line, 1);
        assert.equal(err.column, 1);
      }
    }
  });

  test('binary input is a typed error', () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const err = parseError(() => record(createCoberturaParser, png), 'invalid_utf8');
    assert.equal(err.offset, 0);
  });

  test('UTF-16 input is a typed error', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<coverage/>', 'utf16le')]);
    parseError(() => record(createCoberturaParser, utf16), 'invalid_utf8');
  });

  test('invalid UTF-8 inside a file name is invalid_utf8 with line and column', () => {
    const head = Buffer.from('<coverage>\n<packages><package><classes>\n<class filename="caf');
    const input = Buffer.concat([head, Buffer.from([0xe9]), Buffer.from('.py"/></classes></package></packages></coverage>')]);
    for (const size of [undefined, 1, 7]) {
      const err = parseError(() => record(createCoberturaParser, input, { size }), 'invalid_utf8');
      assert.equal(err.line, 3);
      assert.equal(err.column, 21);
      assert.equal(err.offset, head.length);
    }
  });

  test('random bytes only ever end in typed errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 64 }), (bytes, size) => {
        for (const [, parse] of PARSERS) {
          try {
            record(parse, bytes, { size });
          } catch (err) {
            assert.ok(isReportParseError(err), String(err));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('fuzzing the real reports', () => {
  const inputs: [string, ParserFactory, Buffer][] = [
    ['nyc cobertura', createCoberturaParser, corpus('negotiator-nyc/cobertura-coverage.xml')],
    ['coverage.py cobertura', createCoberturaParser, corpus('tomli-misc/coverage-py.xml')],
    ['nyc clover', createCloverParser, corpus('negotiator-nyc/clover.xml')],
    ['jacoco', createJacocoParser, fixture('jacoco-quirks.xml')],
  ];
  const SPECIAL = [...'<>/"\'=&;![]?-#x0123456789 \n'].map((c) => c.charCodeAt(0)).concat([0x00, 0x80, 0xc3, 0xff]);

  for (const [name, parse, input] of inputs) {
    test(`${name}: mutated copies parse or fail with a typed error`, () => {
      const mutation = fc.oneof(
        fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(...SPECIAL) }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
        fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 512 }) }),
      );
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 4096 }), (muts, size) => {
          let bytes = Buffer.from(input);
          for (const m of muts) {
            const at = m.at % bytes.length;
            if (m.kind === 'set') bytes[at] = m.byte;
            else if (m.kind === 'cut') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
            else bytes = Buffer.concat([bytes.subarray(0, at + m.length), bytes.subarray(at)]);
            if (bytes.length === 0) return;
          }
          try {
            record(parse, bytes, { size });
          } catch (err) {
            assert.ok(isReportParseError(err), String(err));
            assert.ok(err.line !== undefined || err.offset !== undefined, err.message);
          }
        }),
        { numRuns: 150 },
      );
    });
  }
});
