import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { CommitComparison } from '../../src/coverage/commit-comparison';
import { COMMENT_MARKER, renderComment } from '../../src/feedback/comment';
import { commitStatuses, DESCRIPTION_MAX, oneLine, patchStatus, projectStatus } from '../../src/feedback/statuses';
import { coverageDelta } from '../../src/coverage/commit-compare';

const totals = (hits: number, lines: number, coverage: string) => ({ files: 2, lines, hits, misses: lines - hits, partials: 0, branches: 0, methods: 0, coverage, sessions: 1 });

// Built by hand: base 80 of 100 lines; head 88 of 110 (80%, +0.00) with a patch of 25 lines, 16 hit.
const comparison: CommitComparison = {
  base: { sha: 'b'.repeat(40), totals: totals(80, 100, '80.00000') },
  head: { sha: 'c'.repeat(40), totals: totals(88, 110, '80.00000') },
  coverageDelta: '0.00000',
  patch: { lines: 25, hits: 16, misses: 9, partials: 0, coverage: '64.00000' },
  files: [
    { path: 'src/a|b.ts', change: 'changed', base: { ...totals(40, 50, '80.00000'), files: 1 }, head: { ...totals(30, 50, '60.00000'), files: 1 }, coverageDelta: '-20.00000', patch: { lines: 25, hits: 16, misses: 9, partials: 0, coverage: '64.00000' } },
    { path: 'src/new.ts', change: 'added', base: null, head: { ...totals(10, 10, '100'), files: 1 }, coverageDelta: null, patch: null },
  ],
};

describe('commit statuses (Codecov semantics)', () => {
  it('project auto: the base is the target, the threshold the drop allowed', () => {
    assert.deepEqual(projectStatus({ headCoverage: '87.50000', comparison: { ...comparison, base: { ...comparison.base, totals: totals(867, 1000, '86.70000') } } }), {
      context: 'tributary/project',
      state: 'success',
      description: '87.50% (+0.80%) compared to bbbbbbb',
    });
    const dropped = { ...comparison, base: { ...comparison.base, totals: totals(9, 10, '90.00000') } };
    assert.equal(projectStatus({ headCoverage: '89.00000', comparison: dropped }).state, 'failure');
    assert.equal(projectStatus({ headCoverage: '89.00000', comparison: dropped }).description, '89.00% (-1.00%) compared to bbbbbbb');
    assert.equal(projectStatus({ headCoverage: '89.00000', comparison: dropped, rules: { project: { threshold: 1 } } }).state, 'success');
    assert.equal(projectStatus({ headCoverage: '88.99999', comparison: dropped, rules: { project: { threshold: 1 } } }).state, 'failure');
  });

  it('project with a fixed target, and without a base', () => {
    assert.deepEqual(projectStatus({ headCoverage: '79.99999', comparison: null, rules: { project: { target: 80 } } }), { context: 'tributary/project', state: 'failure', description: '79.99% (target 80.00%)' }, 'cut, not rounded: a failing figure never reads as the target');
    assert.equal(projectStatus({ headCoverage: '80', comparison: null, rules: { project: { target: 80 } } }).state, 'success');
    assert.deepEqual(projectStatus({ headCoverage: '50.00000', comparison: null }), { context: 'tributary/project', state: 'success', description: '50.00% (no base report to compare against)' });
  });

  it('patch: auto targets the base coverage; no coverable line is a success; no diff is unknown', () => {
    assert.deepEqual(patchStatus({ headCoverage: '80.00000', comparison }), { context: 'tributary/patch', state: 'failure', description: '64.00% of diff hit (target 80.00%)' });
    assert.equal(patchStatus({ headCoverage: '80.00000', comparison, rules: { patch: { target: 60 } } }).state, 'success');
    assert.equal(patchStatus({ headCoverage: '80.00000', comparison, rules: { patch: { threshold: 16 } } }).state, 'success');
    const none = { ...comparison, patch: { lines: 0, hits: 0, misses: 0, partials: 0, coverage: null } };
    assert.deepEqual(patchStatus({ headCoverage: '80', comparison: none }), { context: 'tributary/patch', state: 'success', description: 'Coverage not affected compared to bbbbbbb' });
    assert.equal(patchStatus({ headCoverage: '80', comparison: { ...comparison, patch: null } }).description, 'No diff stored for this commit: patch coverage unknown');
    assert.deepEqual(commitStatuses({ headCoverage: '80.00000', comparison }).map((s) => s.context), ['tributary/project', 'tributary/patch']);
  });

  it('descriptions are one line of at most 140 characters', () => {
    const long = oneLine(`a\nb ${'x'.repeat(300)}`);
    assert.equal([...long].length, DESCRIPTION_MAX);
    assert.ok(!long.includes('\n'));
    assert.equal(oneLine('short'), 'short');
  });

  it('deltas are exact on the five-decimal strings', () => {
    // (base, head): head minus base.
    assert.equal(coverageDelta('86.70000', '87.50000'), '0.80000');
    assert.equal(coverageDelta('99.99999', '100'), '0.00001');
    assert.equal(coverageDelta('12.34567', '0'), '-12.34567');
  });
});

describe('pull-request comment', () => {
  it('renders totals, patch coverage and the largest changes as tables, behind the marker', () => {
    const statuses = commitStatuses({ headCoverage: '80.00000', comparison });
    const body = renderComment({ repo: 'acme/app', headSha: 'c'.repeat(40), headTotals: comparison.head.totals, comparison, statuses, commitUrl: 'https://cov.example/acme/app/commit/ccc' });
    assert.ok(body.startsWith(`${COMMENT_MARKER}\n`));
    assert.match(body, /Coverage is \*\*80\.00%\*\* \(\+0\.00%\) compared to `bbbbbbb`\./);
    assert.match(body, /Patch coverage: \*\*64\.00%\*\* of 25 changed lines \(16 hit, 9 missed, 0 partial\)\./);
    assert.match(body, /\| Lines \| 100 \| 110 \| \+10 \|/);
    assert.match(body, /\| Hits \| 80 \| 88 \| \+8 \|/);
    // The added file weighs its whole coverage (100) and goes before the -20 change; the pipe is escaped.
    const rows = body.split('\n').filter((l) => l.startsWith('| `'));
    assert.deepEqual(rows, ['| `src/new.ts` (new) | — | 100.00% | — | — |', '| `src/a\\|b.ts` | 80.00% | 60.00% | -20.00% | 64.00% |']);
    assert.match(body, /❌ `tributary\/patch`: 64\.00% of diff hit \(target 80\.00%\)/);
    assert.ok(body.trimEnd().endsWith('[Full report](https://cov.example/acme/app/commit/ccc)'));
  });
});
