/**
 * The re-verification store (seeded sampling of completed commits, recorded runs and outcomes)
 * and the queue's figures, on PGlite and PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZodError } from 'zod';
import type { Database } from '../../src/storage/database';
import { estimatedWaitSeconds, Store } from '../../src/storage/store';
import { databasesUnderTest, type TestDatabase } from '../support/database';

const sha = (n: number) => n.toString(16).padStart(40, 'a');

for (const target of databasesUnderTest()) {
  describe(`re-verification and queue stores on ${target.kind}`, () => {
    let testDb: TestDatabase;
    let db: Database;
    let store: Store;
    let uploadCount = 0;

    before(async () => {
      testDb = await target.create();
      db = await testDb.open();
      store = new Store(db);
    });
    after(async () => {
      await db?.close();
      await testDb?.dispose();
    });

    async function register(repo: string, commit: string, n = 1): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const id = `up-${++uploadCount}`;
        await store.registerUpload({ repo, sha: commit, uploadId: id, rawKey: `raw/${id}`, rawBytes: 10 });
        ids.push(id);
      }
      return ids;
    }

    /** Registered, claimed and saved as a finisher saves: a completed commit. */
    async function complete(repo: string, commit: string): Promise<void> {
      const ids = await register(repo, commit, 2);
      const runId = `run-${commit}`;
      await store.startRun({ repo, sha: commit, runId, runStartedAt: Date.now() });
      const claim = await store.claimUploads({ repo, sha: commit, runId, runClaim: 0, limit: 10 });
      assert.equal(await store.saveBatchReport({ repo, sha: commit, batch: claim.batch!, version: 1, reportKey: `reports/${commit}`, totals: {}, uploadIds: ids }), 'saved');
    }

    describe('re-verification', () => {
      before(async () => {
        for (const repo of ['rv/a', 'rv/b']) await store.createRepository(repo, 'h');
        for (let i = 1; i <= 12; i++) await complete(i % 2 ? 'rv/a' : 'rv/b', sha(i));
        await register('rv/a', sha(100)); // waiting: not completed
        await complete('rv/a', sha(101));
        await register('rv/a', sha(101)); // completed once, then another upload arrived
      });

      test('a seed gives the same sample of completed commits; another seed another one', async () => {
        const first = await store.startVerificationRun({ runId: 'r1', seed: 's1', sampleSize: 5, repositories: [] });
        const again = await store.startVerificationRun({ runId: 'r1-twin', seed: 's1', sampleSize: 5, repositories: [] });
        const other = await store.startVerificationRun({ runId: 'r2', seed: 's2', sampleSize: 5, repositories: [] });
        assert.equal(first.sample.length, 5);
        assert.deepEqual(again.sample, first.sample);
        assert.notDeepEqual(other.sample, first.sample);
        const all = await store.startVerificationRun({ runId: 'r3', seed: 's1', sampleSize: 100, repositories: [] });
        assert.equal(all.sample.length, 12, 'only completed commits: none waiting or with a new upload');
        assert.ok(!all.sample.some((c) => c.sha === sha(100) || c.sha === sha(101)));
        // A smaller sample is a prefix of the larger one: the order is the seed's.
        assert.deepEqual(all.sample.slice(0, 5), first.sample);
      });

      test('a repeated run answers its recorded seed and sample; the filter keeps its repositories', async () => {
        const run = await store.startVerificationRun({ runId: 'r4', seed: 'seed-4', sampleSize: 3, repositories: ['rv/b'] });
        assert.ok(run.sample.every((c) => c.repo === 'rv/b'));
        await complete('rv/b', sha(200));
        const repeat = await store.startVerificationRun({ runId: 'r4', seed: 'ignored', sampleSize: 50, repositories: [] });
        assert.deepEqual(repeat, run);
      });

      test('outcomes are recorded once per run and commit, listed with filters and counted', async () => {
        const base = { runId: 'r1', reportVersion: 1, uploads: 2, differingFiles: 0, differingLines: 0, files: [], sample: [], reason: null };
        await store.recordVerification({ ...base, repo: 'rv/a', sha: sha(1), outcome: 'match' });
        await store.recordVerification({ ...base, repo: 'rv/b', sha: sha(2), outcome: 'match' });
        // A retried activity replaces its row.
        await store.recordVerification({ ...base, repo: 'rv/b', sha: sha(2), outcome: 'mismatch', differingFiles: 1, differingLines: 2, files: ['a.js'], sample: ['serial: a.js:3 expected 1, got 2'] });
        await store.recordVerification({ ...base, repo: 'rv/a', sha: sha(3), outcome: 'skipped', reason: 'raw upload missing' });
        assert.deepEqual(await store.verificationCounts(), { match: 1, mismatch: 1, skipped: 1 });
        const mismatches = await store.listVerifications({ outcome: 'mismatch' });
        assert.equal(mismatches.length, 1);
        assert.deepEqual([mismatches[0]!.repo, mismatches[0]!.files, mismatches[0]!.sample, mismatches[0]!.seed], ['rv/b', ['a.js'], ['serial: a.js:3 expected 1, got 2'], 's1']);
        assert.deepEqual((await store.listVerifications({ repo: 'rv/a' })).map((v) => v.outcome).sort(), ['match', 'skipped']);
        assert.equal((await store.listVerifications({ since: new Date(Date.now() + 60_000) })).length, 0);
        await assert.rejects(store.recordVerification({ ...base, repo: 'rv/a', sha: sha(1), outcome: 'maybe' as 'match' }), ZodError);
      });
    });

    describe('queue figures', () => {
      let queueDb: TestDatabase;
      let qdb: Database;
      let q: Store;
      before(async () => {
        queueDb = await target.create();
        qdb = await queueDb.open();
        q = new Store(qdb);
      });
      after(async () => {
        await qdb?.close();
        await queueDb?.dispose();
      });

      /** An upload whose registration, processing start and merge happened `seconds` ago (null: not yet). */
      async function at(repo: string, id: string, state: string, created: number, started: number | null, merged: number | null): Promise<void> {
        await q.registerUpload({ repo, sha: sha(1), uploadId: id, rawKey: `raw/${id}`, rawBytes: 1 });
        await qdb.query(
          `UPDATE uploads SET state = $2, created_at = now() - make_interval(secs => $3),
             processing_started_at = CASE WHEN $4::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => $4::float8) END,
             merged_at = CASE WHEN $5::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => $5::float8) END
           WHERE id = $1`,
          [id, state, created, started, merged],
        );
      }

      test('waiting, processing, oldest wait, queue time percentiles, throughput and estimates', async () => {
        await q.createRepository('q/one', 'h');
        await q.createRepository('q/two', 'h');
        await at('q/one', 'm1', 'merged', 100, 40, 60); // queued 60 s, in both windows
        await at('q/one', 'm2', 'processing', 30, 20, null); // queued 10 s
        await at('q/two', 'm3', 'merged', 7200, 3660, 3650); // outside both windows
        await at('q/two', 'm4', 'merged', 600, 480, 420); // queued 120 s, the hour only
        await at('q/one', 'w1', 'uploaded', 300, null, null);
        await at('q/two', 'w2', 'uploaded', 50, null, null);
        const s = await q.queueSnapshot();
        assert.deepEqual([s.total.waiting, s.total.processing], [2, 1]);
        const age = (s.at.getTime() - s.total.oldestWaitingAt!.getTime()) / 1000;
        assert.ok(Math.abs(age - 300) < 1, `oldest waits ${age}s`);
        assert.deepEqual(
          s.repositories.map((r) => [r.repo, r.waiting, r.processing]),
          [
            ['q/one', 1, 1],
            ['q/two', 1, 0],
          ],
        );
        const [five, hour] = s.windows;
        assert.equal(five!.started, 2);
        assert.ok(Math.abs(five!.queueP50! - 35) < 0.01 && Math.abs(five!.queueP95! - 57.5) < 0.01, JSON.stringify(five));
        assert.equal(five!.mergedPerMinute, 1 / 5);
        assert.equal(hour!.started, 3);
        assert.ok(Math.abs(hour!.queueP50! - 60) < 0.01 && Math.abs(hour!.queueP95! - 114) < 0.01, JSON.stringify(hour));
        assert.equal(hour!.mergedPerMinute, 2 / 60);
        // One waits ahead of w2; at 0.2 merged a minute that is 300 s. Nothing is ahead of w1.
        assert.equal(await q.waitingAhead('w2'), 1);
        assert.equal(await q.waitingAhead('w1'), 0);
        assert.equal(estimatedWaitSeconds(1, s.windows), 300);
        assert.equal(estimatedWaitSeconds(0, s.windows), 0);
        assert.equal(estimatedWaitSeconds(3, [{ ...five!, mergedPerMinute: 0 }, { ...hour!, mergedPerMinute: 0 }]), null);

        // Queue times settle once their start is older than the settle time, and are read once.
        const since = new Date(s.at.getTime() - 30_000);
        const read = await q.queueTimesSince(since, 0);
        assert.deepEqual(read.times.map((t) => [t.uploadId, Math.round(t.seconds)]), [['m2', 10]]);
        assert.deepEqual((await q.queueTimesSince(read.at, 0)).times, []);
        assert.deepEqual((await q.queueTimesSince(since, 25_000)).times, [], 'not settled yet');
      });
    });
  });
}
