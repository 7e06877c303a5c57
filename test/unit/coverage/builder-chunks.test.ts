/**
 * The session builder's bounded log: records are sealed into per-file segments of exactly sized
 * chunks whenever the log is full, and finish() rebuilds each file from its segments. These tests
 * cross seal boundaries with tiny chunks and compare against a reference built from the same calls
 * with `FileCoverage.fromEntries` (which merges repeats with the in-session rule).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createChunkedSessionBuilder, createSessionBuilder } from '../../../src/coverage/builder';
import { CoverageReport } from '../../../src/coverage/report';
import { FileCoverage } from '../../../src/coverage/file-coverage';
import type { LineExtras, LineType, LineValue } from '../../../src/coverage/types';
import type { SessionEntry } from '../../../src/coverage/session-entries';

const meta = { format: 'lcov', file: 'coverage/lcov.info' };

interface Call {
  path: string;
  line: number;
  value: LineValue;
  type?: LineType;
  extras?: LineExtras;
}

/** A small deterministic generator (mulberry32), so a failure reproduces from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCalls(seed: number, count: number, files: number, interleave: boolean): Call[] {
  const r = rng(seed);
  const calls: Call[] = [];
  const next = new Map<string, number>();
  let current = 'f0';
  for (let i = 0; i < count; i++) {
    if (interleave || r() < 0.05) current = `f${Math.floor(r() * files)}`;
    let line = next.get(current) ?? 1;
    const shape = r();
    if (shape < 0.1) line = 1 + Math.floor(r() * line); // repeat or out of order
    else next.set(current, line + 1 + Math.floor(r() * 3));
    const kind = r();
    let value: LineValue;
    let type: LineType | undefined;
    let extras: LineExtras | undefined;
    if (kind < 0.6) value = Math.floor(r() * 5) - (r() < 0.05 ? 1 : 0);
    else if (kind < 0.8) {
      const den = 2 + Math.floor(r() * 3);
      value = `${Math.floor(r() * (den + 1))}/${den}`;
      type = 'b';
      if (r() < 0.5) extras = { missingBranches: [`${Math.floor(r() * den)}`] };
    } else if (kind < 0.9) {
      value = Math.floor(r() * 3);
      type = 'm';
      if (r() < 0.3) extras = { complexity: Math.floor(r() * 4) };
    } else value = true;
    calls.push({ path: current, line, value, type, extras });
  }
  return calls;
}

function build(calls: readonly Call[], chunk: number | undefined): CoverageReport {
  const options = { sessionId: 4, session: meta };
  const b = chunk === undefined ? createSessionBuilder(options) : createChunkedSessionBuilder(options, chunk);
  for (const c of calls) {
    // Extras are owned by the sink, so each builder gets its own copy.
    const x = c.extras === undefined ? undefined : structuredClone(c.extras);
    b.sink.file(c.path)!.line(c.line, c.value, c.type, x);
  }
  return b.finish();
}

function reference(calls: readonly Call[]): CoverageReport {
  const byPath = new Map<string, Array<[number, SessionEntry[]]>>();
  for (const c of calls) {
    const e: SessionEntry = { sessionId: 4, value: c.value };
    if (c.type !== undefined && c.type !== 'line') e.type = c.type;
    if (c.extras?.missingBranches !== undefined) {
      e.missingBranches = [...c.extras.missingBranches];
      e.branchScheme = meta.format;
    }
    if (c.extras?.complexity !== undefined) e.complexity = c.extras.complexity;
    let list = byPath.get(c.path);
    if (list === undefined) byPath.set(c.path, (list = []));
    list.push([c.line, [e]]);
  }
  const files = [...byPath].map(([p, ls]) => FileCoverage.fromEntries(p, ls));
  return new CoverageReport(files, [{ id: 4, ...meta }]);
}

/** Everything observable about a report's files, in canonical order. */
function dump(r: CoverageReport): unknown {
  return [...r].map((f) => ({
    path: f.path,
    lines: [...f.lines],
    offsets: [...f.offsets],
    sessionIds: [...f.sessionIds],
    values: Array.from({ length: f.lineCount }, (_, i) => [f.value(i), f.type(i), f.classOf(i)]),
    entries: Array.from({ length: f.lineCount }, (_, i) => f.entries(i)),
  }));
}

