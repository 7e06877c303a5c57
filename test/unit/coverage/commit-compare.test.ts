/**
 * compareCommits against a hand-computed example: two reports and a diff written by hand, every
 * expected figure worked out in the comments. Then flags: per-flag totals and a comparison
 * restricted to one flag, also by hand.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCommits, coverageDelta } from '../../../src/coverage/commit-compare';
import { flagTotals } from '../../../src/coverage/flags';
import { toParseJson } from '../../../src/coverage/json-output';
import { createPathResolver } from '../../../src/coverage/paths';
import { CoverageReport, type Session } from '../../../src/coverage/report';
import { FileCoverage } from '../../../src/coverage/file-coverage';
import type { LineValue } from '../../../src/coverage/types';
import { parseUnifiedDiff } from '../../../src/coverage/unified-diff';

/** A file whose lines each have one entry per given session: `{line: [value of session 0, of session 1, ...]}`. */
function file(path: string, lines: Record<number, LineValue | readonly (LineValue | undefined)[]>): FileCoverage {
  return FileCoverage.fromEntries(
    path,
    Object.entries(lines).map(([n, v]) => [
      Number(n),
      (Array.isArray(v) ? v : [v]).flatMap((value: LineValue | undefined, sessionId: number) => (value === undefined ? [] : [{ sessionId, value }])),
    ]),
  );
}
const report = (files: FileCoverage[], sessions: Session[] = [{ id: 0 }]) => new CoverageReport(files, sessions);

const MOVED_1 = 'export const movedValue = computeSomething(1);';
const MOVED_2 = 'export const otherValue = computeSomething(2);';

// The diff's paths are under `app/`; the repository's fix `app/::` strips it, as for reports.
const DIFF = [
  'diff --git a/app/src/a.ts b/app/src/a.ts',
  'index 1111111..2222222 100644',
  '--- a/app/src/a.ts',
  '+++ b/app/src/a.ts',
  '@@ -1,4 +1,8 @@',
  ' a1',
  '-a2',
  '+A2',
  ' a3',
  ' a4',
  '+new5',
  '+new6',
  '+',
  '+br8',
  'diff --git a/app/src/new.ts b/app/src/new.ts',
  'new file mode 100644',
  'index 0000000..3333333',
  '--- /dev/null',
  '+++ b/app/src/new.ts',
  '@@ -0,0 +1,5 @@',
  '+n1',
  '+n2',
  '+n3',
  `+${MOVED_1}`,
  `+${MOVED_2}`,
  'diff --git a/app/src/old.ts b/app/src/old.ts',
  'deleted file mode 100644',
  'index 4444444..0000000',
  '--- a/app/src/old.ts',
  '+++ /dev/null',
  '@@ -1,2 +0,0 @@',
  `-${MOVED_1}`,
  `-${MOVED_2}`,
  'diff --git a/app/src/ren.ts b/app/src/renamed.ts',
  'similarity index 100%',
  'rename from app/src/ren.ts',
  'rename to app/src/renamed.ts',
  'diff --git a/app/README.md b/app/README.md',
  '--- a/app/README.md',
  '+++ b/app/README.md',
  '@@ -1 +1 @@',
  '-old words',
  '+new words',
  '',
].join('\n');

