import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createSessionBuilder } from '../../../src/coverage/builder';
import { toParseJson } from '../../../src/coverage/json-output';
import { mergeReports } from '../../../src/coverage/merge';
import { ratio } from '../../../src/coverage/ratio';
import { CoverageReport } from '../../../src/coverage/report';
import { FileCoverage } from '../../../src/coverage/file-coverage';
import { compressReport, mergeSerializedReports, readReport, serializeReport } from '../../../src/coverage/report-format';
import { fileTotals, reportTotals } from '../../../src/coverage/totals';
import type { Generator, LineExtras, LineType, LineValue } from '../../../src/coverage/types';
import { branchScheme, foldSessionValues, type SessionEntry } from '../../../src/coverage/session-entries';
import { classifyValue, type LineClass } from '../../../src/coverage/values';

/** One `sink.line` call. */
interface Call {
  path: string;
  line: number;
  value: LineValue;
  type: LineType;
  extras?: LineExtras;
}

const valueArb: fc.Arbitrary<LineValue> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 4 }) },
  { weight: 1, arbitrary: fc.constant(-1) },
  { weight: 1, arbitrary: fc.constant<true>(true) },
  { weight: 1, arbitrary: fc.constant(2 ** 40) },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 0, max: 4 }).chain((b) => fc.integer({ min: 0, max: b }).map((a) => `${a}/${b}`)),
  },
);

const extrasArb: fc.Arbitrary<LineExtras | undefined> = fc.option(
  fc.record(
    {
      missingBranches: fc.subarray(['0', '1', '2', '3']),
      partials: fc.array(
        fc.tuple(fc.option(fc.nat(20), { nil: null }), fc.option(fc.nat(40), { nil: null }), fc.nat(3)),
        { maxLength: 2 },
      ),
      complexity: fc.oneof(fc.nat(5), fc.tuple(fc.nat(5), fc.nat(5))),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined, freq: 2 },
);

const callArb: fc.Arbitrary<Call> = fc.record({
  path: fc.constantFrom('a.ts', 'b/c.py', 'b/d.go', 'z'),
  line: fc.integer({ min: 1, max: 12 }),
  value: valueArb,
  type: fc.constantFrom<LineType>('line', 'line', 'b', 'm'),
  extras: extrasArb,
});

/**
 * Sessions use four branch-id schemes (by id), so lines mix schemes as often as they share one:
 * LCOV, gcovr's Cobertura, Cobertura of an unknown tool, Istanbul JSON.
 */
const SCHEMES: ReadonlyArray<[format: string, generator: Generator | undefined]> = [
  ['lcov', undefined],
  ['cobertura', 'gcovr'],
  ['cobertura', undefined],
  ['istanbul', undefined],
];

function buildSession(id: number, calls: Call[]): CoverageReport {
  const [format, generator] = SCHEMES[id % SCHEMES.length]!;
  const b = createSessionBuilder({ sessionId: id, session: { format, file: `upload-${id}` } });
  if (generator !== undefined) b.sink.generator!(generator);
  for (const c of calls) {
    // Copies: the sink takes ownership of extras arrays.
    b.sink.file(c.path)!.line(c.line, c.value, c.type, c.extras && structuredClone(c.extras));
  }
  return b.finish();
}

/** 1..n sessions with distinct, non-contiguous ids. */
const sessionsArb = (maxSessions: number): fc.Arbitrary<CoverageReport[]> =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: maxSessions })
    .chain((ids) =>
      fc.tuple(...ids.map(() => fc.array(callArb, { minLength: 1, maxLength: 25 }))).map((callLists) =>
        ids.map((id, i) => buildSession(id, callLists[i]!)),
      ),
    );

const bytes = (r: CoverageReport) => Buffer.from(serializeReport(r));

/** Merges `reports` following a random tree shape drawn from `splits`. */
function mergeTree(reports: CoverageReport[], splits: number[]): CoverageReport {
  if (reports.length <= 1) return mergeReports(reports);
  const cut = 1 + ((splits[0] ?? 0) % (reports.length - 1));
  const rest = splits.slice(1);
  return mergeReports([mergeTree(reports.slice(0, cut), rest), mergeTree(reports.slice(cut), rest.reverse())]);
}

const RUNS = { numRuns: 150 };

