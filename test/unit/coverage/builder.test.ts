import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSessionBuilder } from '../../../src/coverage/builder';
import { ReportParseError } from '../../../src/coverage/errors';
import type { PathResolver } from '../../../src/coverage/types';

const meta = { format: 'lcov', file: 'coverage/lcov.info' };

function lineMap(report: ReturnType<ReturnType<typeof createSessionBuilder>['finish']>, path: string) {
  const f = report.file(path);
  assert.ok(f, `file ${path} present`);
  const out: Record<number, unknown> = {};
  for (let i = 0; i < f.lineCount; i++) out[f.lines[i]!] = f.value(i);
  return out;
}

describe('createSessionBuilder', () => {
  test('records lines per file with the session id and metadata', () => {
    const b = createSessionBuilder({ sessionId: 3, session: meta });
    const f = b.sink.file('src/a.ts')!;
    f.line(1, 4);
    f.line(2, 0);
    f.line(3, '1/2', 'b', { missingBranches: ['0:1'] });
    f.line(4, 1, 'm');
    const r = b.finish();
    assert.deepEqual(r.sessions, [{ id: 3, format: 'lcov', file: 'coverage/lcov.info' }]);
    assert.deepEqual(lineMap(r, 'src/a.ts'), { 1: 4, 2: 0, 3: '1/2', 4: 1 });
    const file = r.file('src/a.ts')!;
    assert.deepEqual([...file.sessionIds], [3, 3, 3, 3]);
    assert.equal(file.type(2), 'b');
    assert.equal(file.type(3), 'm');
    // Missing-branch ids are stamped with the session's scheme (here its format).
    assert.deepEqual(file.entries(2), [{ sessionId: 3, value: '1/2', type: 'b', missingBranches: ['0:1'], branchScheme: 'lcov' }]);
  });

  test('a repeated line merges with the merge rule (max, not sum)', () => {
    const b = createSessionBuilder({ sessionId: 0, session: meta });
    const f = b.sink.file('a')!;
    f.line(7, 2);
    f.line(7, 5);
    f.line(7, 1);
    assert.deepEqual(lineMap(b.finish(), 'a'), { 7: 5 });
  });

  test('repeated branch records intersect their missing branches', () => {
    const b = createSessionBuilder({ sessionId: 0, session: meta });
    const f = b.sink.file('a')!;
    f.line(2, '1/2', 'b', { missingBranches: ['1'] });
    f.line(2, '1/2', 'b', { missingBranches: ['2'] });
    const file = b.finish().file('a')!;
    assert.equal(file.value(0), '2/2');
    assert.deepEqual(file.entries(0)[0]!.missingBranches, []);
  });

  test('out-of-order lines and a reopened file are sorted and merged in arrival order', () => {
    const b = createSessionBuilder({ sessionId: 0, session: meta });
    const f = b.sink.file('a')!;
    f.line(10, 0);
    f.line(2, 1);
    f.line(5, true);
    b.sink.file('other')!.line(1, 1);
    const again = b.sink.file('a')!;
    again.line(2, 0);
    again.line(10, 3);
    again.line(5, 0);
    again.line(1, '0/2', 'b');
    const r = b.finish();
    assert.deepEqual(lineMap(r, 'a'), { 1: '0/2', 2: 1, 5: true, 10: 3 });
    assert.deepEqual([...r.file('a')!.lines], [1, 2, 5, 10]);
    assert.equal(r.file('a')!.type(0), 'b');
    assert.deepEqual(r.paths(), ['a', 'other']);
  });

  test('interleaved files keep their own order and merge repeats of their last line', () => {
    const b = createSessionBuilder({ sessionId: 0, session: meta });
    const a = b.sink.file('a')!;
    const c = b.sink.file('c')!;
    a.line(1, 1);
    c.line(5, 0);
    a.line(2, 0);
    c.line(6, '1/2', 'b', { missingBranches: ['x'] });
    a.line(2, 4); // repeat of a's last line, not of the last record overall
    c.line(6, '1/2', 'b', { missingBranches: ['y'] });
    a.line(3, 0);
    const r = b.finish();
    assert.deepEqual(lineMap(r, 'a'), { 1: 1, 2: 4, 3: 0 });
    assert.deepEqual(lineMap(r, 'c'), { 5: 0, 6: '2/2' });
    assert.deepEqual(r.file('c')!.entries(1), [{ sessionId: 0, value: '2/2', type: 'b', missingBranches: [], branchScheme: 'lcov' }]);
  });

  test('without a resolver paths are kept as given', () => {
    const b = createSessionBuilder({ sessionId: 0, session: meta });
    b.sink.file('./x\\y.ts')!.line(1, 1);
    assert.deepEqual(b.finish().paths(), ['./x\\y.ts']);
  });

  test('the resolver maps paths, drops nulls and counts distinct dropped paths', () => {
    const calls: string[] = [];
    let bases: string[] = [];
    const resolver: PathResolver = {
      resolve(raw) {
        calls.push(raw);
        return raw.startsWith('vendor/') ? null : raw.replace(/^\/ci\//, '');
      },
      setSourceBases(b) {
        bases = b;
      },
    };
    const b = createSessionBuilder({ sessionId: 1, session: meta, resolver });
    b.sink.sourceBases?.(['/ci/src']);
    assert.deepEqual(bases, ['/ci/src']);
    assert.equal(b.sink.file('vendor/x.js'), null);
    assert.equal(b.sink.file('vendor/x.js'), null);
    assert.equal(b.sink.file('vendor/y.js'), null);
    assert.equal(b.dropped, 2);
    b.sink.file('/ci/a.ts')!.line(1, 1);
    // Two raw paths resolving to one file share it.
    b.sink.file('a.ts')!.line(1, 9);
    b.sink.file('/ci/a.ts')!.line(2, 0);
    assert.deepEqual(calls, ['vendor/x.js', 'vendor/y.js', '/ci/a.ts', 'a.ts']);
    const r = b.finish();
    assert.deepEqual(r.paths(), ['a.ts']);
    assert.deepEqual(lineMap(r, 'a.ts'), { 1: 9, 2: 0 });
  });

  test('files without lines are left out', () => {
    const b = createSessionBuilder({ sessionId: 0, session: meta });
    b.sink.file('empty');
    b.sink.file('full')!.line(1, 0);
    assert.deepEqual(b.finish().paths(), ['full']);
  });

  test('finish is idempotent', () => {
    const b = createSessionBuilder({ sessionId: 0, session: meta });
    b.sink.file('a')!.line(1, 1);
    assert.equal(b.finish(), b.finish());
  });

  test('hit counts above maxHits are clamped', () => {
    const b = createSessionBuilder({ sessionId: 0, session: meta, limits: { maxHits: 1000 } });
    b.sink.file('a')!.line(1, 123456);
    assert.equal(b.finish().file('a')!.value(0), 1000);
  });

  describe('typed errors', () => {
    function expectError(fn: () => void, code: string, limit?: string) {
      assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof ReportParseError, String(err));
        assert.equal(err.code, code);
        assert.equal(err.file, 'coverage/lcov.info');
        assert.equal(err.format, 'lcov');
        if (limit !== undefined) assert.equal(err.limit, limit);
        return true;
      });
    }

    test('maxFiles', () => {
      const b = createSessionBuilder({ sessionId: 0, session: meta, limits: { maxFiles: 2 } });
      b.sink.file('a');
      b.sink.file('b');
      b.sink.file('a');
      expectError(() => b.sink.file('c'), 'limit_exceeded', 'maxFiles');
    });

    test('maxLineNumber', () => {
      const b = createSessionBuilder({ sessionId: 0, session: meta, limits: { maxLineNumber: 100 } });
      const f = b.sink.file('a')!;
      f.line(100, 1);
      expectError(() => f.line(101, 1), 'limit_exceeded', 'maxLineNumber');
    });

    test('bad line numbers and values', () => {
      const b = createSessionBuilder({ sessionId: 0, session: meta });
      const f = b.sink.file('a')!;
      expectError(() => f.line(0, 1), 'invalid_number');
      expectError(() => f.line(-3, 1), 'invalid_number');
      expectError(() => f.line(1.5, 1), 'invalid_number');
      expectError(() => f.line(NaN, 1), 'invalid_number');
      expectError(() => f.line(1, -2), 'invalid_number');
      expectError(() => f.line(1, NaN), 'invalid_number');
      expectError(() => f.line(1, 1e300), 'invalid_number');
      expectError(() => f.line(1, 'x/2'), 'invalid_number');
    });
  });
});