// base: a.ts 4 lines (1 2 3 4 = hit miss hit hit: 3 hits, 1 miss, 75%); old.ts 2 hits (100%);
// same.ts 1 hit; ren.ts 1 hit 1 miss (50%). Total 9 lines, 7 hits, 2 misses: 7/9 = 77.77778.
const BASE = report([
  file('src/a.ts', { 1: 1, 2: 0, 3: 1, 4: 1 }),
  file('src/old.ts', { 1: 3, 2: 3 }),
  file('src/same.ts', { 1: 1 }),
  file('src/ren.ts', { 1: 1, 2: 0 }),
]);
// head: a.ts lines 1-6 and 8 (7 blank, not in the report): hits 1 3 4 6, misses 2 5, partial 8:
// 7 lines, 4/7 = 57.14286; new.ts 1 2 5 hit, 3 4 missed: 5 lines, 3/5 = 60.00000; same.ts as
// before; renamed.ts both hit (100). Total 15 lines, 10 hits, 4 misses, 1 partial: 66.66667.
const HEAD = report([
  file('src/a.ts', { 1: 1, 2: 0, 3: 1, 4: 1, 5: 0, 6: 2, 8: '1/2' }),
  file('src/new.ts', { 1: 1, 2: 1, 3: 0, 4: 0, 5: 1 }),
  file('src/same.ts', { 1: 1 }),
  file('src/renamed.ts', { 1: 1, 2: 1 }),
]);

const t = (lines: number, hits: number, misses: number, partials: number, coverage: string) => ({ files: 1, lines, hits, misses, partials, branches: 0, methods: 0, coverage });

describe('compareCommits', () => {
  test('the hand-computed example', () => {
    const resolver = createPathResolver({ fixes: ['app/::'] });
    const c = compareCommits({ sha: 'b'.repeat(40), report: BASE }, { sha: 'h'.repeat(40), report: HEAD }, parseUnifiedDiff(DIFF), {
      resolvePath: (p) => resolver.resolve(p),
    });
    assert.deepEqual(c.base, { sha: 'b'.repeat(40), totals: { files: 4, lines: 9, hits: 7, misses: 2, partials: 0, branches: 0, methods: 0, coverage: '77.77778', sessions: 1 } });
    assert.deepEqual(c.head, { sha: 'h'.repeat(40), totals: { files: 4, lines: 15, hits: 10, misses: 4, partials: 1, branches: 0, methods: 0, coverage: '66.66667', sessions: 1 } });
    // 66.66667 - 77.77778
    assert.equal(c.coverageDelta, '-11.11111');
    // Patch lines: a.ts 2 5 6 7 8 (7 is not in the report: not coverable) = miss, miss, hit,
    // partial; new.ts 1 2 3 (4 and 5 moved from old.ts: not new) = hit, hit, miss; renamed.ts
    // none; README.md is in no report. 7 lines, 3 hits, 3 misses, 1 partial: 3/7 = 42.85714.
    assert.deepEqual(c.patch, { lines: 7, hits: 3, misses: 3, partials: 1, coverage: '42.85714' });
    assert.deepEqual(c.files, [
      // 57.14286 - 75
      { path: 'src/a.ts', change: 'changed', base: t(4, 3, 1, 0, '75.00000'), head: t(7, 4, 2, 1, '57.14286'), coverageDelta: '-17.85714', patch: { lines: 4, hits: 1, misses: 2, partials: 1, coverage: '25.00000' } },
      { path: 'src/new.ts', change: 'added', base: null, head: t(5, 3, 2, 0, '60.00000'), coverageDelta: null, patch: { lines: 3, hits: 2, misses: 1, partials: 0, coverage: '66.66667' } },
      { path: 'src/old.ts', change: 'removed', base: t(2, 2, 0, 0, '100'), head: null, coverageDelta: null, patch: null },
      // 100 - 50; renamed without a hunk: touched, no patch line.
      { path: 'src/renamed.ts', basePath: 'src/ren.ts', change: 'changed', base: t(2, 1, 1, 0, '50.00000'), head: t(2, 2, 0, 0, '100'), coverageDelta: '50.00000', patch: { lines: 0, hits: 0, misses: 0, partials: 0, coverage: null } },
    ]);
    assert.equal(c.flag, undefined);
  });

  test('without a diff: no patch, renames are a removal and an addition, unchanged files left out', () => {
    const c = compareCommits({ sha: 'b', report: BASE }, { sha: 'h', report: HEAD });
    assert.equal(c.patch, null);
    assert.deepEqual(
      c.files.map((f) => [f.path, f.change, f.patch]),
      [
        ['src/a.ts', 'changed', null],
        ['src/new.ts', 'added', null],
        ['src/old.ts', 'removed', null],
        ['src/ren.ts', 'removed', null],
        ['src/renamed.ts', 'added', null],
      ],
    );
  });

  test('coverage deltas are exact in hundred-thousandths', () => {
    assert.equal(coverageDelta('0', '100'), '100.00000');
    assert.equal(coverageDelta('64.28571', '63.48571'), '-0.80000');
    assert.equal(coverageDelta('33.33333', '33.33333'), '0.00000');
    assert.equal(coverageDelta('99.99999', '100'), '0.00001');
  });
});

