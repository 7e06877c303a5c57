import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ReportParseError } from '../../../src/coverage/errors';
import { toParseJson } from '../../../src/coverage/json-output';
import { ReportMergeError } from '../../../src/coverage/merge';
import { CoverageReport } from '../../../src/coverage/report';
import { FileCoverage } from '../../../src/coverage/file-coverage';
import {
  REPORT_FORMAT,
  compressReport,
  mergeSerializedReports,
  readReport,
  readReportHeader,
  serializeReport,
  serializeReportChunks,
} from '../../../src/coverage/report-format';

function sample(): CoverageReport {
  return new CoverageReport(
    [
      FileCoverage.fromEntries('src/b.ts', [
        [1, [{ sessionId: 0, value: 1 }, { sessionId: 2, value: 0 }]],
        [70000, [{ sessionId: 2, value: Number.MAX_SAFE_INTEGER }]],
      ]),
      FileCoverage.fromEntries('src/a ü.ts', [
        [3, [{ sessionId: 0, value: '1/2', type: 'b', missingBranches: ['0:1'] }]],
        [4, [{ sessionId: 2, value: true, partials: [[null, 4, 0], [5, null, 2]] }]],
        [5, [{ sessionId: 0, value: -1, type: 'm', complexity: [2, 3] }, { sessionId: 2, value: 2, type: 'm', complexity: 1 }]],
      ]),
    ],
    [
      { id: 2, format: 'cobertura', file: 'x.xml', flags: ['unit', 'linux'], type: 'carriedforward' },
      { id: 0, format: 'lcov', file: 'lcov.info', time: '2026-01-01T00:00:00Z' },
    ],
  );
}

function assertSameReport(a: CoverageReport, b: CoverageReport): void {
  assert.deepEqual(b.sessions, a.sessions);
  assert.deepEqual(toParseJson(b), toParseJson(a));
  for (const f of a) {
    const g = b.file(f.path)!;
    for (let i = 0; i < f.lineCount; i++) assert.deepEqual(g.entries(i), f.entries(i));
  }
}

function expectParseError(fn: () => unknown, code?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ReportParseError, `expected ReportParseError, got ${String(err)}`);
    assert.equal(err.format, REPORT_FORMAT);
    if (code !== undefined) assert.equal(err.code, code);
    return true;
  });
}

describe('serializeReport / readReport', () => {
  test('round-trips sessions, values, types and extras', () => {
    const r = sample();
    const bytes = serializeReport(r);
    assert.deepEqual([...bytes.subarray(0, 5)], [0x54, 0x52, 0x42, 0x52, 2]);
    assertSameReport(r, readReport(bytes));
  });

  test('is deterministic and independent of construction order', () => {
    const r = sample();
    const shuffled = new CoverageReport([...r.files.values()].reverse(), [...r.sessions].reverse());
    assert.deepEqual(serializeReport(shuffled), serializeReport(r));
    assert.deepEqual(serializeReport(readReport(serializeReport(r))), serializeReport(r));
  });

  test('chunks concatenate to the whole', () => {
    const r = sample();
    const chunks = [...serializeReportChunks(r)];
    assert.equal(chunks.length, 1 + r.fileCount + 1);
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(serializeReport(r)));
  });

  test('gzip storage round-trips and is detected on read', () => {
    const r = sample();
    const gz = compressReport(r);
    assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b]);
    assertSameReport(r, readReport(gz));
  });

  test('a report no larger than plainUpTo is stored plain, a larger one gzipped, and both read back', () => {
    const r = sample();
    const plainSize = serializeReport(r).byteLength;
    const plain = compressReport(r, 6, plainSize);
    assert.deepEqual(Buffer.from(plain), Buffer.from(serializeReport(r)), 'at the bound: the serialized bytes themselves');
    assertSameReport(r, readReport(plain));
    const gz = compressReport(r, 6, plainSize - 1);
    assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b], 'one byte past the bound: gzip');
    assertSameReport(r, readReport(gz));
  });

  test('an empty report', () => {
    const r = new CoverageReport([], []);
    assertSameReport(r, readReport(serializeReport(r)));
  });

  describe('bad input gives typed errors', () => {
    const good = serializeReport(sample());

    test('every truncation', () => {
      for (let n = 0; n < good.length; n++) expectParseError(() => readReport(good.subarray(0, n)));
    });

    test('every single-byte corruption is caught', () => {
      for (let i = 0; i < good.length; i++) {
        const bad = good.slice();
        bad[i] = bad[i]! ^ 0x5a;
        expectParseError(() => readReport(bad));
      }
    });

    test('bad magic, bad version, trailing bytes', () => {
      expectParseError(() => readReport(new TextEncoder().encode('SF:foo\nend_of_record\n')), 'invalid_syntax');
      for (const v of [0, 3]) {
        const bad = good.slice();
        bad[4] = v;
        expectParseError(() => readReport(bad), 'invalid_syntax');
      }
      expectParseError(() => readReport(Buffer.concat([good, Buffer.from([0])])), 'invalid_syntax');
    });

    test('gzip bomb is bounded by maxBytes and names the limit', () => {
      const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024));
      assert.throws(
        () => readReport(bomb, { maxBytes: 1024 * 1024 }),
        (err: unknown) => err instanceof ReportParseError && err.code === 'limit_exceeded' && err.limit === 'maxDecompressedBytes',
      );
    });

    test('truncated gzip', () => {
      const gz = compressReport(sample());
      expectParseError(() => readReport(gz.subarray(0, gz.length - 10)));
    });
  });
});

