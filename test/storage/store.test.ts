import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZodError } from 'zod';
import type { Database } from '../../src/storage/database';
import { createHash } from 'node:crypto';
import { sqlState, UNIQUE_VIOLATION } from '../../src/storage/database';
import { runMigrations } from '../../src/storage/migrations';
import { ConflictError, IdempotencyConflictError, NotFoundError, Store, SupersededRunError, type RegisterUploadInput } from '../../src/storage/store';
import { databasesUnderTest, type TestDatabase } from '../support/database';
import { countUploadsByState } from '../support/upload-counts';
import type { ParseWarning } from '../../src/coverage/warnings';

/** One upload marked processed, as a processor of one upload marks it: whether it moved. */
async function markProcessed(store: Store, uploadId: string, intermediateKey: string, warnings: readonly ParseWarning[] = []): Promise<boolean> {
  return (await store.markProcessedMany([{ uploadId, intermediateKey, warnings }])).has(uploadId);
}

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

for (const target of databasesUnderTest()) {
  describe(`Store on ${target.kind}`, () => {
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

    /** Every test works in a repository of its own. */
    async function newRepo(): Promise<string> {
      const slug = `acme/app-${++repoCount}`;
      await store.createRepository(slug, 'token-hash');
      return slug;
    }

    function upload(repo: string, id: string, extra: Partial<RegisterUploadInput> = {}): RegisterUploadInput {
      return { repo, sha: SHA, uploadId: id, rawKey: `raw/${id}`, rawBytes: 100, ...extra };
    }

    describe('repositories', () => {
      test('are created and read; a taken slug is a ConflictError', async () => {
        const created = await store.createRepository('octo/widgets', 'h1', { fixes: ['a/::b/'] });
        assert.equal(created.slug, 'octo/widgets');
        assert.equal(typeof created.id, 'number');
        assert.equal(created.uploadTokenHash, 'h1');
        assert.deepEqual(created.settings, { fixes: ['a/::b/'] });
        assert.ok(created.createdAt instanceof Date);

        await assert.rejects(store.createRepository('octo/widgets', 'h2'), ConflictError);
        assert.equal((await store.getRepository('octo/widgets'))?.uploadTokenHash, 'h1');
        assert.equal(await store.getRepository('octo/nothing'), null);
      });

      test('invalid input is refused before it reaches the database', async () => {
        await assert.rejects(store.createRepository('no-slash', 'h'), ZodError);
        await assert.rejects(store.getRepository('../etc'), ZodError);
        await assert.rejects(store.registerUpload(upload('acme/x', 'u1', { sha: 'not-hex' })), ZodError);
        await assert.rejects(store.registerUpload(upload('acme/x', 'u1', { rawBytes: -1 })), ZodError);
      });
    });

    describe('mode overrides', () => {
      test('are set, replaced, listed and removed', async () => {
        const a = await newRepo();
        const b = await newRepo();
        assert.equal(await store.getModeOverride(a), null);
        await store.setModeOverride(a, 'serial');
        await store.setModeOverride(b, 'experiment');
        await store.setModeOverride(a, 'parallel');
        assert.equal(await store.getModeOverride(a), 'parallel');
        const listed = (await store.listModeOverrides()).filter((o) => o.slug === a || o.slug === b);
        assert.deepEqual(listed, [
          { slug: a, mode: 'parallel' },
          { slug: b, mode: 'experiment' },
        ]);
        await store.setModeOverride(a, null);
        assert.equal(await store.getModeOverride(a), null);
        assert.ok(!(await store.listModeOverrides()).some((o) => o.slug === a));
        await assert.rejects(store.setModeOverride('acme/unknown', 'serial'), NotFoundError);
        // @ts-expect-error: a mode that does not exist
        await assert.rejects(store.setModeOverride(a, 'fast'), ZodError);
      });
    });

    describe('registerUpload', () => {
      test('gives sessions 0, 1, 2 and stores every field', async () => {
        const repo = await newRepo();
        const r0 = await store.registerUpload(
          upload(repo, 'up-0', {
            rawBytes: 5_000_000_000,
            flags: ['unit', 'linux'],
            name: 'unit tests',
            build: '42',
            job: 'test (20.x)',
            branch: 'main',
            ciUrl: 'https://ci.example.com/42',
            formatHint: 'lcov',
            idempotencyKey: 'job-1',
          }),
        );
        const r1 = await store.registerUpload(upload(repo, 'up-1'));
        const r2 = await store.registerUpload(upload(repo, 'up-2'));
        assert.deepEqual([r0, r1, r2], [
          { uploadId: 'up-0', session: 0, created: true },
          { uploadId: 'up-1', session: 1, created: true },
          { uploadId: 'up-2', session: 2, created: true },
        ]);

        const row = await store.getUpload('up-0');
        assert.ok(row);
        assert.equal(row.id, 'up-0');
        assert.equal(row.uploadId, 'up-0');
        assert.equal(row.repo, repo);
        assert.equal(row.sha, SHA);
        assert.equal(row.session, 0);
        assert.equal(row.state, 'uploaded');
        assert.equal(row.rawKey, 'raw/up-0');
        assert.equal(row.rawBytes, 5_000_000_000, 'bigint comes back as a plain number');
        assert.deepEqual(row.flags, ['unit', 'linux']);
        assert.equal(row.name, 'unit tests');
        assert.equal(row.build, '42');
        assert.equal(row.job, 'test (20.x)');
        assert.equal(row.branch, 'main');
        assert.equal(row.ciUrl, 'https://ci.example.com/42');
        assert.equal(row.formatHint, 'lcov');
        assert.equal(row.idempotencyKey, 'job-1');
        assert.equal(row.errorCode, null);
        assert.equal(row.batch, null);
        assert.equal(row.intermediateKey, null);
        assert.ok(row.createdAt instanceof Date);
        assert.equal(row.processingStartedAt, null);
        assert.equal(row.mergedAt, null);

        const bare = await store.getUpload('up-1');
        assert.deepEqual(bare?.flags, []);
        assert.equal(bare?.name, null);
        assert.equal(await store.getUpload('nope'), null);

        const commit = await store.getCommit(repo, SHA);
        assert.equal(commit?.nextSession, 3);
        assert.equal(commit?.repo, repo);
        assert.deepEqual(
          (await store.listUploads(repo, SHA)).map((u) => [u.uploadId, u.session]),
          [['up-0', 0], ['up-1', 1], ['up-2', 2]],
        );
      });

      test('sessions stay dense under 50 concurrent registrations', async () => {
        const repo = await newRepo();
        const ids = Array.from({ length: 50 }, (_, i) => `dense-${repo.replace('/', '-')}-${i}`);
        const results = await Promise.all(ids.map((id) => store.registerUpload(upload(repo, id))));
        assert.ok(results.every((r) => r.created));
        assert.deepEqual(
          results.map((r) => r.session).sort((x, y) => x - y),
          Array.from({ length: 50 }, (_, i) => i),
        );
        assert.equal((await store.getCommit(repo, SHA))?.nextSession, 50);
        const listed = await store.listUploads(repo, SHA);
        assert.deepEqual(listed.map((u) => u.session), Array.from({ length: 50 }, (_, i) => i));
      });

      test('sessions are per commit', async () => {
        const repo = await newRepo();
        const other = 'ffffffffffffffffffffffffffffffffffffffff';
        await store.registerUpload(upload(repo, `${repo.replace('/', '-')}-a`));
        const r = await store.registerUpload({ ...upload(repo, `${repo.replace('/', '-')}-b`), sha: other });
        assert.equal(r.session, 0);
      });

      test('a repeated idempotency key or upload id returns the first upload and allocates nothing', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        await store.registerUpload(upload(repo, `${p}-1`, { idempotencyKey: 'k' }));
        const again = await store.registerUpload(upload(repo, `${p}-2`, { idempotencyKey: 'k' }));
        assert.deepEqual(again, { uploadId: `${p}-1`, session: 0, created: false });
        const sameId = await store.registerUpload(upload(repo, `${p}-1`));
        assert.deepEqual(sameId, { uploadId: `${p}-1`, session: 0, created: false });
        const next = await store.registerUpload(upload(repo, `${p}-3`, { idempotencyKey: 'other' }));
        assert.equal(next.session, 1, 'no session was spent on the repeats');
        // An empty key is no key: two such uploads are two uploads.
        assert.equal((await store.registerUpload(upload(repo, `${p}-4`, { idempotencyKey: '' }))).session, 2);
        assert.equal((await store.registerUpload(upload(repo, `${p}-5`, { idempotencyKey: '' }))).session, 3);
        assert.equal((await store.getUpload(`${p}-5`))?.idempotencyKey, null);
        assert.equal(await store.getUpload(`${p}-2`), null);
        assert.equal((await store.listUploads(repo, SHA)).length, 4);
      });

      test('concurrent identical registrations: one wins, the others get its row', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        const sameKey = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.registerUpload(upload(repo, `${p}-k${i}`, { idempotencyKey: 'retry' }))),
        );
        assert.equal(sameKey.filter((r) => r.created).length, 1);
        const winner = sameKey.find((r) => r.created);
        assert.ok(sameKey.every((r) => r.uploadId === winner?.uploadId && r.session === 0));

        const sameId = await Promise.all(Array.from({ length: 10 }, () => store.registerUpload(upload(repo, `${p}-same`))));
        assert.equal(sameId.filter((r) => r.created).length, 1);
        assert.ok(sameId.every((r) => r.uploadId === `${p}-same` && r.session === 1));

        assert.equal((await store.getCommit(repo, SHA))?.nextSession, 2);
        assert.equal((await store.listUploads(repo, SHA)).length, 2);
      });

      test('refuses an unknown repository and an upload id taken by another commit', async () => {
        await assert.rejects(store.registerUpload(upload('acme/unknown', 'x-1')), NotFoundError);
        const repo = await newRepo();
        const id = `${repo.replace('/', '-')}-taken`;
        await store.registerUpload(upload(repo, id));
        await assert.rejects(
          store.registerUpload({ ...upload(repo, id), sha: 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee' }),
          ConflictError,
        );
      });

      test('a repeated key answers only the same body digest; another digest is refused and changes nothing', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        const [a, b] = [digest('a'), digest('b')];
        const first = await store.registerUpload(upload(repo, `${p}-1`, { idempotencyKey: 'job', bodyDigest: a }));
        assert.deepEqual(first, { uploadId: `${p}-1`, session: 0, created: true });
        const row = await store.getUpload(`${p}-1`);
        assert.equal(row?.bodyDigest, a);
        assert.equal(row?.idempotencyScope, 'raw', 'a key without a scope is a raw key');

        const same = await store.registerUpload(upload(repo, `${p}-2`, { idempotencyKey: 'job', bodyDigest: a }));
        assert.deepEqual(same, { uploadId: `${p}-1`, session: 0, created: false });
        const commitBefore = await store.getCommit(repo, SHA);

        const refused = await store.registerUpload(upload(repo, `${p}-3`, { idempotencyKey: 'job', bodyDigest: b })).then(
          () => assert.fail('a different body was accepted'),
          (err: unknown) => err,
        );
        assert.ok(refused instanceof IdempotencyConflictError, String(refused));
        assert.ok(refused instanceof ConflictError);
        assert.equal(refused.idempotencyKey, 'job');
        assert.equal(refused.scope, 'raw');
        assert.equal(refused.uploadId, `${p}-1`);
        // Nothing changed: no row, no session spent, the commit row untouched (rolled back).
        assert.equal(await store.getUpload(`${p}-3`), null);
        const commitAfter = await store.getCommit(repo, SHA);
        assert.equal(commitAfter?.nextSession, 1);
        assert.equal(commitAfter?.updatedAt.getTime(), commitBefore?.updatedAt.getTime());
        assert.equal((await store.getUpload(`${p}-1`))?.rawKey, `raw/${p}-1`);
        assert.equal((await store.getUpload(`${p}-1`))?.bodyDigest, a);

        // No digest to compare (a caller that sends none): answered, never refused.
        assert.equal((await store.registerUpload(upload(repo, `${p}-4`, { idempotencyKey: 'job' }))).uploadId, `${p}-1`);
        // The same upload id with another body is a conflict too.
        await assert.rejects(store.registerUpload(upload(repo, `${p}-1`, { bodyDigest: b })), ConflictError);
        assert.deepEqual((await store.listUploads(repo, SHA)).map((u) => u.uploadId), [`${p}-1`]);
      });

      test('raw and multipart keys are separate scopes', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        const raw = await store.registerUpload(upload(repo, `${p}-raw`, { idempotencyKey: 'mk:0', idempotencyScope: 'raw', bodyDigest: digest('lcov') }));
        const part = await store.registerUpload(upload(repo, `${p}-part`, { idempotencyKey: 'mk:0', idempotencyScope: 'multipart', bodyDigest: digest('cobertura') }));
        assert.deepEqual([raw, part], [
          { uploadId: `${p}-raw`, session: 0, created: true },
          { uploadId: `${p}-part`, session: 1, created: true },
        ]);
        assert.equal((await store.findUploadByIdempotencyKey(repo, SHA, 'raw', 'mk:0'))?.uploadId, `${p}-raw`);
        assert.equal((await store.findUploadByIdempotencyKey(repo, SHA, 'multipart', 'mk:0'))?.uploadId, `${p}-part`);
        assert.equal(await store.findUploadByIdempotencyKey(repo, SHA, 'multipart', 'mk:1'), null);
        const again = await store.registerUpload(upload(repo, `${p}-again`, { idempotencyKey: 'mk:0', idempotencyScope: 'multipart', bodyDigest: digest('cobertura') }));
        assert.equal(again.uploadId, `${p}-part`);
        await assert.rejects(
          store.registerUpload(upload(repo, `${p}-other`, { idempotencyKey: 'mk:0', idempotencyScope: 'multipart', bodyDigest: digest('lcov') })),
          (err: unknown) => err instanceof IdempotencyConflictError && err.scope === 'multipart' && err.uploadId === `${p}-part`,
        );
        // The database holds the rule itself: a second row for a key and scope is refused.
        const commit = await store.getCommit(repo, SHA);
        await assert.rejects(
          db.query(
            `INSERT INTO uploads (id, commit_id, session, state, idempotency_key, idempotency_scope, raw_key, raw_bytes)
             VALUES ($1, $2, 99, 'uploaded', 'mk:0', 'raw', 'raw/x', 1)`,
            [`${p}-direct`, commit?.id],
          ),
          (err: unknown) => sqlState(err) === UNIQUE_VIOLATION,
        );
        assert.equal((await store.listUploads(repo, SHA)).length, 2);
      });

      test('concurrent twins with one key: one upload; twins with another body are refused', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        const results = await Promise.allSettled(
          Array.from({ length: 12 }, (_, i) =>
            store.registerUpload(upload(repo, `${p}-${i}`, { idempotencyKey: 'twin', bodyDigest: digest(i === 0 || i % 3 !== 0 ? 'same' : 'other') })),
          ),
        );
        const answered = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
        assert.equal(answered.filter((r) => r.created).length, 1);
        const winner = answered.find((r) => r.created)!;
        assert.ok(answered.every((r) => r.uploadId === winner.uploadId && r.session === 0));
        const winnerDigest = (await store.getUpload(winner.uploadId))?.bodyDigest;
        // Whichever body won, every twin with the other body is refused, every twin with its body answered.
        const expectRefused = Array.from({ length: 12 }, (_, i) => digest(i === 0 || i % 3 !== 0 ? 'same' : 'other')).filter((d) => d !== winnerDigest).length;
        assert.equal(refused.length, expectRefused);
        assert.ok(refused.every((e) => e instanceof IdempotencyConflictError), String(refused[0]));
        assert.equal((await store.listUploads(repo, SHA)).length, 1);
        assert.equal((await store.getCommit(repo, SHA))?.nextSession, 1);
      });
    });

    describe('0005_idempotency_digest on an older database', () => {
      test('older keyed rows become raw keys without a digest and are still answered', async () => {
        const older = await target.create();
        const odb = await older.open();
        try {
          // Back to the schema before 0005 (its inverse), with a row registered then.
          for (const sql of [
            `ALTER TABLE uploads DROP CONSTRAINT uploads_commit_idempotency_key`,
            `ALTER TABLE uploads DROP CONSTRAINT uploads_idempotency_scoped`,
            `ALTER TABLE uploads DROP COLUMN idempotency_scope`,
            `ALTER TABLE uploads DROP COLUMN body_sha256`,
            `ALTER TABLE uploads ADD CONSTRAINT uploads_commit_id_idempotency_key_key UNIQUE (commit_id, idempotency_key)`,
            `DELETE FROM schema_migrations WHERE id = '0005_idempotency_digest'`,
          ]) {
            await odb.query(sql);
          }
          const ostore = new Store(odb);
          await ostore.createRepository('old/app', 'h');
          await odb.query(`INSERT INTO commits (repository_id, sha, next_session) SELECT id, $1, 1 FROM repositories WHERE slug = 'old/app'`, [SHA]);
          await odb.query(
            `INSERT INTO uploads (id, commit_id, session, state, idempotency_key, raw_key, raw_bytes)
             SELECT 'old-1', id, 0, 'uploaded', 'ci:0', 'raw/old-1', 10 FROM commits WHERE sha = $1`,
            [SHA],
          );
          assert.deepEqual(await runMigrations(odb), ['0005_idempotency_digest']);
          const row = await ostore.getUpload('old-1');
          assert.equal(row?.idempotencyScope, 'raw');
          assert.equal(row?.bodyDigest, null);
          const retry = await ostore.registerUpload({ ...upload('old/app', 'old-2'), idempotencyKey: 'ci:0', bodyDigest: digest('x') });
          assert.deepEqual(retry, { uploadId: 'old-1', session: 0, created: false });
        } finally {
          await odb.close();
          await older.dispose();
        }
      });
    });

    describe('runs and claims', () => {
      const T0 = Date.parse('2025-01-01T00:00:00Z');
      const run = (repo: string, runId: string, startedAt: number) => ({ repo, sha: SHA, runId, runStartedAt: startedAt });
      const claim = (repo: string, runId: string, runClaim: number, limit: number) => store.claimUploads({ repo, sha: SHA, runId, runClaim, limit });
      const sessionsOf = (c: { uploads: { session: number }[] }) => c.uploads.map((u) => u.session);
      const totals = { files: 1, lines: 3, hits: 2, misses: 1, partials: 0, branches: 0, methods: 0, coverage: '66.66667', sessions: 2 };

      test('claims the lowest sessions into a batch numbered per commit; a retried claim returns the same batch', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        for (let i = 0; i < 5; i++) await store.registerUpload(upload(repo, `${p}-${i}`, { formatHint: i === 0 ? 'lcov' : undefined }));
        assert.deepEqual(await store.startRun(run(repo, 'r1', T0)), { version: 0, reportKey: null, totals: null, merged: 0, errors: 0, waiting: 5, released: 0, carryforwardDecided: false });

        const b0 = await claim(repo, 'r1', 0, 2);
        assert.deepEqual(b0, {
          batch: 0,
          uploads: [
            { uploadId: `${p}-0`, session: 0, rawKey: `raw/${p}-0`, rawBytes: 100, formatHint: 'lcov' },
            { uploadId: `${p}-1`, session: 1, rawKey: `raw/${p}-1`, rawBytes: 100, formatHint: null },
          ],
        });
        const row = await store.getUpload(`${p}-0`);
        assert.equal(row?.state, 'processing');
        assert.equal(row?.batch, 0);
        assert.ok(row?.processingStartedAt instanceof Date);

        // New uploads arriving in between do not change a retried claim, whatever its limit.
        await store.registerUpload(upload(repo, `${p}-5`));
        assert.deepEqual(await claim(repo, 'r1', 0, 2), b0);
        assert.deepEqual(await claim(repo, 'r1', 0, 10), b0);

        const b1 = await claim(repo, 'r1', 1, 10);
        assert.equal(b1.batch, 1);
        assert.deepEqual(sessionsOf(b1), [2, 3, 4, 5]);
        assert.deepEqual(await claim(repo, 'r1', 2, 10), { batch: null, uploads: [] }, 'nothing waiting allocates no batch');
        // Still the same set once its uploads have moved on.
        await markProcessed(store, `${p}-0`, `intermediate/${p}-0`);
        assert.deepEqual(await claim(repo, 'r1', 0, 2), b0);
        // An empty claim recorded nothing: the same claim count claims what arrived since.
        await store.registerUpload(upload(repo, `${p}-6`));
        const b2 = await claim(repo, 'r1', 2, 10);
        assert.equal(b2.batch, 2);
        assert.deepEqual(sessionsOf(b2), [6]);
        assert.deepEqual(await claim(repo, 'r1', 2, 10), b2);
        assert.deepEqual(await store.claimUploads({ repo, sha: 'dddddddddddddddddddddddddddddddddddddddd', runId: 'r1', runClaim: 0, limit: 2 }), { batch: null, uploads: [] });
      });

      test('a claim that takes uploads promises the next one; registration reads the promise, which an empty claim, a run start, a release, a withdrawal and time end', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        let n = 0;
        const register = async () => (await store.registerUploadWithStart(upload(repo, `${p}-${n++}`))).claimPromised;
        const promising = (runId: string, runClaim: number, promiseMs = 60_000) => store.claimUploads({ repo, sha: SHA, runId, runClaim, limit: 10, promiseMs });
        assert.equal(await register(), false, 'a new commit has no run');
        await store.startRun(run(repo, 'r1', T0));
        assert.equal(await register(), false);
        assert.deepEqual(sessionsOf(await claim(repo, 'r1', 0, 10)), [0, 1], 'a claim without promiseMs promises nothing');
        assert.equal(await register(), false);
        assert.deepEqual(sessionsOf(await promising('r1', 1)), [2]);
        assert.equal(await register(), true, 'registered while the promise holds');
        assert.equal(await register(), true);
        assert.deepEqual(await promising('r1', 1), { batch: 1, uploads: (await promising('r1', 1)).uploads }, 'a retried claim changes nothing');
        assert.equal(await register(), true);
        assert.deepEqual(sessionsOf(await promising('r1', 2)), [3, 4, 5], 'the next claim takes what was registered under the promise');
        assert.deepEqual(await promising('r1', 3), { batch: null, uploads: [] });
        assert.equal(await register(), false, 'an empty claim withdrew the promise');

        assert.deepEqual(sessionsOf(await promising('r1', 4)), [6]);
        assert.equal(await register(), true);
        await store.startRun(run(repo, 'r2', T0 + 1000));
        assert.equal(await register(), false, 'a new run starts without its predecessor\'s promise');

        assert.equal((await promising('r2', 0)).uploads.length, 9, 'what r1 left claimed, released to r2, and the two registered since');
        await store.releaseClaimsOf({ repo, sha: SHA, runIds: ['r2'] });
        assert.equal(await register(), false, 'releasing a run\'s claims withdraws its promise');

        assert.equal((await promising('r2', 1)).uploads.length, 10, 'the released nine and one more');
        await store.withdrawClaimPromise(repo, SHA);
        assert.equal(await register(), false);

        assert.equal((await promising('r2', 2, 1)).uploads.length, 1, 'a promise of 1 ms');
        await new Promise((r) => setTimeout(r, 20));
        assert.equal(await register(), false, 'a promise ends with its time');
        assert.equal(await store.withdrawClaimPromise('acme/none', SHA), undefined, 'an unknown commit has nothing to withdraw');
      });

      test('registrations under the promise and nudges after an empty claim leave no upload unclaimed, however they interleave', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        const ids = [`${p}-first`];
        await store.registerUpload(upload(repo, ids[0]!));
        await store.startRun(run(repo, 'r1', T0));
        let nudges = 1;
        let promised = 0;
        let sending = true;
        let runClaim = 0;
        // The run's loop: claims again after every batch; after an empty claim it waits for a
        // nudge sent since that claim began, and stops when none comes.
        const claimer = (async () => {
          for (;;) {
            const seen = nudges;
            const c = await store.claimUploads({ repo, sha: SHA, runId: 'r1', runClaim: runClaim++, limit: 10, promiseMs: 60_000 });
            // A batch takes a moment, so registrations land both under the promise and after an empty claim.
            if (c.batch !== null) {
              await new Promise((r) => setTimeout(r, runClaim % 3));
              continue;
            }
            while (nudges === seen && sending) await new Promise((r) => setTimeout(r, 1));
            if (nudges === seen) return;
          }
        })();
        await Promise.all(
          Array.from({ length: 8 }, async (_, s) => {
            for (let i = 0; i < 15; i++) {
              const id = `${p}-${s}-${i}`;
              ids.push(id);
              // The gateway nudges only when the promise did not hold.
              if ((await store.registerUploadWithStart(upload(repo, id))).claimPromised) promised++;
              else nudges++;
              // Pauses together now and then: the run drains, finds nothing and waits for a nudge.
              if (i % 5 === 4) await new Promise((r) => setTimeout(r, 60));
            }
          }),
        );
        sending = false;
        await claimer;
        assert.ok(promised > 0, `some registrations found the promise (${promised} did, ${nudges - 1} nudged)`);
        for (const id of ids) assert.equal((await store.getUpload(id))?.state, 'processing', `${id} was claimed`);
      });

      test('concurrent identical claims claim once', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        for (let i = 0; i < 6; i++) await store.registerUpload(upload(repo, `${p}-${i}`));
        await store.startRun(run(repo, 'r1', T0));
        const claims = await Promise.all(Array.from({ length: 8 }, () => claim(repo, 'r1', 0, 4)));
        for (const c of claims) assert.deepEqual(c, claims[0]);
        assert.deepEqual(sessionsOf(claims[0]!), [0, 1, 2, 3]);
        const counts = await countUploadsByState(db, repo, SHA);
        assert.equal(counts.processing, 4);
        assert.equal(counts.uploaded, 2);
      });

      test("two runs: the later one releases the earlier one's claims and claims them itself; the earlier is fenced out", async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        const id = (i: number) => `${p}-${i}`;
        for (let i = 0; i < 4; i++) await store.registerUpload(upload(repo, id(i)));
        await store.startRun(run(repo, 'r1', T0));
        const first = await claim(repo, 'r1', 0, 2);
        assert.deepEqual(await store.saveBatchReport({ repo, sha: SHA, batch: 0, version: 1, reportKey: 'r/v1-b0', totals, uploadIds: [id(0), id(1)] }), 'saved');
        const mergedBefore = await store.getUpload(id(0));
        const second = await claim(repo, 'r1', 1, 1);
        assert.deepEqual(sessionsOf(second), [2]);
        await markProcessed(store, id(2), `intermediate/${id(2)}`);
        // r1 is terminated here, with session 2 processed but not merged.

        const start = await store.startRun(run(repo, 'r2', T0 + 60_000));
        assert.deepEqual(start, { version: 1, reportKey: 'r/v1-b0', totals, merged: 2, errors: 0, waiting: 2, released: 1, carryforwardDecided: false });
        const released = await store.getUpload(id(2));
        assert.equal(released?.state, 'uploaded');
        assert.equal(released?.batch, null);
        assert.equal(released?.processingStartedAt, null);
        assert.equal(released?.processedAt, null);
        const mergedAfter = await store.getUpload(id(0));
        assert.equal(mergedAfter?.state, 'merged', 'merged uploads are not released');
        assert.equal(mergedAfter?.processingStartedAt?.getTime(), mergedBefore?.processingStartedAt?.getTime());
        assert.equal(mergedAfter?.mergedAt?.getTime(), mergedBefore?.mergedAt?.getTime());
        assert.deepEqual(await store.startRun(run(repo, 'r2', T0 + 60_000)), { ...start, released: 0 }, 'a repeated start releases nothing more');

        // r2's claim 0 is a new batch, not r1's claim 0; it takes the orphan with the rest.
        const taken = await claim(repo, 'r2', 0, 10);
        assert.equal(taken.batch, 2);
        assert.deepEqual(sessionsOf(taken), [2, 3]);
        assert.deepEqual(first.batch, 0);
        // A repeated start of r2 keeps r2's own claims.
        assert.equal((await store.startRun(run(repo, 'r2', T0 + 60_000))).released, 0);
        assert.equal((await store.getUpload(id(3)))?.state, 'processing');

        // r1, still executing somewhere, can neither claim (new or retried) nor take over again.
        await assert.rejects(claim(repo, 'r1', 2, 10), SupersededRunError);
        await assert.rejects(claim(repo, 'r1', 1, 10), SupersededRunError);
        await assert.rejects(store.startRun(run(repo, 'r1', T0)), SupersededRunError);
        // Its late finisher (batch 1, v2) saves nothing and marks nothing merged.
        assert.equal(await store.saveBatchReport({ repo, sha: SHA, batch: 1, version: 2, reportKey: 'r/v2-b1', totals, uploadIds: [id(2)] }), 'superseded');
        assert.equal((await store.getCommitReport(repo, SHA))?.version, 1);
        assert.equal((await store.getUpload(id(2)))?.state, 'processing');

        // r2's finisher saves v2 on top of v1 and merges its batch; its retry is accepted again.
        const r2Save = { repo, sha: SHA, batch: 2, version: 2, reportKey: 'r/v2-b2', totals, uploadIds: [id(2), id(3)] };
        assert.equal(await store.saveBatchReport(r2Save), 'saved');
        const mergedAt = (await store.getUpload(id(3)))?.mergedAt?.getTime();
        assert.equal(await store.saveBatchReport(r2Save), 'saved');
        assert.equal((await store.getUpload(id(3)))?.mergedAt?.getTime(), mergedAt, 'a retried save keeps merged_at');
        assert.deepEqual(await countUploadsByState(db, repo, SHA), { uploaded: 0, processing: 0, processed: 0, merged: 4, error: 0, cancelled: 0 });
        const saved = await store.getCommitReport(repo, SHA);
        assert.equal(saved?.version, 2);
        assert.equal(saved?.reportKey, 'r/v2-b2');
      });

      test('a save never moves the report backwards, nor replaces an equal version written by another batch', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        for (let i = 0; i < 2; i++) await store.registerUpload(upload(repo, `${p}-${i}`));
        await store.startRun(run(repo, 'r1', T0));
        await claim(repo, 'r1', 0, 1);
        await claim(repo, 'r1', 1, 1);
        assert.equal(await store.saveBatchReport({ repo, sha: SHA, batch: 1, version: 3, reportKey: 'r/v3-b1', totals, uploadIds: [`${p}-1`] }), 'saved');
        assert.equal(await store.saveBatchReport({ repo, sha: SHA, batch: 0, version: 2, reportKey: 'r/v2-b0', totals, uploadIds: [`${p}-0`] }), 'outdated');
        assert.equal(await store.saveBatchReport({ repo, sha: SHA, batch: 0, version: 3, reportKey: 'r/v3-b0', totals, uploadIds: [`${p}-0`] }), 'outdated');
        assert.equal((await store.getUpload(`${p}-0`))?.state, 'processing', 'nothing the saved report lacks is marked merged');
        assert.equal((await store.getCommitReport(repo, SHA))?.reportKey, 'r/v3-b1');
        await assert.rejects(store.saveBatchReport({ repo, sha: SHA, batch: 0, version: 4, reportKey: 'k', totals, uploadIds: [`${p}-0`, `${p}-0`] }), ZodError);
        await assert.rejects(store.saveBatchReport({ repo, sha: 'dddddddddddddddddddddddddddddddddddddddd', batch: 0, version: 4, reportKey: 'k', totals, uploadIds: [`${p}-0`] }), NotFoundError);
      });

      test('a run start creates the commit when needed; an unknown repository is NotFoundError', async () => {
        const repo = await newRepo();
        assert.deepEqual(await store.startRun(run(repo, 'r1', T0)), { version: 0, reportKey: null, totals: null, merged: 0, errors: 0, waiting: 0, released: 0, carryforwardDecided: false });
        assert.equal((await store.getCommit(repo, SHA))?.nextSession, 0);
        await assert.rejects(store.startRun(run('acme/unknown', 'r1', T0)), NotFoundError);
        await assert.rejects(store.startRun({ ...run(repo, '', T0) }), ZodError);
      });
    });

    describe('upload states', () => {
      test('move forward only', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        const id = (i: number) => `${p}-${i}`;
        for (let i = 0; i < 6; i++) await store.registerUpload(upload(repo, id(i)));

        assert.equal(await markProcessed(store, id(0), 'k'), false, 'not claimed yet');
        assert.equal((await store.getUpload(id(0)))?.state, 'uploaded');
        await store.startRun({ repo, sha: SHA, runId: 'r', runStartedAt: Date.now() });
        await store.claimUploads({ repo, sha: SHA, runId: 'r', runClaim: 0, limit: 4 });

        assert.equal(await markProcessed(store, id(0), 'intermediate/a'), true);
        const processed = await store.getUpload(id(0));
        assert.equal(processed?.state, 'processed');
        assert.equal(processed?.intermediateKey, 'intermediate/a');
        assert.ok(processed?.processedAt instanceof Date);
        assert.deepEqual(processed?.warnings, []);
        const warnings = [{ code: 'negative_count' as const, count: 3, positions: [{ line: 7, column: 6, source: 'a.c', field: 'DA' }] }];
        assert.equal(await markProcessed(store, id(0), 'intermediate/b', warnings), true, 'a retry is accepted');
        assert.equal((await store.getUpload(id(0)))?.processedAt?.getTime(), processed?.processedAt?.getTime());
        assert.deepEqual((await store.getUpload(id(0)))?.warnings, warnings, 'the retry replaces the warnings');
        assert.deepEqual((await store.listUploads(repo, SHA)).find((u) => u.id === id(0))?.warnings, warnings);
        // Cast past the types on purpose: an unknown code must be refused at run time too.
        await assert.rejects(markProcessed(store, id(0), 'intermediate/b', [{ code: 'made_up', count: 1, positions: [] }] as never));

        assert.equal(await store.markMerged([id(0), id(1), id(4)]), 2, 'processed and processing move, uploaded does not');
        assert.equal((await store.getUpload(id(4)))?.state, 'uploaded');
        const merged = await store.getUpload(id(0));
        assert.equal(merged?.state, 'merged');
        assert.ok(merged?.mergedAt instanceof Date);
        assert.equal(await store.markMerged([id(0)]), 0, 'merging again changes nothing');

        assert.equal(await markProcessed(store, id(0), 'intermediate/c'), false);
        assert.equal(await store.markError(id(0), 'report_empty', 'late'), false);
        assert.equal(await store.markCancelled([id(0)]), 0);
        const still = await store.getUpload(id(0));
        assert.equal(still?.state, 'merged');
        assert.equal(still?.intermediateKey, 'intermediate/b');
        assert.equal(still?.errorCode, null);

        assert.equal(await store.markError(id(2), 'report_invalid', 'bad XML'), true);
        const errored = await store.getUpload(id(2));
        assert.equal(errored?.state, 'error');
        assert.equal(errored?.errorCode, 'report_invalid');
        assert.equal(errored?.errorMessage, 'bad XML');
        assert.equal(await markProcessed(store, id(2), 'k'), false);
        assert.equal(await store.markMerged([id(2)]), 0);
        assert.equal(await store.markCancelled([id(2)]), 0);
        assert.equal((await store.getUpload(id(2)))?.state, 'error');

        assert.equal(await store.markCancelled([id(3), id(5)]), 2, 'processing and uploaded can be cancelled');
        assert.equal(await markProcessed(store, id(3), 'k'), false);
        assert.equal(await store.markMerged([id(3)]), 0);
        assert.equal(await store.markMerged([]), 0);

        assert.deepEqual(await countUploadsByState(db, repo, SHA), {
          uploaded: 1,
          processing: 0,
          processed: 0,
          merged: 2,
          error: 1,
          cancelled: 2,
        });
      });

      test('a chunk is read and marked processed in one statement each, each upload as markProcessed would', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        const id = (i: number) => `${p}-${i}`;
        for (let i = 0; i < 5; i++) await store.registerUpload(upload(repo, id(i)));
        await store.startRun({ repo, sha: SHA, runId: 'r', runStartedAt: Date.now() });
        await store.claimUploads({ repo, sha: SHA, runId: 'r', runClaim: 0, limit: 3 });
        assert.equal(await store.markError(id(2), 'report_invalid', 'bad'), true);

        const rows = await store.getUploads([id(4), id(0), 'unknown-upload', id(1)]);
        assert.deepEqual(rows.map((r) => r.uploadId).sort(), [id(0), id(1), id(4)].sort(), 'unknown ids are left out');
        assert.deepEqual(await store.getUploads([]), []);

        const warnings = [{ code: 'negative_count' as const, count: 1, positions: [{ line: 3, column: 4, source: 'a.c', field: 'DA' }] }];
        const moved = await store.markProcessedMany([
          { uploadId: id(0), intermediateKey: 'intermediate/0', warnings },
          { uploadId: id(1), intermediateKey: 'intermediate/1', warnings: [] },
          { uploadId: id(2), intermediateKey: 'intermediate/2', warnings: [] },
          { uploadId: id(3), intermediateKey: 'intermediate/3', warnings: [] },
        ]);
        assert.deepEqual([...moved].sort(), [id(0), id(1)].sort(), 'only claimed uploads move: not the errored one, not the unclaimed one');
        const [first, second, errored, unclaimed] = await Promise.all([0, 1, 2, 3].map((i) => store.getUpload(id(i))));
        assert.equal(first?.state, 'processed');
        assert.equal(first?.intermediateKey, 'intermediate/0');
        assert.deepEqual(first?.warnings, warnings, 'each upload keeps its own warnings');
        assert.equal(second?.intermediateKey, 'intermediate/1');
        assert.deepEqual(second?.warnings, []);
        assert.equal(errored?.state, 'error');
        assert.equal(errored?.intermediateKey, null);
        assert.equal(unclaimed?.state, 'uploaded');

        const again = await store.markProcessedMany([{ uploadId: id(0), intermediateKey: 'intermediate/0b', warnings: [] }]);
        assert.deepEqual([...again], [id(0)], 'a retried chunk is accepted');
        const retried = await store.getUpload(id(0));
        assert.equal(retried?.processedAt?.getTime(), first?.processedAt?.getTime(), 'the first processed time is kept');
        assert.equal(retried?.intermediateKey, 'intermediate/0b');
        assert.equal((await store.markProcessedMany([])).size, 0);
        // Cast past the types on purpose: an unknown code must be refused at run time too.
        await assert.rejects(store.markProcessedMany([{ uploadId: id(1), intermediateKey: 'k', warnings: [{ code: 'made_up', count: 1, positions: [] }] }] as never));
      });

      test('counts are all zero for an unknown commit', async () => {
        const counts = await countUploadsByState(db, 'acme/none', SHA);
        assert.deepEqual(counts, { uploaded: 0, processing: 0, processed: 0, merged: 0, error: 0, cancelled: 0 });
      });
    });

    describe('commits', () => {
      test('are read; unknown commits are null', async () => {
        const repo = await newRepo();
        assert.equal(await store.getCommit(repo, SHA), null);
        await store.registerUpload(upload(repo, `${repo.replace('/', '-')}-0`));
        const after = await store.getCommit(repo, SHA);
        assert.equal(after?.nextSession, 1);
        assert.ok(after && after.updatedAt.getTime() >= after.createdAt.getTime());
      });
    });

    describe('commit reports', () => {
      test('are read back as saved; none before the first save; totals must be JSON', async () => {
        const repo = await newRepo();
        const id = `${repo.replace('/', '-')}-0`;
        assert.equal(await store.getCommitReport(repo, SHA), null);
        const totals = (lines: number) => ({ files: 1, lines, coverage: '50.00' });
        await store.registerUpload(upload(repo, id));
        await store.startRun({ repo, sha: SHA, runId: 'r1', runStartedAt: Date.parse('2025-01-01T00:00:00Z') });
        await store.claimUploads({ repo, sha: SHA, runId: 'r1', runClaim: 0, limit: 1 });
        assert.equal(await store.saveBatchReport({ repo, sha: SHA, batch: 0, version: 1, reportKey: 'r/1', totals: totals(1), uploadIds: [id] }), 'saved');
        const saved = await store.getCommitReport(repo, SHA);
        assert.equal(saved?.version, 1);
        assert.equal(saved?.reportKey, 'r/1');
        assert.deepEqual(saved?.totals, totals(1));
        assert.ok(saved?.updatedAt instanceof Date);

        await assert.rejects(store.saveBatchReport({ repo, sha: SHA, batch: 0, version: 2, reportKey: 'r/2', totals: undefined, uploadIds: [id] }), ZodError);
        await assert.rejects(
          store.saveBatchReport({ repo: 'acme/unknown', sha: SHA, batch: 0, version: 1, reportKey: 'k', totals: {}, uploadIds: [id] }),
          NotFoundError,
        );
      });
    });

    describe('experiments', () => {
      test('one result per batch, replaced on repeat, listed by batch', async () => {
        const repo = await newRepo();
        const base = { repo, sha: SHA, differingFiles: 0, differingLines: 0, serialMs: 120, shadowMs: 80 };
        await store.recordExperiment({ ...base, batch: 1, outcome: 'mismatch', differingFiles: 2, differingLines: 7, sample: ['a.ts:3'] });
        await store.recordExperiment({ ...base, batch: 0, outcome: 'match', sample: [] });
        await store.recordExperiment({ ...base, batch: 0, outcome: 'shadow_failed', sample: null, shadowMs: null });
        const rows = await store.listExperiments(repo, SHA);
        assert.equal(rows.length, 2);
        assert.deepEqual(
          rows.map(({ createdAt, ...r }) => {
            assert.ok(createdAt instanceof Date);
            return r;
          }),
          [
            { batch: 0, outcome: 'shadow_failed', differingFiles: 0, differingLines: 0, sample: null, serialMs: 120, shadowMs: null },
            { batch: 1, outcome: 'mismatch', differingFiles: 2, differingLines: 7, sample: ['a.ts:3'], serialMs: 120, shadowMs: 80 },
          ],
        );
        // @ts-expect-error: an outcome that does not exist
        await assert.rejects(store.recordExperiment({ ...base, batch: 2, outcome: 'maybe', sample: null }), ZodError);
      });
    });
  });
}