describe('flags', () => {
  // Session 0 carries `unit`, session 1 `integration`.
  const sessions: Session[] = [
    { id: 0, flags: ['unit'] },
    { id: 1, flags: ['integration'] },
  ];
  // Per line [session 0, session 1]: line 1 hit by both; 2 only by integration (unit: miss);
  // 3 missed by both; 4 only in unit's upload, hit.
  const HEAD_F = report([file('x.ts', { 1: [1, 1], 2: [0, 5], 3: [0, 0], 4: [2, undefined] })], sessions);
  const BASE_F = report([file('x.ts', { 1: [1, 0], 2: [0, 0], 3: [0, 0] })], sessions);

  test('per-flag totals: each flag as if only its sessions were uploaded', () => {
    // all: 1 2 4 hit, 3 missed = 3/4 = 75.00000; unit: 1 4 hit, 2 3 missed = 50.00000;
    // integration: 1 2 hit, 3 missed (4 not in its sessions) = 2/3 = 66.66667.
    assert.deepEqual(Object.fromEntries(flagTotals(HEAD_F)), {
      integration: { files: 1, lines: 3, hits: 2, misses: 1, partials: 0, branches: 0, methods: 0, coverage: '66.66667', sessions: 1 },
      unit: { files: 1, lines: 4, hits: 2, misses: 2, partials: 0, branches: 0, methods: 0, coverage: '50.00000', sessions: 1 },
    });
    const json = toParseJson(HEAD_F);
    assert.deepEqual(Object.keys(json), ['files', 'totals', 'flags', 'sessions']);
    assert.equal(json.totals.coverage, '75.00000');
    assert.equal(json.flags?.unit?.coverage, '50.00000');
    assert.equal('flags' in toParseJson(report([file('y', { 1: 1 })])), false, 'no flags member without flagged sessions');
  });

  test('a comparison restricted to a flag', () => {
    const diff = parseUnifiedDiff(['--- a/x.ts', '+++ b/x.ts', '@@ -3 +3,2 @@', ' three', '+four'].join('\n'));
    // integration (session 1): base lines 1 2 3 all missed = 0; head 1 2 hit, 3 missed = 66.66667; patch line 4 is not in its
    // sessions: no coverable line.
    const c = compareCommits({ sha: 'b', report: BASE_F }, { sha: 'h', report: HEAD_F }, diff, { flag: 'integration' });
    assert.equal(c.flag, 'integration');
    assert.equal(c.base.totals.coverage, '0');
    assert.equal(c.head.totals.coverage, '66.66667');
    assert.equal(c.coverageDelta, '66.66667');
    assert.deepEqual(c.patch, { lines: 0, hits: 0, misses: 0, partials: 0, coverage: null });
    // unit: patch line 4 hit by session 0: 1/1.
    const u = compareCommits({ sha: 'b', report: BASE_F }, { sha: 'h', report: HEAD_F }, diff, { flag: 'unit' });
    assert.deepEqual(u.patch, { lines: 1, hits: 1, misses: 0, partials: 0, coverage: '100' });
    // base unit: 1 hit, 2 3 missed = 33.33333; head unit 50.00000.
    assert.equal(u.coverageDelta, '16.66667');
  });
});
