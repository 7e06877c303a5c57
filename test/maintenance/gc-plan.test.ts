/** The retention planner's rules, one by one, on hand-made listings and references. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RetentionPolicy } from '../../src/config';
import { intermediatePartName, keys } from '../../src/storage/blob-store';
import { batchRef, commitRef, parseBlobKey, planGc, type BlobReferences, type UploadReference } from '../../src/storage/gc-plan';

const H = 3_600_000;
const D = 24 * H;
const NOW = new Date('2026-03-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const policy: RetentionPolicy = { rawMs: 30 * D, intermediateGraceMs: H, scratchGraceMs: H, reportGraceMs: H, orphanGraceMs: D };
const SHA = 'a'.repeat(40);
const blob = (key: string, modifiedMsAgo = 0, size = 10) => ({ key, size, modifiedAt: ago(modifiedMsAgo) });
const upload = (id: string, over: Partial<UploadReference>): [string, UploadReference] => [
  id,
  { state: 'merged', rawKey: keys.raw(id), repoFilesKey: null, reportFixesKey: null, createdAt: ago(40 * D), finishedAt: ago(2 * H), ...over },
];
const none: BlobReferences = { uploads: new Map(), reports: new Map(), verifications: new Map(), sources: new Map() };
const decisions = (plan: ReturnType<typeof planGc>) => Object.fromEntries(plan.delete.map((d) => [d.key, d.reason]));

test('keys are read back in the shapes they are written', () => {
  assert.deepEqual(parseBlobKey(keys.raw('u1')), { kind: 'raw', uploadId: 'u1', part: 'body' });
  assert.deepEqual(parseBlobKey(keys.repoFiles('u1')), { kind: 'raw', uploadId: 'u1', part: 'files' });
  assert.deepEqual(parseBlobKey(keys.reportFixes('u1')), { kind: 'raw', uploadId: 'u1', part: 'fixes' });
  assert.deepEqual(parseBlobKey(keys.intermediate('u1')), { kind: 'intermediate', uploadId: 'u1' });
  // A part belongs to its first upload; a part's crashed write is no part.
  const part = intermediatePartName(['u1', 'u2', 'u3']);
  assert.match(part, /^u1\.[0-9a-f]{16}$/);
  assert.notEqual(part, intermediatePartName(['u1', 'u2']), 'another grouping, another name');
  assert.deepEqual(parseBlobKey(keys.intermediate(part)), { kind: 'intermediate', uploadId: 'u1' });
  assert.deepEqual(parseBlobKey(keys.scratchIntermediate('o/r', SHA, 2, part)), { kind: 'scratch', repo: 'o/r', sha: SHA, batch: 2 });
  assert.deepEqual(parseBlobKey(`${keys.intermediate(part)}.0f3c.tmp`), { kind: 'unknown' });
  assert.deepEqual(parseBlobKey('intermediate/u1.0f3c'), { kind: 'unknown' });
  assert.deepEqual(parseBlobKey(keys.commitReport('o/r', SHA, 3, 7)), { kind: 'report', repo: 'o/r', sha: SHA, version: 3, batch: 7, part: 'report' });
  assert.deepEqual(parseBlobKey(keys.reportTotals(keys.commitReport('o/r', SHA, 3, 7))), { kind: 'report', repo: 'o/r', sha: SHA, version: 3, batch: 7, part: 'totals' });
  assert.deepEqual(parseBlobKey(keys.scratchReport('o/r', SHA, 2)), { kind: 'scratch', repo: 'o/r', sha: SHA, batch: 2 });
  assert.deepEqual(parseBlobKey(keys.scratchIntermediate('o/r', SHA, 2, 'u1')), { kind: 'scratch', repo: 'o/r', sha: SHA, batch: 2 });
  assert.deepEqual(parseBlobKey('raw/u1.0f3c.tmp'), { kind: 'unknown' });
  assert.deepEqual(parseBlobKey('reports/o/r/nothex/v1-b0'), { kind: 'unknown' });
  assert.deepEqual(parseBlobKey(`reports/o/r/${SHA}/v1-b0.totals.tmp`), { kind: 'unknown' });
  assert.deepEqual(parseBlobKey(`reports/o/r/${SHA}/.totals`), { kind: 'unknown' });
});

test('keys of a repository with a nested owner are read back with the whole slug', () => {
  for (const repo of ['group/sub/app', 'a/b/c/d/repo']) {
    assert.deepEqual(parseBlobKey(keys.commitReport(repo, SHA, 3, 7)), { kind: 'report', repo, sha: SHA, version: 3, batch: 7, part: 'report' });
    assert.deepEqual(parseBlobKey(keys.reportTotals(keys.commitReport(repo, SHA, 3, 7))), { kind: 'report', repo, sha: SHA, version: 3, batch: 7, part: 'totals' });
    assert.deepEqual(parseBlobKey(keys.scratchReport(repo, SHA, 2)), { kind: 'scratch', repo, sha: SHA, batch: 2 });
    assert.deepEqual(parseBlobKey(keys.scratchIntermediate(repo, SHA, 2, 'u1')), { kind: 'scratch', repo, sha: SHA, batch: 2 });
  }
  // An upload id may be `report`: the intermediate's shape is still found.
  assert.deepEqual(parseBlobKey(keys.scratchIntermediate('group/sub/app', SHA, 2, 'report')), { kind: 'scratch', repo: 'group/sub/app', sha: SHA, batch: 2 });
  // A hex owner segment is not taken for the sha: the sha is found from the end.
  assert.deepEqual(parseBlobKey(keys.commitReport('abcdef1/sub/app', SHA, 1, 0)), { kind: 'report', repo: 'abcdef1/sub/app', sha: SHA, version: 1, batch: 0, part: 'report' });
  assert.deepEqual(parseBlobKey(`reports/solo/${SHA}/v1-b0`), { kind: 'unknown' }, 'a one-segment slug is none');
  assert.deepEqual(parseBlobKey(`scratch/solo/${SHA}/batch-1/report`), { kind: 'unknown' });
  assert.deepEqual(parseBlobKey(`reports/g/${'x'.repeat(150)}/${'y'.repeat(150)}/${SHA}/v1-b0`), { kind: 'unknown' }, 'past the slug length');
});

test('a nested slug\'s superseded report version and verified scratch go, its current version stays', () => {
  const repo = 'group/sub/app';
  const current = keys.commitReport(repo, SHA, 2, 1);
  const old = keys.commitReport(repo, SHA, 1, 0);
  const scratch = keys.scratchReport(repo, SHA, 1);
  const refs: BlobReferences = {
    ...none,
    reports: new Map([[commitRef(repo, SHA), { version: 2, reportKey: current, savedAt: ago(2 * H) }]]),
    verifications: new Map([[batchRef(repo, SHA, 1), ago(2 * H)]]),
  };
  const plan = planGc([blob(current), blob(old), blob(scratch)], refs, policy, NOW);
  assert.deepEqual(decisions(plan), { [old]: 'report_superseded', [scratch]: 'scratch_verified' });
  assert.equal(plan.kept, 1);
});

test('raw uploads: a finished upload past its lifetime goes (body marked), an open or young one stays, a lost twin is an orphan', () => {
  const refs: BlobReferences = {
    ...none,
    uploads: new Map([
      upload('old', { repoFilesKey: keys.repoFiles('old'), reportFixesKey: keys.reportFixes('old') }),
      upload('young', { createdAt: ago(29 * D), reportFixesKey: keys.reportFixes('young') }),
      upload('open', { state: 'uploaded', finishedAt: null }),
      upload('failed', { state: 'error' }),
    ]),
  };
  const plan = planGc(
    [blob(keys.raw('old')), blob(keys.repoFiles('old')), blob(keys.reportFixes('old')), blob(keys.raw('young')), blob(keys.reportFixes('young')), blob(keys.raw('open')), blob(keys.reportFixes('open'), 2 * D), blob(keys.raw('failed')), blob(keys.raw('twin'), 2 * D), blob(keys.raw('arriving'), 60_000)],
    refs,
    policy,
    NOW,
  );
  assert.deepEqual(decisions(plan), {
    'raw/old': 'raw_expired',
    'raw/old.files': 'raw_expired',
    'raw/old.fixes': 'raw_expired',
    'raw/failed': 'raw_expired',
    'raw/open.fixes': 'orphan',
    'raw/twin': 'orphan',
  });
  assert.deepEqual(plan.delete.filter((d) => d.rawOf).map((d) => d.rawOf), ['old', 'failed'], 'only bodies mark their upload');
  assert.equal(plan.kept, 4, 'a young upload keeps its fixes with its body');
  assert.equal(plan.keptBytes, 40);
});

test('intermediates: gone a grace after their upload finished, never while it is open', () => {
  const refs: BlobReferences = {
    ...none,
    uploads: new Map([upload('done', {}), upload('recent', { finishedAt: ago(10 * 60_000) }), upload('claimed', { state: 'processed', finishedAt: null })]),
  };
  const plan = planGc([blob(keys.intermediate('done')), blob(keys.intermediate('recent')), blob(keys.intermediate('claimed'), 3 * D), blob(keys.intermediate('nobody'), 2 * D)], refs, policy, NOW);
  assert.deepEqual(decisions(plan), { 'intermediate/done': 'intermediate_done', 'intermediate/nobody': 'orphan' });
});

test("a part goes with its first upload: a grace after it finished, never while it is open", () => {
  const refs: BlobReferences = { ...none, uploads: new Map([upload('done', {}), upload('claimed', { state: 'processed', finishedAt: null })]) };
  const gone = keys.intermediate(intermediatePartName(['done', 'claimed']));
  const kept = keys.intermediate(intermediatePartName(['claimed', 'done']));
  const orphan = keys.intermediate(intermediatePartName(['nobody', 'done']));
  const plan = planGc([blob(gone), blob(kept, 3 * D), blob(orphan, 2 * D)], refs, policy, NOW);
  assert.deepEqual(decisions(plan), { [gone]: 'intermediate_done', [orphan]: 'orphan' });
});

test('report versions: the current one always stays; older ones go a grace after the current was saved; higher ones are left to the orphan rule', () => {
  const old = commitRef('o/old', SHA);
  const fresh = commitRef('o/fresh', SHA);
  const refs: BlobReferences = {
    ...none,
    reports: new Map([
      [old, { version: 3, reportKey: keys.commitReport('o/old', SHA, 3, 2), savedAt: ago(2 * H) }],
      [fresh, { version: 2, reportKey: keys.commitReport('o/fresh', SHA, 2, 1), savedAt: ago(10 * 60_000) }],
    ]),
  };
  const plan = planGc(
    [
      blob(keys.commitReport('o/old', SHA, 1, 0), 5 * D),
      blob(keys.commitReport('o/old', SHA, 3, 2), 5 * D),
      blob(keys.commitReport('o/old', SHA, 3, 9)), // a fenced-out finisher's, same version
      blob(keys.commitReport('o/old', SHA, 4, 3)), // written, not yet saved
      blob(keys.commitReport('o/fresh', SHA, 1, 0), 5 * D),
      blob(keys.commitReport('o/fresh', SHA, 2, 1), 5 * D),
      blob(keys.commitReport('o/unsaved', SHA, 1, 0), 2 * D),
    ],
    refs,
    policy,
    NOW,
  );
  assert.deepEqual(decisions(plan), {
    [keys.commitReport('o/old', SHA, 1, 0)]: 'report_superseded',
    [keys.commitReport('o/old', SHA, 3, 9)]: 'report_superseded',
    [keys.commitReport('o/unsaved', SHA, 1, 0)]: 'orphan',
  });
});

test("a report's per-file totals go and stay with their report: current kept, superseded after the grace, unsaved ones orphans", () => {
  const totals = (repo: string, version: number, batch: number) => keys.reportTotals(keys.commitReport(repo, SHA, version, batch));
  const refs: BlobReferences = {
    ...none,
    reports: new Map([
      [commitRef('o/old', SHA), { version: 3, reportKey: keys.commitReport('o/old', SHA, 3, 2), savedAt: ago(2 * H) }],
      [commitRef('o/fresh', SHA), { version: 2, reportKey: keys.commitReport('o/fresh', SHA, 2, 1), savedAt: ago(10 * 60_000) }],
    ]),
  };
  const plan = planGc(
    [
      blob(keys.commitReport('o/old', SHA, 1, 0), 5 * D),
      blob(totals('o/old', 1, 0), 5 * D),
      blob(keys.commitReport('o/old', SHA, 3, 2), 5 * D),
      blob(totals('o/old', 3, 2), 5 * D),
      blob(totals('o/old', 3, 9)), // a fenced-out finisher's, same version
      blob(totals('o/old', 4, 3)), // written, not yet saved
      blob(totals('o/fresh', 1, 0), 5 * D),
      blob(totals('o/fresh', 2, 1), 5 * D),
      blob(totals('o/unsaved', 1, 0), 2 * D),
      blob(totals('o/unsaved', 2, 0), 60_000),
    ],
    refs,
    policy,
    NOW,
  );
  assert.deepEqual(decisions(plan), {
    [keys.commitReport('o/old', SHA, 1, 0)]: 'report_superseded',
    [totals('o/old', 1, 0)]: 'report_superseded',
    [totals('o/old', 3, 9)]: 'report_superseded',
    [totals('o/unsaved', 1, 0)]: 'orphan',
  });
  assert.equal(plan.kept, 6);
});

test('scratch: gone a grace after its verification is recorded; unverified scratch waits for the orphan rule', () => {
  const refs: BlobReferences = { ...none, verifications: new Map([[batchRef('o/r', SHA, 1), ago(2 * H)], [batchRef('o/r', SHA, 2), ago(60_000)]]) };
  const plan = planGc(
    [
      blob(keys.scratchReport('o/r', SHA, 1)),
      blob(keys.scratchIntermediate('o/r', SHA, 1, 'u1')),
      blob(keys.scratchReport('o/r', SHA, 2)),
      blob(keys.scratchReport('o/r', SHA, 3), H),
      blob(keys.scratchReport('o/r', SHA, 4), 2 * D),
      blob('scratch/stray', 2 * D),
    ],
    refs,
    policy,
    NOW,
  );
  assert.deepEqual(decisions(plan), {
    [keys.scratchReport('o/r', SHA, 1)]: 'scratch_verified',
    [keys.scratchIntermediate('o/r', SHA, 1, 'u1')]: 'scratch_verified',
    [keys.scratchReport('o/r', SHA, 4)]: 'orphan',
    'scratch/stray': 'orphan',
  });
});

test('source text: kept while an upload sent it within the retention, then deleted; unreferenced text is an orphan', () => {
  const recent = keys.source('1'.repeat(64));
  const stale = keys.source('2'.repeat(64));
  const orphanOld = keys.source('3'.repeat(64));
  const orphanNew = keys.source('4'.repeat(64));
  assert.deepEqual(parseBlobKey(recent), { kind: 'source', digest: '1'.repeat(64) });
  assert.deepEqual(parseBlobKey('sources/not-a-digest'), { kind: 'unknown' });
  const refs: BlobReferences = {
    ...none,
    sources: new Map([
      ['1'.repeat(64), ago(10 * D)],
      ['2'.repeat(64), ago(91 * D)],
    ]),
  };
  const withSources = { ...policy, sourceMs: 90 * D };
  const plan = planGc([blob(recent, 100 * D), blob(stale, 100 * D), blob(orphanOld, 2 * D), blob(orphanNew, H)], refs, withSources, NOW);
  assert.deepEqual(decisions(plan), { [stale]: 'source_expired', [orphanOld]: 'orphan' });
  // A schedule applied before sources existed has no lifetime for them: referenced text stays.
  assert.deepEqual(decisions(planGc([blob(stale, 100 * D)], refs, policy, NOW)), {});
});
