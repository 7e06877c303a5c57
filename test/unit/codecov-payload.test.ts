/**
 * The payload splitters on payloads captured from the real codecov-cli 11.3.1 (test/fixtures/codecov:
 * the v1 JSON of upload-coverage, the legacy text of --legacy, with an environment and a network
 * section, and fixes), plus the older uploaders' forms: a fixes section, comma-joined flags, gzip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createDeflate, deflateSync, gzipSync } from 'node:zlib';
import { splitPayload as splitStream } from '../../src/codecov/payload';
import { CodecovPayloadError, type PayloadSink } from '../../src/codecov/payload-stream';
import { memorySink, splitBuffered as splitPayload } from '../support/split-payload';
import { checkUploadLocation, decodeSlug, signUploadLocation, splitFlags } from '../../src/codecov/protocol';

const FIXTURES = path.resolve(__dirname, '../fixtures/codecov');
const CORPUS = path.resolve(__dirname, '../../../shared/corpus');
const lcov = readFileSync(path.join(CORPUS, 'negotiator-nyc/lcov.info'));
const cobertura = readFileSync(path.join(CORPUS, 'tomli-misc/coverage-py.xml'));
const NETWORK = ['coverage.lcov', 'coverage.xml', 'src/calc.c', 'src/index.js'];

test('v1 JSON from codecov-cli: files in payload order, byte for byte, with network and fixes', async () => {
  const p = await splitPayload(readFileSync(path.join(FIXTURES, 'v1-payload.json')));
  assert.equal(p.encoding, 'v1-json');
  assert.deepEqual(p.files.map((f) => f.filename), ['/home/runner/work/widgets/widgets/coverage.xml', '/home/runner/work/widgets/widgets/coverage.lcov']);
  assert.ok(p.files[0]!.body.equals(cobertura));
  assert.ok(p.files[1]!.body.equals(lcov));
  assert.deepEqual(p.network, NETWORK, 'the trailing empty entry is dropped');
  assert.deepEqual(p.fixes, { files: { 'src/calc.c': { eof: null, lines: [2, 3, 5] } }, warnings: [] });
});

test('legacy text from codecov-cli --legacy: env, network, then each report byte for byte', async () => {
  const p = await splitPayload(readFileSync(path.join(FIXTURES, 'legacy-payload.txt')));
  assert.equal(p.encoding, 'legacy-text');
  assert.deepEqual(p.env, { PYTHON_VERSION: '3.11' });
  assert.deepEqual(p.network, NETWORK);
  assert.deepEqual(p.files.map((f) => path.basename(f.filename)), ['coverage.xml', 'coverage.lcov']);
  assert.ok(p.files[0]!.body.equals(cobertura));
  assert.ok(p.files[1]!.body.equals(lcov));
});

test('legacy text of the older uploaders: gzip, a fixes section, CRLF markers', async () => {
  const text = ['src/a.c', 'src/b.go', '<<<<<< network', '# path=coverage.lcov', lcov.toString().trimEnd(), '<<<<<< EOF', '# path=fixes', './src/a.c:3,1,7', 'EOF: 40 src/b.go', 'src/b.go:9', '<<<<<< EOF', ''].join('\n');
  const p = await splitPayload(gzipSync(Buffer.from(text)));
  assert.deepEqual(p.network, ['src/a.c', 'src/b.go']);
  assert.equal(p.files.length, 1);
  assert.equal(p.files[0]!.body.toString(), lcov.toString().trimEnd());
  assert.deepEqual(p.fixes, { files: { './src/a.c': { eof: null, lines: [1, 3, 7] }, 'src/b.go': { eof: 40, lines: [9] } }, warnings: [] });
  const crlf = await splitPayload(Buffer.from('# path=a.info\r\nSF:a\r\nDA:1,1\r\nend_of_record\r\n\r\n<<<<<< EOF\r\n'));
  assert.equal(crlf.files[0]!.body.toString(), 'SF:a\r\nDA:1,1\r\nend_of_record\r\n');
});

test('malformed payloads are clear errors; inflating past the bound is "too large"', async () => {
  const err = (body: Buffer, re: RegExp, tooLarge = false) =>
    assert.rejects(splitPayload(body, { maxInflatedBytes: 1 << 20, maxFiles: 2 }), (e: unknown) => e instanceof CodecovPayloadError && re.test(e.message) && e.tooLarge === tooLarge);
  await err(Buffer.from(''), /empty/);
  await err(Buffer.from('{"coverage_files": []}'), /no coverage file/);
  await err(Buffer.from('{"coverage_files": [{"filename": "a", "format": "plain", "data": "x"}]}'), /base64\+compressed/);
  await err(Buffer.from('{"coverage_files": [{"filename": "a", "format": "base64+compressed", "data": "bm90IHpsaWI="}]}'), /not valid compressed data/);
  await err(Buffer.from('{nope'), /not valid JSON/);
  await err(Buffer.from('just text\n'), /no coverage file/);
  await err(Buffer.from('# path=a\nx\n<<<<<< EOF\n# path=b\nx\n<<<<<< EOF\n# path=c\nx\n<<<<<< EOF\n'), /more than 2 coverage files/, true);
  const bomb = JSON.stringify({ coverage_files: [{ filename: 'a', format: 'base64+compressed', data: deflateSync(Buffer.alloc(2 << 20)).toString('base64') }] });
  await err(Buffer.from(bomb), /inflates past/, true);
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

test('chunk boundaries change nothing: markers, CRLF and base64 groups split across chunks', async () => {
  const payloads = [
    readFileSync(path.join(FIXTURES, 'v1-payload.json')),
    readFileSync(path.join(FIXTURES, 'legacy-payload.txt')),
    Buffer.from('a=1\n<<<<<< ENV\n# path=a.info\r\nSF:a\r\n<<<<<< EOFX\r\nDA:1,1\r\n\r\n<<<<<< EOF\r\n# path=b.info\nSF:b\n<<<<<< EOF'),
    gzipSync(readFileSync(path.join(FIXTURES, 'legacy-payload.txt'))),
  ];
  for (const body of payloads) {
    const whole = await splitPayload(body);
    for (const size of [1, 3, 7, 13]) {
      const split = await splitPayload(body, undefined, size);
      assert.deepEqual(split.files.map((f) => [f.filename, f.body.toString('base64')]), whole.files.map((f) => [f.filename, f.body.toString('base64')]), `chunks of ${size}`);
      assert.deepEqual([split.network, split.fixes, split.env], [whole.network, whole.fixes, whole.env]);
    }
  }
  const crlf = await splitPayload(payloads[2]!, undefined, 1);
  assert.equal(crlf.files[0]!.body.toString(), 'SF:a\r\n<<<<<< EOFX\r\nDA:1,1\r\n', 'a line that only starts like the marker is content');
  assert.equal(crlf.files[1]!.body.toString(), 'SF:b', 'the marker may end the payload without a newline');
});

test('a payload that fails after some files were stored discards them', async () => {
  const sink = memorySink();
  const body = Buffer.from('# path=a.info\nSF:a\nDA:1,1\n<<<<<< EOF\n# path=b.info\nSF:b\n<<<<<< EOF\nstray text\n');
  await assert.rejects(splitStream(Readable.from([body]), sink), /unexpected text after a report/);
  assert.deepEqual(sink.discarded.map((b) => b.toString()), ['SF:a\nDA:1,1', 'SF:b']);
  const json = memorySink();
  const first = { filename: 'a', format: 'base64+compressed', data: deflateSync('SF:a\n').toString('base64') };
  const doc = JSON.stringify({ coverage_files: [first, { filename: 'b', format: 'plain', data: 'eA==' }] });
  await assert.rejects(splitStream(Readable.from([Buffer.from(doc)]), json), /coverage_files\.1\.format/);
  assert.deepEqual(json.discarded.map((b) => b.toString()), ['SF:a\n']);
});

/**
 * Streams a payload of `total` report bytes through a sink slower than the source, and checks at
 * every chunk the source gives that the sink has already received all but a bounded amount of
 * it: the splitter holds a few chunks, never the payload.
 */
