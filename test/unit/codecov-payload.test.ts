/**
 * The payload splitters on payloads captured from the real codecov-cli 11.3.1 (test/fixtures/codecov:
 * the v1 JSON of upload-coverage, the legacy text of --legacy, with an environment and a network
 * section, and fixes), plus the older uploaders' forms: a fixes section, comma-joined flags, gzip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { CodecovPayloadError, splitPayload } from '../../src/codecov/payload';
import { checkUploadLocation, decodeSlug, signUploadLocation, splitFlags } from '../../src/codecov/protocol';

const FIXTURES = path.resolve(__dirname, '../fixtures/codecov');
const CORPUS = path.resolve(__dirname, '../../../shared/corpus');
const lcov = readFileSync(path.join(CORPUS, 'negotiator-nyc/lcov.info'));
const cobertura = readFileSync(path.join(CORPUS, 'tomli-misc/coverage-py.xml'));
const NETWORK = ['coverage.lcov', 'coverage.xml', 'src/calc.c', 'src/index.js'];

test('v1 JSON from codecov-cli: files in payload order, byte for byte, with network and fixes', () => {
  const p = splitPayload(readFileSync(path.join(FIXTURES, 'v1-payload.json')));
  assert.equal(p.encoding, 'v1-json');
  assert.deepEqual(p.files.map((f) => f.filename), ['/home/runner/work/widgets/widgets/coverage.xml', '/home/runner/work/widgets/widgets/coverage.lcov']);
  assert.ok(p.files[0]!.body.equals(cobertura));
  assert.ok(p.files[1]!.body.equals(lcov));
  assert.deepEqual(p.network, NETWORK, 'the trailing empty entry is dropped');
  assert.deepEqual(p.fixes, { files: { 'src/calc.c': { eof: null, lines: [2, 3, 5] } }, warnings: [] });
});

test('legacy text from codecov-cli --legacy: env, network, then each report byte for byte', () => {
  const p = splitPayload(readFileSync(path.join(FIXTURES, 'legacy-payload.txt')));
  assert.equal(p.encoding, 'legacy-text');
  assert.deepEqual(p.env, { PYTHON_VERSION: '3.11' });
  assert.deepEqual(p.network, NETWORK);
  assert.deepEqual(p.files.map((f) => path.basename(f.filename)), ['coverage.xml', 'coverage.lcov']);
  assert.ok(p.files[0]!.body.equals(cobertura));
  assert.ok(p.files[1]!.body.equals(lcov));
});

test('legacy text of the older uploaders: gzip, a fixes section, CRLF markers', () => {
  const text = ['src/a.c', 'src/b.go', '<<<<<< network', '# path=coverage.lcov', lcov.toString().trimEnd(), '<<<<<< EOF', '# path=fixes', './src/a.c:3,1,7', 'EOF: 40 src/b.go', 'src/b.go:9', '<<<<<< EOF', ''].join('\n');
  const p = splitPayload(gzipSync(Buffer.from(text)));
  assert.deepEqual(p.network, ['src/a.c', 'src/b.go']);
  assert.equal(p.files.length, 1);
  assert.equal(p.files[0]!.body.toString(), lcov.toString().trimEnd());
  assert.deepEqual(p.fixes, { files: { './src/a.c': { eof: null, lines: [1, 3, 7] }, 'src/b.go': { eof: 40, lines: [9] } }, warnings: [] });
  const crlf = splitPayload(Buffer.from('# path=a.info\r\nSF:a\r\nDA:1,1\r\nend_of_record\r\n\r\n<<<<<< EOF\r\n'));
  assert.equal(crlf.files[0]!.body.toString(), 'SF:a\r\nDA:1,1\r\nend_of_record\r\n');
});

test('malformed payloads are clear errors; inflating past the bound is "too large"', () => {
  const err = (body: Buffer, re: RegExp, tooLarge = false) =>
    assert.throws(() => splitPayload(body, { maxInflatedBytes: 1 << 20, maxFiles: 2 }), (e: unknown) => e instanceof CodecovPayloadError && re.test(e.message) && e.tooLarge === tooLarge);
  err(Buffer.from(''), /empty/);
  err(Buffer.from('{"coverage_files": []}'), /no coverage file/);
  err(Buffer.from('{"coverage_files": [{"filename": "a", "format": "plain", "data": "x"}]}'), /base64\+compressed/);
  err(Buffer.from('{"coverage_files": [{"filename": "a", "format": "base64+compressed", "data": "bm90IHpsaWI="}]}'), /not valid compressed data/);
  err(Buffer.from('{nope'), /not valid JSON/);
  err(Buffer.from('just text\n'), /no coverage file/);
  err(Buffer.from('# path=a\nx\n<<<<<< EOF\n# path=b\nx\n<<<<<< EOF\n# path=c\nx\n<<<<<< EOF\n'), /more than 2 coverage files/, true);
  const bomb = JSON.stringify({ coverage_files: [{ filename: 'a', format: 'base64+compressed', data: deflateSync(Buffer.alloc(2 << 20)).toString('base64') }] });
  err(Buffer.from(bomb), /inflates past/, true);
});

test('slugs, flags and the signed location', () => {
  assert.equal(decodeSlug('acme::::widgets'), 'acme/widgets');
  assert.equal(decodeSlug('group:::sub::::widgets'), 'group/sub/widgets');
  assert.throws(() => decodeSlug('acme/widgets'));
  assert.deepEqual(splitFlags(['unit', 'py,js', ' unit ']), ['unit', 'py', 'js']);
  assert.deepEqual(splitFlags('a,b'), ['a', 'b']);
  const now = Date.now();
  const exp = Math.floor(now / 1000) + 60;
  const sig = signUploadLocation('s'.repeat(32), 'abc', exp);
  assert.equal(checkUploadLocation('s'.repeat(32), 'abc', String(exp), sig, now), 'ok');
  assert.equal(checkUploadLocation('s'.repeat(32), 'abd', String(exp), sig, now), 'forged');
  assert.equal(checkUploadLocation('t'.repeat(32), 'abc', String(exp), sig, now), 'forged');
  assert.equal(checkUploadLocation('s'.repeat(32), 'abc', String(exp + 1), sig, now), 'forged');
  assert.equal(checkUploadLocation('s'.repeat(32), 'abc', String(exp), sig, now + 61_000), 'expired');
});