describe('session builder chunks', () => {
  for (const chunk of [1, 2, 3, 7, 64, 1000]) {
    test(`random calls, log chunk ${chunk}, match the reference`, () => {
      for (const seed of [1, 2, 3]) {
        const calls = randomCalls(seed * 1000 + chunk, 1500, 12, false);
        assert.deepEqual(dump(build(calls, chunk)), dump(reference(calls)), `seed ${seed}`);
      }
    });
  }

  test('interleaved files (every call switches file) match the reference', () => {
    const calls = randomCalls(99, 2000, 30, true);
    for (const chunk of [5, 256, 1 << 16]) {
      assert.deepEqual(dump(build(calls, chunk)), dump(reference(calls)), `chunk ${chunk}`);
    }
  });

  test('a repeat of a sealed record merges with it in arrival order', () => {
    const calls: Call[] = [
      { path: 'a', line: 3, value: '1/2', type: 'b', extras: { missingBranches: ['1'] } },
      { path: 'b', line: 1, value: 1 },
      { path: 'b', line: 2, value: 1 },
      { path: 'a', line: 3, value: '1/2', type: 'b', extras: { missingBranches: ['0'] } },
      { path: 'a', line: 3, value: 7 },
    ];
    for (const chunk of [1, 2, 100]) {
      const f = build(calls, chunk).file('a')!;
      assert.equal(f.lineCount, 1, `chunk ${chunk}`);
      assert.deepEqual(f.entries(0), [{ sessionId: 4, value: '2/2', type: 'b', missingBranches: [], branchScheme: 'lcov' }]);
    }
  });

  test('a seal that merges repeats does not disturb the value being added', () => {
    // The fourth call fills the log (chunk 3) while its own value is being encoded; sealing sorts
    // and merges the unsorted run [5, 2, 5] first.
    const b = createChunkedSessionBuilder({ sessionId: 0, session: meta }, 3);
    const f = b.sink.file('a')!;
    f.line(5, 1);
    f.line(2, 1);
    f.line(5, 3);
    f.line(9, '1/2', 'b');
    const file = b.finish().file('a')!;
    assert.deepEqual([...file.lines], [2, 5, 9]);
    assert.deepEqual([file.value(0), file.value(1), file.value(2)], [1, 3, '1/2']);
    assert.equal(file.type(2), 'b');
  });

  test('shared extras: equal missing-branch lists and complexities are stored once, as copies', () => {
    const b = createChunkedSessionBuilder({ sessionId: 0, session: meta }, 4);
    const f = b.sink.file('a')!;
    const mine = ['1:0'];
    f.line(1, '1/2', 'b', { missingBranches: mine });
    f.line(2, '1/2', 'b', { missingBranches: ['1:0'] });
    f.line(3, 1, 'm', { complexity: [2, 3] });
    f.line(4, 1, 'm', { complexity: [2, 3] });
    f.line(5, '0/2', 'b', { missingBranches: ['1:0', '1:1'], partials: [[0, 4, 1]] });
    const file = b.finish().file('a')!;
    assert.equal(file.extras.get(0), file.extras.get(1));
    assert.equal(file.extras.get(2), file.extras.get(3));
    assert.notEqual(file.extras.get(0)!.missingBranches, mine);
    assert.deepEqual(file.entries(0)[0]!.missingBranches, ['1:0']);
    assert.deepEqual(file.entries(3)[0]!.complexity, [2, 3]);
    assert.deepEqual(file.entries(4)[0]!.partials, [[0, 4, 1]]);
  });

  test("a file's extras answer get, has, size and iteration like a map, across chunks", () => {
    for (const chunk of [3, 1 << 16]) {
      const b = createChunkedSessionBuilder({ sessionId: 0, session: meta }, chunk);
      const a = b.sink.file('a')!;
      const c = b.sink.file('c')!;
      for (let l = 1; l <= 12; l++) {
        a.line(l, l % 3 === 0 ? '1/2' : 1, l % 3 === 0 ? 'b' : undefined, l % 3 === 0 ? { missingBranches: [`${l}`] } : undefined);
        c.line(l, 0, 'm', l % 4 === 0 ? { complexity: l } : undefined);
      }
      // A repeat after the file's records were sealed (chunk 3) makes it a multi-segment file.
      a.line(6, '2/2', 'b', { missingBranches: [] });
      const r = b.finish();
      const fa = r.file('a')!;
      assert.equal(fa.extras.size, 4, `chunk ${chunk}`);
      assert.deepEqual([...fa.extras.keys()], [2, 5, 8, 11]);
      assert.deepEqual(fa.extras.get(8), { missingBranches: ['9'], branchScheme: 'lcov' });
      assert.deepEqual(fa.extras.get(5), { missingBranches: [], branchScheme: 'lcov' });
      assert.equal(fa.extras.get(0), undefined);
      assert.equal(fa.extras.has(11), true);
      assert.equal(fa.extras.has(12), false);
      assert.equal(fa.value(5), '2/2');
      const seen: number[] = [];
      fa.extras.forEach((_x, k, map) => {
        seen.push(k);
        assert.equal(map, fa.extras);
      });
      assert.deepEqual(seen, [2, 5, 8, 11]);
      assert.deepEqual(new Map(fa.extras), new Map([...fa.extras.entries()]));
      assert.deepEqual([...r.file('c')!.extras.values()], [{ complexity: 4 }, { complexity: 8 }, { complexity: 12 }]);
      assert.equal(r.file('c')!.extras.get(3)!.complexity, 4);
    }
  });

  test('a file spread over many chunks keeps every line once, in order', () => {
    const b = createChunkedSessionBuilder({ sessionId: 0, session: meta }, 16);
    const big = b.sink.file('big')!;
    for (let l = 1; l <= 1000; l++) {
      big.line(l, l % 3);
      if (l % 10 === 0) b.sink.file(`small${l}`)!.line(1, 1);
    }
    const r = b.finish();
    const f = r.file('big')!;
    assert.equal(f.lineCount, 1000);
    for (let i = 0; i < 1000; i++) {
      assert.equal(f.lines[i], i + 1);
      assert.equal(f.value(i), (i + 1) % 3);
    }
    assert.equal(r.fileCount, 101);
    assert.deepEqual([...f.offsets].slice(0, 3), [0, 1, 2]);
    assert.equal(f.offsets[1000], 1000);
  });

  test('many small files: each exactly sized, values and types kept', () => {
    const b = createChunkedSessionBuilder({ sessionId: 9, session: meta }, 1024);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const f = b.sink.file(`src/f${i}.ts`)!;
      f.line(1 + (i % 5), i % 4);
      if (i % 3 === 0) f.line(10, '1/2', 'b');
    }
    const r = b.finish();
    assert.equal(r.fileCount, n);
    for (let i = 0; i < n; i += 997) {
      const f = r.file(`src/f${i}.ts`)!;
      const expected = i % 3 === 0 ? 2 : 1;
      assert.equal(f.lineCount, expected);
      assert.equal(f.lines.length, expected);
      assert.equal(f.nums.length, expected);
      assert.equal(f.dens.length, expected);
      assert.equal(f.flags.length, expected);
      assert.equal(f.offsets.length, expected + 1);
      assert.deepEqual([...f.sessionIds], expected === 2 ? [9, 9] : [9]);
      assert.equal(f.valueAt(1 + (i % 5)), i % 4);
      if (expected === 2) {
        assert.equal(f.valueAt(10), '1/2');
        assert.equal(f.type(1), 'b');
      }
    }
  });

  test('the log grows from a small start across its chunk size', () => {
    for (const chunk of [300, 1 << 16]) {
      const b = createChunkedSessionBuilder({ sessionId: 1, session: meta }, chunk);
      const f = b.sink.file('a')!;
      for (let l = 1; l <= 5000; l++) f.line(l, 1);
      const file = b.finish().file('a')!;
      assert.equal(file.lineCount, 5000);
      assert.equal(file.lines[4999], 5000);
    }
  });

  test('finish is idempotent and later lines of a known file do not change the report', () => {
    const b = createChunkedSessionBuilder({ sessionId: 0, session: meta }, 2);
    const f = b.sink.file('a')!;
    f.line(1, 1);
    f.line(2, 0);
    f.line(3, 2);
    const r = b.finish();
    f.line(4, 1);
    f.line(1, 5);
    assert.equal(b.finish(), r);
    assert.deepEqual([...r.file('a')!.lines], [1, 2, 3]);
    assert.throws(() => b.sink.file('new'), /already finished/);
  });

  test('rejects an invalid chunk size', () => {
    assert.throws(() => createChunkedSessionBuilder({ sessionId: 0, session: meta }, 0), RangeError);
  });
});
