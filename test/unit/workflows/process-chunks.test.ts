import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { processorChunks } from '../../../src/workflows/process-chunks';

const uploads = (n: number) => Array.from({ length: n }, (_, i) => ({ uploadId: `u${i}`, session: i }));

describe('processorChunks', () => {
  test('one upload per processor without chunking, or while the batch is small for the window', () => {
    assert.deepEqual(processorChunks(uploads(500), 16).map((c) => c.length), Array(500).fill(1));
    assert.deepEqual(processorChunks(uploads(31), 16, 8).map((c) => c.length), Array(31).fill(1));
    assert.deepEqual(processorChunks(uploads(1), 16, 8), [[{ uploadId: 'u0', session: 0 }]]);
  });

  test('a large batch goes in chunks of at most processChunk, the last one shorter', () => {
    const chunks = processorChunks(uploads(500), 16, 8);
    assert.equal(chunks.length, 63);
    assert.deepEqual(chunks.slice(0, 62).map((c) => c.length), Array(62).fill(8));
    assert.equal(chunks[62]!.length, 4);
    assert.deepEqual(processorChunks(uploads(40), 16, 8).map((c) => c.length), Array(20).fill(2));
  });

  test('every upload exactly once, in order; never fewer chunks than lanes; none larger than asked', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), (n, window, chunk) => {
        const all = uploads(n);
        const chunks = processorChunks(all, window, chunk);
        assert.deepEqual(chunks.flat(), all);
        assert.ok(chunks.every((c) => c.length >= 1 && c.length <= chunk));
        assert.ok(chunks.length >= Math.min(n, window));
      }),
    );
  });
});
