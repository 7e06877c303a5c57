/**
 * Mutation fuzzing over the real corpus: byte flips, truncations, insertions (huge and malformed
 * numbers, garbage, invalid UTF-8, markup), duplicated and deleted ranges, sometimes gzipped (whole
 * or cut short) and streamed in chunks split anywhere, then every format hint and detection. The only assertions: each input either parses or fails with a ReportParseError
 * (never another error), and each parse finishes within a generous hang guard.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parseReport } from '../../../src/coverage/parse';
import { createPathResolver } from '../../../src/coverage/paths';
import { ReportParseError } from '../../../src/coverage/errors';
import { FORMATS, type FormatName } from '../../../src/coverage/types';

const CORPUS = path.resolve(__dirname, '../../../../shared/corpus');
/** A hang guard, not a speed assertion: the slowest real parse here takes milliseconds. */
const HANG_GUARD_MS = 2000;

const samples: { name: string; bytes: Buffer }[] = [];
for (const dir of readdirSync(CORPUS)) {
  const full = path.join(CORPUS, dir);
  if (!statSync(full).isDirectory()) continue;
  for (const f of readdirSync(full)) samples.push({ name: `${dir}/${f}`, bytes: readFileSync(path.join(full, f)) });
}

const text = (s: string) => fc.constant(Buffer.from(s, 'utf8'));
const insertion = fc.oneof(
  // numbers a parser may choke on
  ...['99999999999999999999999999', '1e309', '-1', '-0', 'NaN', '1.5', '1e3', '0x10', '+7', '18446744073709551617'].map(text),
  // invalid UTF-8
  ...[[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]].map((b) => fc.constant(Buffer.from(b))),
  // structure of the formats in the corpus
  ...['{', '}', '[', ']]]]', '"', ':', ',', '\n', '\r\n', '\u0000', 'end_of_record\n', 'SF:', 'DA:1,', 'BRDA:1,0,0,-\n'].map(text),
  ...['<', '</coverage>', '<line number="0" hits="-5"/>', '<![CDATA[', '<!DOCTYPE r [<!ENTITY a "aaaaaaaa">]>', '&a;', '&#0;', '&#x110000;'].map(text),
  // a very long line
  fc.integer({ min: 1, max: 200_000 }).map((n) => Buffer.alloc(n, 0x41)),
  // garbage
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((a) => Buffer.from(a)),
);

type Mutation = (b: Buffer) => Buffer;
const at = (b: Buffer, f: number) => Math.floor(f * b.byteLength);
const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fraction, fc.integer({ min: 1, max: 255 })).map(([f, x]): Mutation => (b) => {
    const c = Buffer.from(b);
    if (c.byteLength > 0) c[at(c, f)] ^= x;
    return c;
  }),
  fraction.map((f): Mutation => (b) => b.subarray(0, at(b, f))),
  fc.tuple(fraction, insertion).map(([f, ins]): Mutation => (b) => Buffer.concat([b.subarray(0, at(b, f)), ins, b.subarray(at(b, f))])),
  fc.tuple(fraction, fraction, fc.integer({ min: 1, max: 4096 })).map(([f, g, n]): Mutation => (b) => {
    const from = at(b, f);
    const piece = b.subarray(from, from + n);
    return Buffer.concat([b.subarray(0, at(b, g)), piece, b.subarray(at(b, g))]);
  }),
  fc.tuple(fraction, fc.integer({ min: 1, max: 4096 })).map(([f, n]): Mutation => (b) =>
    Buffer.concat([b.subarray(0, at(b, f)), b.subarray(at(b, f) + n)]),
  ),
);

async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

/** Parses `bytes` whole or, with `chunkSize`, as a stream of chunks split anywhere. */
async function outcome(bytes: Buffer, format: FormatName | undefined, chunkSize?: number): Promise<string> {
  const started = performance.now();
  let result: string;
  try {
    await parseReport(chunkSize ? chunks(bytes, chunkSize) : bytes, { fileName: 'fuzz', format, sessionId: 0, resolver: createPathResolver() });
    result = 'parsed';
  } catch (err) {
    if (!(err instanceof ReportParseError)) {
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      assert.fail(`format ${format ?? 'detected'}: expected a ReportParseError, got ${detail}`);
    }
    result = err.code;
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed < HANG_GUARD_MS, `format ${format ?? 'detected'}: ${Math.round(elapsed)} ms`);
  return result;
}

test('mutated corpus files parse or fail with a ReportParseError', { timeout: 120_000 }, async () => {
  assert.ok(samples.length >= 10);
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: samples.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      fc.option(fc.integer({ min: 251, max: 16384 }), { nil: undefined }),
      // Sometimes deliver the mutated bytes gzipped, whole or cut short.
      fc.constantFrom('plain', 'plain', 'plain', 'gzip', 'gzip-truncated'),
      async (index, mutations, chunkSize, wrapping) => {
        let bytes = samples[index]!.bytes;
        for (const m of mutations) bytes = m(bytes);
        if (wrapping !== 'plain') bytes = gzipSync(bytes, { level: 1 });
        if (wrapping === 'gzip-truncated') bytes = bytes.subarray(0, Math.floor(bytes.byteLength / 2));
        for (const format of [undefined, ...FORMATS]) seen.add(await outcome(bytes, format, chunkSize));
      },
    ),
    { numRuns: 700 },
  );
  // The mutations must reach both outcomes, or the property tests nothing.
  assert.ok(seen.has('parsed'), [...seen].join(','));
  assert.ok(seen.size >= 3, [...seen].join(','));
});

test('unmutated corpus files parse when detected and fail typed under every wrong hint', async () => {
  for (const s of samples) {
    assert.equal(await outcome(s.bytes, undefined), 'parsed', s.name);
    for (const format of FORMATS) await outcome(s.bytes, format);
  }
});