describe('readReportHeader', () => {
  test('reads the sessions and file count, plain and gzip, and hands back the plain bytes', () => {
    const r = sample();
    const plain = serializeReport(r);
    for (const bytes of [plain, compressReport(r)]) {
      const h = readReportHeader(bytes, { name: 'base' });
      assert.deepEqual(h.sessions, r.sessions);
      assert.equal(h.fileCount, 2);
      assert.equal(h.version, 2);
      assert.equal(h.name, 'base');
      assert.deepEqual(Buffer.from(h.bytes), Buffer.from(plain));
      assertSameReport(r, readReport(h.bytes));
    }
  });

  test('truncation and corruption give typed errors', () => {
    const good = serializeReport(sample());
    for (const n of [0, 3, 5, 9]) expectParseError(() => readReportHeader(good.subarray(0, n)));
    // The header read leaves the checksum to the readers, which check it.
    const bad = good.slice();
    bad[good.length - 2] = bad[good.length - 2]! ^ 1;
    assert.deepEqual(readReportHeader(bad).sessions, sample().sessions);
    assert.throws(() => readReport(bad), /checksum/);
    assert.throws(() => mergeSerializedReports([bad]), /checksum/);
  });

  test('a gzip bomb stops at maxBytes', () => {
    const isLimit = (err: unknown) =>
      err instanceof ReportParseError && err.code === 'limit_exceeded' && err.limit === 'maxDecompressedBytes';
    // A valid large report: the decompressed size is capped.
    const lines: Array<[number, Array<{ sessionId: number; value: number }>]> = [];
    for (let i = 1; i <= 20000; i++) lines.push([i, [{ sessionId: 0, value: i }]]);
    const big = compressReport(new CoverageReport([FileCoverage.fromEntries('big', lines)], [{ id: 0 }]));
    assert.throws(() => readReportHeader(big, { maxBytes: 16 * 1024 }), isLimit);
    // A record announcing more than the report holds is refused.
    const oneFile = new CoverageReport([FileCoverage.fromEntries('x', [[1, [{ sessionId: 0, value: 1 }]]])], [{ id: 0 }]);
    const header = [...serializeReportChunks(oneFile)].slice(0, 1);
    const huge = gzipSync(Buffer.concat([...header, Buffer.from([0x80, 0x80, 0x80, 0x40]), Buffer.alloc(4 * 1024 * 1024)]));
    assert.throws(() => readReportHeader(huge, { maxBytes: 1024 * 1024 }), isLimit);
    expectParseError(() => readReport(huge), 'truncated');
    // Zeros are not a report at all.
    expectParseError(() => readReportHeader(gzipSync(Buffer.alloc(8 * 1024 * 1024))), 'invalid_syntax');
  });
});

describe('mergeSerializedReports', () => {
  const one = () =>
    new CoverageReport([FileCoverage.fromEntries('a', [[1, [{ sessionId: 1, value: 0 }]]])], [{ id: 1, format: 'lcov' }]);

  test('merges stored reports path by path', () => {
    const r = mergeSerializedReports([serializeReport(sample()), compressReport(one())]);
    const back = readReport(r.bytes);
    assert.deepEqual(back.paths(), ['a', 'src/a ü.ts', 'src/b.ts']);
    assert.deepEqual(back.sessionIds(), [0, 1, 2]);
    assert.equal(r.fileCount, 3);
    assert.equal(r.totals.files, 3);
    assert.equal(r.totals.sessions, 3);
  });

  test('rejects duplicate sessions, corruption and truncation with typed errors', () => {
    assert.throws(() => mergeSerializedReports([serializeReport(one()), serializeReport(one())]), ReportMergeError);
    const good = serializeReport(sample());
    for (const n of [0, 4, 8, 20, good.length - 1]) {
      expectParseError(() => mergeSerializedReports([serializeReport(one()), good.subarray(0, n)]));
    }
    for (let i = 0; i < good.length; i += 7) {
      const bad = good.slice();
      bad[i] = bad[i]! ^ 0x21;
      expectParseError(() => mergeSerializedReports([bad]));
    }
  });

  test('bounds decompressed size', () => {
    assert.throws(
      () => mergeSerializedReports([gzipSync(Buffer.alloc(4 * 1024 * 1024))], { maxBytes: 1024 * 1024 }),
      (err: unknown) => err instanceof ReportParseError && err.limit === 'maxDecompressedBytes',
    );
  });
});