describe('merge properties', () => {
  test('commutative', () => {
    fc.assert(
      fc.property(sessionsArb(2), ([a, b]) => {
        if (b === undefined) return;
        assert.deepEqual(bytes(mergeReports([a!, b])), bytes(mergeReports([b, a!])));
      }),
      RUNS,
    );
  });

  test('associative', () => {
    fc.assert(
      fc.property(sessionsArb(3), (rs) => {
        if (rs.length < 3) return;
        const [a, b, c] = rs as [CoverageReport, CoverageReport, CoverageReport];
        assert.deepEqual(
          bytes(mergeReports([mergeReports([a, b]), c])),
          bytes(mergeReports([a, mergeReports([b, c])])),
        );
      }),
      RUNS,
    );
  });

  test('N reports in any order and tree shape serialize byte-identically', () => {
    fc.assert(
      fc.property(
        sessionsArb(7).chain((rs) =>
          fc.tuple(
            fc.constant(rs),
            fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }),
            fc.array(fc.nat(100), { minLength: 8, maxLength: 8 }),
          ),
        ),
        ([rs, shuffled, splits]) => {
          const flat = bytes(mergeReports(rs));
          assert.deepEqual(bytes(mergeTree(shuffled, splits)), flat);
          assert.deepEqual(bytes(mergeTree([...shuffled].reverse(), splits.map((s) => s + 1))), flat);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('merging equals building all sessions at once', () => {
    fc.assert(
      fc.property(sessionsArb(4), (rs) => {
        const merged = mergeReports(rs);
        const byPath = new Map<string, Array<[number, SessionEntry[]]>>();
        for (const r of rs) {
          for (const f of r) {
            const list = byPath.get(f.path) ?? [];
            for (let i = 0; i < f.lineCount; i++) list.push([f.lines[i]!, f.entries(i)]);
            byPath.set(f.path, list);
          }
        }
        const direct = new CoverageReport(
          [...byPath].map(([p, ls]) => FileCoverage.fromEntries(p, ls)),
          rs.flatMap((r) => r.sessions),
        );
        assert.deepEqual(bytes(merged), bytes(direct));
      }),
      RUNS,
    );
  });
});

describe('derivation and totals properties', () => {
  test('line values and totals equal a recomputation from the session entries', () => {
    fc.assert(
      fc.property(sessionsArb(5), (rs) => {
        const r = mergeReports(rs);
        const json = toParseJson(r);
        const sum = { lines: 0, hits: 0, misses: 0, partials: 0, branches: 0, methods: 0 };
        for (const f of r) {
          const t = { lines: 0, hits: 0, misses: 0, partials: 0, branches: 0, methods: 0 };
          for (let i = 0; i < f.lineCount; i++) {
            const entries = f.entries(i);
            const ids = entries.map((e) => e.sessionId);
            assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'entries in session order');
            assert.equal(new Set(ids).size, ids.length, 'one entry per session');
            const value = foldSessionValues(entries)!;
            assert.deepEqual(f.value(i), value);
            assert.deepEqual(json.files[f.path]!.lines[String(f.lines[i])], value);
            const type = entries.find((e) => e.type !== undefined && e.type !== 'line')?.type ?? 'line';
            assert.equal(f.type(i), type);
            const cls = classifyValue(value);
            if (cls === 'skipped') continue;
            t.lines++;
            if (cls === 'hit') t.hits++;
            else if (cls === 'miss') t.misses++;
            else t.partials++;
            if (type === 'b') t.branches++;
            if (type === 'm') t.methods++;
          }
          assert.deepEqual(fileTotals(f), { files: 1, ...t, coverage: ratio(t.hits, t.lines) });
          for (const k of Object.keys(sum) as Array<keyof typeof sum>) sum[k] += t[k];
        }
        assert.deepEqual(reportTotals(r), {
          files: r.fileCount,
          ...sum,
          coverage: ratio(sum.hits, sum.lines),
          sessions: rs.length,
        });
        assert.deepEqual(json.totals, { files: r.fileCount, ...sum, coverage: ratio(sum.hits, sum.lines) });
      }),
      RUNS,
    );
  });
});

describe('several branch-id schemes on one line', () => {
  const RANK: Record<LineClass, number> = { skipped: -1, miss: 0, partial: 1, hit: 2 };

  /** One session's record of a branch line: a of b taken, the b - a missing ids named its way. */
  const sideArb = fc.integer({ min: 1, max: 4 }).chain((b) =>
    fc.record({ taken: fc.integer({ min: 0, max: b }), total: fc.constant(b), prefix: fc.constantFrom('', 'x', '0:') }),
  );

  test('the merged class is the best any one scheme gives; the value is max taken / (max taken + min missing)', () => {
    fc.assert(
      fc.property(fc.array(sideArb, { minLength: 2, maxLength: SCHEMES.length }), fc.nat(1000), (sides, offset) => {
        // Distinct schemes: session i uses SCHEMES[i]; ids never comparable across them.
        const reports = sides.map((side, i) => {
          const id = i + SCHEMES.length * (offset % 5);
          const missing = Array.from({ length: side.total - side.taken }, (_, k) => `${side.prefix}${side.taken + k}`);
          return buildSession(id, [
            { path: 'a.c', line: 3, value: `${side.taken}/${side.total}`, type: 'b', extras: { missingBranches: missing } },
          ]);
        });
        const merged = mergeReports(reports).file('a.c')!;
        const schemes = merged.entries(0).map((e) => e.branchScheme);
        const [f0, g0] = SCHEMES[0]!;
        assert.equal(schemes[0], branchScheme(f0, g0));
        assert.equal(new Set(schemes).size, sides.length);
        const best = Math.max(...sides.map((x) => RANK[classifyValue(`${x.taken}/${x.total}`)]));
        assert.equal(RANK[classifyValue(merged.value(0))], best);
        const taken = Math.max(...sides.map((x) => x.taken));
        const least = Math.min(...sides.map((x) => x.total - x.taken));
        // A side that took every branch makes the line a hit, as a full fraction does today.
        if (least > 0) assert.equal(merged.value(0), `${taken}/${taken + least}`);
      }),
      RUNS,
    );
  });

  test('complementary lists of one scheme still intersect, whatever other schemes say', () => {
    const line = (id: number, value: string, missing: string[]): CoverageReport =>
      buildSession(id, [{ path: 'a.c', line: 3, value, type: 'b', extras: { missingBranches: missing } }]);
    // Sessions 0 and 4 are both LCOV: together they took both branches. Session 1 (gcovr) did not.
    const r = mergeReports([line(0, '1/2', ['0:1']), line(4, '1/2', ['0:0']), line(1, '1/2', ['0:jump'])]);
    assert.equal(r.file('a.c')!.value(0), '2/2');
    // Without the second LCOV session the line stays partial (Codecov would say "2/2").
    assert.equal(mergeReports([line(0, '1/2', ['0:1']), line(1, '1/2', ['0:jump'])]).file('a.c')!.value(0), '1/2');
  });
});

describe('serialization properties', () => {
  test('read(serialize(r)) is r, and serializes to the same bytes', () => {
    fc.assert(
      fc.property(sessionsArb(5), (rs) => {
        const r = mergeReports(rs);
        const b = serializeReport(r);
        const back = readReport(b);
        assert.deepEqual(back.sessions, r.sessions);
        assert.deepEqual(back.paths(), r.paths());
        for (const f of r) {
          const g = back.file(f.path)!;
          assert.equal(g.lineCount, f.lineCount);
          for (let i = 0; i < f.lineCount; i++) assert.deepEqual(g.entries(i), f.entries(i));
        }
        assert.deepEqual(toParseJson(back), toParseJson(r));
        assert.deepEqual(Buffer.from(serializeReport(back)), Buffer.from(b));
      }),
      RUNS,
    );
  });
});

describe('merging serialized reports', () => {
  test('equals serializing the in-memory merge, plain or gzip inputs, totals included', () => {
    fc.assert(
      fc.property(sessionsArb(6), fc.boolean(), (rs, gzip) => {
        const expected = mergeReports(rs);
        const inputs = rs.map((r) => (gzip ? compressReport(r, 1) : serializeReport(r)));
        const got = mergeSerializedReports(inputs);
        assert.deepEqual(Buffer.from(got.bytes), bytes(expected));
        assert.deepEqual(got.totals, reportTotals(expected));
        assert.equal(got.fileCount, expected.fileCount);
        assert.deepEqual(got.sessions, expected.sessions);
      }),
      { numRuns: 100 },
    );
  });
});
