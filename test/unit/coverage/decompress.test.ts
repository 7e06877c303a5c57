import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { decompressInput } from '../../../src/coverage/decompress';
import { isGzip } from '../../../src/shared/gzip-magic';
import { ReportParseError } from '../../../src/coverage/errors';
import { resolveLimits, type ParseLimits } from '../../../src/coverage/limits';

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

async function collect(bytes: Uint8Array, size: number, limits: Partial<ParseLimits> = {}): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of decompressInput(chunks(bytes, size), { fileName: 'in', limits: resolveLimits(limits) })) out.push(c);
  return Buffer.concat(out);
}

async function failure(p: Promise<unknown>): Promise<ReportParseError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ReportParseError, `expected ReportParseError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

const text = Buffer.from('TN:\nSF:a.c\nDA:1,1\nend_of_record\n'.repeat(200));

describe('decompressInput', () => {
  test('plain input passes through unchanged, whatever the chunking', async () => {
    for (const size of [1, 2, 3, 1000, text.byteLength]) assert.deepEqual(await collect(text, size), text);
  });

  test('gzip input is inflated, even when the magic bytes arrive in separate chunks', async () => {
    const gz = gzipSync(text);
    assert.ok(isGzip(gz));
    for (const size of [1, 7, 4096]) assert.deepEqual(await collect(gz, size), text);
  });

  test('concatenated gzip members are all inflated', async () => {
    const gz = Buffer.concat([gzipSync(text), gzipSync(text)]);
    assert.deepEqual(await collect(gz, 512), Buffer.concat([text, text]));
  });

  test('empty input yields nothing', async () => {
    assert.equal((await collect(Buffer.alloc(0), 10)).byteLength, 0);
  });

  test('a gzip bomb stops at maxDecompressedBytes', async () => {
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024)); // ~16 KiB that inflates to 16 MiB
    const e = await failure(collect(bomb, 4096, { maxDecompressedBytes: 1024 * 1024 }));
    assert.equal(e.code, 'limit_exceeded');
    assert.equal(e.limit, 'maxDecompressedBytes');
  });

  test('raw input is bounded by maxInputBytes', async () => {
    const e = await failure(collect(text, 100, { maxInputBytes: 1000 }));
    assert.equal(e.code, 'limit_exceeded');
    assert.equal(e.limit, 'maxInputBytes');
  });

  test('truncated and corrupt gzip data are typed errors', async () => {
    const gz = gzipSync(text);
    const t = await failure(collect(gz.subarray(0, gz.byteLength - 12), 64));
    assert.equal(t.code, 'truncated');
    assert.equal(t.format, 'gzip');
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 10, 30);
    const c = await failure(collect(corrupt, 64));
    assert.equal(c.code, 'invalid_syntax');
  });
});