describe('robustness (fast-check)', () => {
  const good = serializeReport(sample());
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  );
  type Mutation = { kind: 'flip'; at: number; bits: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: Uint8Array };
  function mutate(b: Uint8Array, ms: Mutation[]): Uint8Array {
    let out = b.slice();
    for (const m of ms) {
      const at = m.at % (out.length + 1);
      if (m.kind === 'flip' && at < out.length) out[at] = out[at]! ^ m.bits;
      else if (m.kind === 'cut') out = out.slice(0, at);
      else if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    }
    return out;
  }
  const onlyTyped = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof ReportParseError)) throw err;
    }
  };

  test('mutated reports either read or fail with a ReportParseError', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
        const bad = mutate(good, ms);
        onlyTyped(() => readReport(bad));
        onlyTyped(() => mergeSerializedReports([bad]));
      }),
      { numRuns: 300 },
    );
  });

  test('the header read agrees with the whole reader on mutated reports', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), (ms, gzip) => {
        const bad = mutate(good, ms);
        const input = gzip ? gzipSync(bad, { level: 1 }) : bad;
        let whole: CoverageReport | undefined;
        onlyTyped(() => (whole = readReport(input)));
        onlyTyped(() => {
          const h = readReportHeader(input);
          if (whole !== undefined) {
            assert.deepEqual(h.sessions, whole.sessions);
            assert.equal(h.fileCount, whole.fileCount);
          }
        });
        if (whole !== undefined) assert.doesNotThrow(() => readReportHeader(input));
      }),
      { numRuns: 300 },
    );
  });

  test('sessions with undefined members read back equal', () => {
    const r = new CoverageReport(
      [FileCoverage.fromEntries('a', [[1, [{ sessionId: 4, value: 1 }]]])],
      [{ id: 4, name: undefined, flags: ['x'], type: 'uploaded' }],
    );
    assert.deepEqual(readReport(serializeReport(r)).sessions, r.sessions);
  });
});

describe('version 1 reports (before branch schemes)', () => {
  // Written by the version-1 code with what it read back (test/fixtures/report/README.md).
  const dir = path.resolve(__dirname, '../../fixtures/report');
  const v1 = new Uint8Array(readFileSync(path.join(dir, 'v1-sample.trbr')));
  const expected = JSON.parse(readFileSync(path.join(dir, 'v1-sample.json'), 'utf8')) as {
    sessions: unknown;
    lines: Record<string, Record<string, { value: unknown; entries: unknown }>>;
    parse: unknown;
  };

  test('reads back the same: sessions, entries, derived values, totals', () => {
    assert.equal(v1[4], 1);
    for (const r of [readReport(v1), readReport(gzipSync(v1))]) {
      assert.deepEqual(r.sessions, expected.sessions);
      const lines: Record<string, Record<string, unknown>> = {};
      for (const f of r) {
        lines[f.path] = {};
        for (let i = 0; i < f.lineCount; i++) lines[f.path]![f.lines[i]!] = { value: f.value(i), entries: f.entries(i) };
      }
      assert.deepEqual(lines, expected.lines);
      // What version 1 printed, but for two additions since: per-flag totals, and a carried session says so.
      const printed = expected.parse as { sessions: Array<Record<string, unknown>> };
      const carried = new Set(r.sessions.filter((s) => s.type === 'carriedforward').map((s) => s.id));
      assert.equal(carried.size, 1, 'the sample has a carried session');
      const { flags, ...parse } = toParseJson(r);
      assert.deepEqual(parse, { ...printed, sessions: printed.sessions.map((s) => (carried.has(s.id as number) ? { ...s, type: 'carriedforward' } : s)) });
      assert.deepEqual(Object.keys(flags ?? {}), ['unit']);
    }
  });

  test('its header reads and it merges like a current one; rewritten as version 2 it reads back equal', () => {
    const whole = readReport(v1);
    const h = readReportHeader(v1);
    assert.equal(h.version, 1);
    assert.deepEqual(h.sessions, whole.sessions);
    assert.equal(h.fileCount, whole.fileCount);
    assertSameReport(whole, readReport(mergeSerializedReports([v1]).bytes));
    const v2 = serializeReport(whole);
    assert.equal(v2[4], 2);
    assertSameReport(whole, readReport(v2));
  });

  test('version 1 extras may not carry a scheme', () => {
    // The same report with a scheme, written as version 2, then relabelled version 1.
    const r = new CoverageReport(
      [FileCoverage.fromEntries('a', [[1, [{ sessionId: 0, value: '1/2', missingBranches: ['x'], branchScheme: 'lcov' }]]])],
      [{ id: 0 }],
    );
    const bytes = serializeReport(r);
    assertSameReport(r, readReport(bytes));
    const relabelled = bytes.slice();
    relabelled[4] = 1;
    const body = relabelled.length - 4;
    new DataView(relabelled.buffer).setUint32(body, crc32(relabelled.subarray(0, body)) >>> 0, true);
    expectParseError(() => readReport(relabelled), 'invalid_syntax');
  });
});
