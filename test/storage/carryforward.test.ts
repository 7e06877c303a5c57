/**
 * Carryforward's rows: a commit's recorded parent chain with each ancestor's completeness (saved
 * report, decided, no open upload), bounded by the depth even when the chain loops; and the
 * once-per-commit decision, saved only for the run that owns the commit and on the version it
 * was made on, and idempotent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/storage/database';
import { Store } from '../../src/storage/store';
import { databasesUnderTest, type TestDatabase } from '../support/database';

const sha = (c: string) => c.repeat(40);
const TOTALS = { files: 1, lines: 1, hits: 1, misses: 0, partials: 0, branches: 0, methods: 0, coverage: '100', sessions: 1 };

for (const target of databasesUnderTest()) {
  describe(`carryforward rows on ${target.kind}`, () => {
    let testDb: TestDatabase;
    let db: Database;
    let store: Store;
    let repoCount = 0;

    before(async () => {
      testDb = await target.create();
      db = await testDb.open();
      store = new Store(db);
    });
    after(async () => {
      await db?.close();
      await testDb?.dispose();
    });

    async function newRepo(): Promise<string> {
      const slug = `acme/cf-${++repoCount}`;
      await store.createRepository(slug, 'token-hash');
      return slug;
    }

    /** A commit with one upload merged into v1 by run `run-<sha>`, carryforward decided unless told. */
    async function reported(repo: string, commit: string, parent: string | undefined, opts: { decide?: boolean } = {}): Promise<void> {
      if (parent) await store.recordCommitMetadata(repo, commit, { parentSha: parent });
      const id = `u-${repoCount}-${commit.slice(0, 4)}`;
      await store.registerUpload({ repo, sha: commit, uploadId: id, rawKey: `raw/${id}`, rawBytes: 1 });
      const runId = `run-${commit}`;
      await store.startRun({ repo, sha: commit, runId, runStartedAt: 1 });
      const claim = await store.claimUploads({ repo, sha: commit, runId, runClaim: 0, limit: 10 });
      assert.equal(
        await store.saveBatchReport({ repo, sha: commit, batch: claim.batch!, version: 1, reportKey: `reports/${commit}/v1`, totals: TOTALS, uploadIds: [id] }),
        'saved',
      );
      if (opts.decide !== false) assert.equal(await store.recordCarryforward({ repo, sha: commit, runId, baseVersion: 1 }), 'saved');
    }

    test('the parent chain, nearest first, each ancestor complete or not, bounded by the depth', async () => {
      const repo = await newRepo();
      const [g, p1, p2, child] = [sha('1'), sha('2'), sha('3'), sha('4')];
      await reported(repo, g, undefined);
      await reported(repo, p1, g, { decide: false }); // saved, but its carryforward is not decided yet
      await reported(repo, p2, p1);
      await store.registerUpload({ repo, sha: p2, uploadId: `late-${repoCount}`, rawKey: 'raw/late', rawBytes: 1 }); // still processing
      await store.recordCommitMetadata(repo, child, { parentSha: p2 });

      assert.deepEqual(await store.listCarryforwardAncestors(repo, child, 10), [
        { sha: p2, distance: 1, reportKey: null },
        { sha: p1, distance: 2, reportKey: null },
        { sha: g, distance: 3, reportKey: `reports/${g}/v1` },
      ]);
      assert.deepEqual(
        (await store.listCarryforwardAncestors(repo, child, 2)).map((a) => a.sha),
        [p2, p1],
      );
      assert.deepEqual(await store.listCarryforwardAncestors(repo, g, 10), [], 'no recorded parent, no ancestor');

      // A parent nobody uploaded to ends the chain after itself.
      const orphan = sha('5');
      await store.recordCommitMetadata(repo, orphan, { parentSha: sha('6') });
      assert.deepEqual(await store.listCarryforwardAncestors(repo, orphan, 10), [{ sha: sha('6'), distance: 1, reportKey: null }]);
    });

    test('a chain that loops stops at the depth', async () => {
      const repo = await newRepo();
      const [a, b] = [sha('a'), sha('b')];
      await store.recordCommitMetadata(repo, a, { parentSha: b });
      await store.recordCommitMetadata(repo, b, { parentSha: a });
      assert.deepEqual(
        (await store.listCarryforwardAncestors(repo, a, 5)).map((x) => [x.sha, x.distance]),
        [
          [b, 1],
          [a, 2],
          [b, 3],
          [a, 4],
          [b, 5],
        ],
      );
    });

    test('the decision is the owner run’s, on the version it was made on, once', async () => {
      const repo = await newRepo();
      const c = sha('c');
      await reported(repo, c, undefined, { decide: false });
      const runId = `run-${c}`;
      const carried = { reportKey: `reports/${c}/v2-b0`, totals: { ...TOTALS, sessions: 2 } };
      assert.equal(await store.recordCarryforward({ repo, sha: c, runId: 'another-run', baseVersion: 1, report: carried }), 'superseded');
      assert.equal(await store.recordCarryforward({ repo, sha: c, runId, baseVersion: 0, report: carried }), 'outdated');
      assert.equal((await store.getCommit(repo, c))?.carryforwardAt, null, 'refused decisions record nothing');
      assert.equal((await store.getCommitReport(repo, c))?.version, 1);

      assert.equal(await store.recordCarryforward({ repo, sha: c, runId, baseVersion: 1, report: carried }), 'saved');
      const saved = await store.getCommitReport(repo, c);
      assert.deepEqual([saved?.version, saved?.reportKey, saved?.totals], [2, carried.reportKey, carried.totals]);
      assert.ok((await store.getCommit(repo, c))?.carryforwardAt instanceof Date);
      const startAgain = await store.startRun({ repo, sha: c, runId, runStartedAt: 1 });
      assert.equal(startAgain.carryforwardDecided, true, 'a later run knows it was decided');

      // A retry changes nothing, whatever it would carry now.
      assert.equal(await store.recordCarryforward({ repo, sha: c, runId, baseVersion: 1, report: { reportKey: 'reports/other', totals: TOTALS } }), 'saved');
      assert.equal((await store.getCommitReport(repo, c))?.reportKey, carried.reportKey);
    });
  });
}