async function assertStreams(kind: 'legacy' | 'v1', total: number, bound: number): Promise<void> {
  const line = Buffer.from('DA:12345,6789012\n');
  const block = Buffer.concat(Array.from({ length: 4096 }, () => line));
  let produced = 0;
  let received = 0;
  let worst = 0;
  const check = () => {
    worst = Math.max(worst, produced - received);
    assert.ok(produced - received < bound, `${produced - received} bytes held (bound ${bound})`);
  };
  async function* legacy(): AsyncGenerator<Buffer> {
    yield Buffer.from('# path=big.info\n');
    for (let n = 0; n < total; n += block.length) {
      check();
      produced += block.length;
      yield block;
    }
    yield Buffer.from('\n<<<<<< EOF\n');
  }
  async function* v1(): AsyncGenerator<Buffer> {
    yield Buffer.from('{"coverage_files": [{"filename": "big.info", "format": "base64+compressed", "data": "');
    // Stored (level 0) deflate, so what the sink receives keeps pace with what the source sends.
    const deflate = createDeflate({ level: 0 });
    const feed = (async () => {
      for (let n = 0; n < total; n += block.length) {
        if (!deflate.write(block)) await new Promise((r) => deflate.once('drain', r));
      }
      deflate.end();
    })();
    let carry = Buffer.alloc(0);
    for await (const chunk of deflate as AsyncIterable<Buffer>) {
      const all = Buffer.concat([carry, chunk]);
      const whole = all.length - (all.length % 3);
      carry = all.subarray(whole);
      check();
      produced += whole;
      yield Buffer.from(all.subarray(0, whole).toString('base64'));
    }
    await feed;
    yield Buffer.from(`${carry.toString('base64')}"}]}`);
  }
  const sink: PayloadSink<number> = {
    async store(content) {
      let n = 0;
      for await (const c of content) {
        n += (c as Buffer).length;
        received += (c as Buffer).length;
        await new Promise((r) => setImmediate(r));
      }
      return n;
    },
    async discard() {},
  };
  const split = await splitStream(kind === 'legacy' ? legacy() : v1(), sink, { maxInflatedBytes: 2 * total, maxFiles: 2 });
  assert.ok(split.files[0]!.body >= total, `${kind}: the whole report reached the sink`);
  assert.ok(worst > 0);
}

test('payloads stream: a 24 MB report passes through holding a bounded amount', async () => {
  await assertStreams('legacy', 24 << 20, 4 << 20);
  await assertStreams('v1', 24 << 20, 4 << 20);
});
