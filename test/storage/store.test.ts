import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZodError } from 'zod';
import type { Database } from '../../src/storage/database';
import { ConflictError, NotFoundError, Store, type RegisterUploadInput } from '../../src/storage/store';
import { databasesUnderTest, type TestDatabase } from '../support/database';

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

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
      test('are created, read and updated; a taken slug is a ConflictError', async () => {
        const created = await store.createRepository('octo/widgets', 'h1', { fixes: ['a/::b/'] });
        assert.equal(created.slug, 'octo/widgets');
        assert.equal(typeof created.id, 'number');
        assert.equal(created.uploadTokenHash, 'h1');
        assert.deepEqual(created.settings, { fixes: ['a/::b/'] });
        assert.ok(created.createdAt instanceof Date);

        await assert.rejects(store.createRepository('octo/widgets', 'h2'), ConflictError);
        assert.equal((await store.getRepository('octo/widgets'))?.uploadTokenHash, 'h1');
        assert.equal(await store.getRepository('octo/nothing'), null);

        const updated = await store.updateRepositorySettings('octo/widgets', { ignore: ['vendor/**'] });
        assert.deepEqual(updated.settings, { ignore: ['vendor/**'] });
        assert.deepEqual((await store.getRepository('octo/widgets'))?.settings, { ignore: ['vendor/**'] });
        await assert.rejects(store.updateRepositorySettings('octo/nothing', {}), NotFoundError);
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
        assert.equal(row.batchId, null);
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
        assert.equal(commit?.state, 'pending');
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
        const first = await store.registerUpload(upload(repo, `${p}-1`, { idempotencyKey: 'k' }));
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
    });

    describe('claimUploads', () => {
      test('claims the lowest sessions, and a retried claim returns the same set', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        for (let i = 0; i < 5; i++) await store.registerUpload(upload(repo, `${p}-${i}`, { formatHint: i === 0 ? 'lcov' : undefined }));

        const b1 = await store.claimUploads({ repo, sha: SHA, batchId: 'b1', limit: 2 });
        assert.deepEqual(b1, [
          { uploadId: `${p}-0`, session: 0, rawKey: `raw/${p}-0`, rawBytes: 100, formatHint: 'lcov' },
          { uploadId: `${p}-1`, session: 1, rawKey: `raw/${p}-1`, rawBytes: 100, formatHint: null },
        ]);
        const row = await store.getUpload(`${p}-0`);
        assert.equal(row?.state, 'processing');
        assert.equal(row?.batchId, 'b1');
        assert.ok(row?.processingStartedAt instanceof Date);

        // New uploads arriving in between do not change a retried claim.
        await store.registerUpload(upload(repo, `${p}-5`));
        assert.deepEqual(await store.claimUploads({ repo, sha: SHA, batchId: 'b1', limit: 2 }), b1);
        assert.deepEqual(await store.claimUploads({ repo, sha: SHA, batchId: 'b1', limit: 10 }), b1);

        const b2 = await store.claimUploads({ repo, sha: SHA, batchId: 'b2', limit: 10 });
        assert.deepEqual(b2.map((u) => u.session), [2, 3, 4, 5]);
        assert.deepEqual(await store.claimUploads({ repo, sha: SHA, batchId: 'b3', limit: 10 }), []);
        // Still the same set once its uploads have moved on.
        await store.markProcessed(`${p}-0`, `intermediate/${p}-0`);
        assert.deepEqual(await store.claimUploads({ repo, sha: SHA, batchId: 'b1', limit: 2 }), b1);
        assert.deepEqual(await store.claimUploads({ repo, sha: 'dddddddddddddddddddddddddddddddddddddddd', batchId: 'b1', limit: 2 }), []);
      });

      test('concurrent identical claims claim once', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        for (let i = 0; i < 6; i++) await store.registerUpload(upload(repo, `${p}-${i}`));
        const claims = await Promise.all(
          Array.from({ length: 8 }, () => store.claimUploads({ repo, sha: SHA, batchId: 'same', limit: 4 })),
        );
        for (const c of claims) assert.deepEqual(c.map((u) => u.session), [0, 1, 2, 3]);
        const counts = await store.countUploadsByState(repo, SHA);
        assert.equal(counts.processing, 4);
        assert.equal(counts.uploaded, 2);
      });
    });

    describe('upload states', () => {
      test('move forward only', async () => {
        const repo = await newRepo();
        const p = repo.replace('/', '-');
        const id = (i: number) => `${p}-${i}`;
        for (let i = 0; i < 6; i++) await store.registerUpload(upload(repo, id(i)));

        assert.equal(await store.markProcessed(id(0), 'k'), false, 'not claimed yet');
        assert.equal((await store.getUpload(id(0)))?.state, 'uploaded');
        await store.claimUploads({ repo, sha: SHA, batchId: 'b', limit: 4 });

        assert.equal(await store.markProcessed(id(0), 'intermediate/a'), true);
        const processed = await store.getUpload(id(0));
        assert.equal(processed?.state, 'processed');
        assert.equal(processed?.intermediateKey, 'intermediate/a');
        assert.ok(processed?.processedAt instanceof Date);
        assert.deepEqual(processed?.warnings, []);
        const warnings = [{ code: 'negative_count' as const, count: 3, positions: [{ line: 7, column: 6, source: 'a.c', field: 'DA' }] }];
        assert.equal(await store.markProcessed(id(0), 'intermediate/b', warnings), true, 'a retry is accepted');
        assert.equal((await store.getUpload(id(0)))?.processedAt?.getTime(), processed?.processedAt?.getTime());
        assert.deepEqual((await store.getUpload(id(0)))?.warnings, warnings, 'the retry replaces the warnings');
        assert.deepEqual((await store.listUploads(repo, SHA)).find((u) => u.id === id(0))?.warnings, warnings);
        // Cast past the types on purpose: an unknown code must be refused at run time too.
        await assert.rejects(store.markProcessed(id(0), 'intermediate/b', [{ code: 'made_up', count: 1, positions: [] }] as never));

        assert.equal(await store.markMerged([id(0), id(1), id(4)]), 2, 'processed and processing move, uploaded does not');
        assert.equal((await store.getUpload(id(4)))?.state, 'uploaded');
        const merged = await store.getUpload(id(0));
        assert.equal(merged?.state, 'merged');
        assert.ok(merged?.mergedAt instanceof Date);
        assert.equal(await store.markMerged([id(0)]), 0, 'merging again changes nothing');

        assert.equal(await store.markProcessed(id(0), 'intermediate/c'), false);
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
        assert.equal(await store.markProcessed(id(2), 'k'), false);
        assert.equal(await store.markMerged([id(2)]), 0);
        assert.equal(await store.markCancelled([id(2)]), 0);
        assert.equal((await store.getUpload(id(2)))?.state, 'error');

        assert.equal(await store.markCancelled([id(3), id(5)]), 2, 'processing and uploaded can be cancelled');
        assert.equal(await store.markProcessed(id(3), 'k'), false);
        assert.equal(await store.markMerged([id(3)]), 0);
        assert.equal(await store.markMerged([]), 0);

        assert.deepEqual(await store.countUploadsByState(repo, SHA), {
          uploaded: 1,
          processing: 0,
          processed: 0,
          merged: 2,
          error: 1,
          cancelled: 2,
        });
      });

      test('counts are all zero for an unknown commit', async () => {
        const counts = await store.countUploadsByState('acme/none', SHA);
        assert.deepEqual(counts, { uploaded: 0, processing: 0, processed: 0, merged: 0, error: 0, cancelled: 0 });
      });
    });

    describe('commits', () => {
      test('state is set and read; unknown commits are null', async () => {
        const repo = await newRepo();
        assert.equal(await store.getCommit(repo, SHA), null);
        await store.setCommitState(repo, SHA, 'processing');
        const c = await store.getCommit(repo, SHA);
        assert.equal(c?.state, 'processing');
        assert.equal(c?.nextSession, 0);
        await store.registerUpload(upload(repo, `${repo.replace('/', '-')}-0`));
        await store.setCommitState(repo, SHA, 'complete');
        const after = await store.getCommit(repo, SHA);
        assert.equal(after?.state, 'complete');
        assert.equal(after?.nextSession, 1);
        assert.ok(after && after.updatedAt.getTime() >= after.createdAt.getTime());
      });
    });

    describe('commit reports', () => {
      test('versions only move forward; an equal version replaces (a retried save)', async () => {
        const repo = await newRepo();
        assert.equal(await store.getCommitReport(repo, SHA), null);
        const totals = (lines: number) => ({ files: 1, lines, coverage: '50.00' });
        assert.equal(await store.saveCommitReport({ repo, sha: SHA, version: 1, reportKey: 'r/1', totals: totals(1) }), true);
        assert.equal(await store.saveCommitReport({ repo, sha: SHA, version: 3, reportKey: 'r/3', totals: totals(3) }), true);
        assert.equal(await store.saveCommitReport({ repo, sha: SHA, version: 2, reportKey: 'r/2', totals: totals(2) }), false);
        let saved = await store.getCommitReport(repo, SHA);
        assert.equal(saved?.version, 3);
        assert.equal(saved?.reportKey, 'r/3');
        assert.deepEqual(saved?.totals, totals(3));
        assert.ok(saved?.updatedAt instanceof Date);

        assert.equal(await store.saveCommitReport({ repo, sha: SHA, version: 3, reportKey: 'r/3b', totals: totals(33) }), true);
        saved = await store.getCommitReport(repo, SHA);
        assert.equal(saved?.reportKey, 'r/3b');
        assert.deepEqual(saved?.totals, totals(33));

        await assert.rejects(store.saveCommitReport({ repo, sha: SHA, version: 4, reportKey: 'r/4', totals: undefined }), ZodError);
        await assert.rejects(
          store.saveCommitReport({ repo: 'acme/unknown', sha: SHA, version: 1, reportKey: 'k', totals: {} }),
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
