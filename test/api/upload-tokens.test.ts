/**
 * Upload tokens found once are remembered (they never change); read tokens and tokens that match
 * nothing are asked of the database every time, so revoking a read token ends it at once. On a
 * real database (PGlite, and PostgreSQL when TEST_DATABASE_URL is set); the store only counts its
 * two look-ups on the way through.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { callerOfToken } from '../../src/api/auth';
import { generateToken, hashToken } from '../../src/api/tokens';
import { BoundedMap } from '../../src/shared/bounded-map';
import type { Database } from '../../src/storage/database';
import { Store } from '../../src/storage/store';
import { databasesUnderTest, type TestDatabase } from '../support/database';

/** The real store, counting the token look-ups callerOfToken makes. */
class CountingStore extends Store {
  repositoryLookUps = 0;
  readTokenLookUps = 0;
  override findRepositoryByTokenHash(hash: string) {
    this.repositoryLookUps++;
    return super.findRepositoryByTokenHash(hash);
  }
  override findReadTokenByHash(hash: string) {
    this.readTokenLookUps++;
    return super.findReadTokenByHash(hash);
  }
}

const ADMIN = hashToken('the-admin-token');

for (const target of databasesUnderTest()) {
  describe(`token callers on ${target.kind}`, () => {
    let testDb: TestDatabase;
    let db: Database;
    let store: CountingStore;
    const upload = generateToken();
    const read = generateToken();
    let readId: string;

    before(async () => {
      testDb = await target.create();
      db = await testDb.open();
      store = new CountingStore(db);
      await store.createRepository('acme/app', hashToken(upload));
      readId = (await store.createReadToken('acme/app', hashToken(read), 'ci')).id;
    });
    after(async () => {
      await db?.close();
      await testDb?.dispose();
    });

    test('an upload token is looked up once, then remembered', async () => {
      const known = new BoundedMap<string, string>(10);
      const before = store.repositoryLookUps;
      for (let i = 0; i < 3; i++) assert.deepEqual(await callerOfToken(store, ADMIN, upload, known), { kind: 'repository', slug: 'acme/app' });
      assert.equal(store.repositoryLookUps - before, 1);
      assert.deepEqual(await callerOfToken(store, ADMIN, upload), { kind: 'repository', slug: 'acme/app' }, 'without the cache, as before');
      assert.equal(store.repositoryLookUps - before, 2);
    });

    test('read tokens and unknown tokens are asked every time: a revoked read token fails at once', async () => {
      const known = new BoundedMap<string, string>(10);
      const reads = store.readTokenLookUps;
      const repos = store.repositoryLookUps;
      assert.deepEqual(await callerOfToken(store, ADMIN, read, known), { kind: 'reader', slug: 'acme/app', tokenId: readId });
      await store.revokeReadToken(readId);
      assert.deepEqual(await callerOfToken(store, ADMIN, read, known), { kind: 'unknown' });
      assert.equal(store.readTokenLookUps - reads, 2);
      assert.deepEqual(await callerOfToken(store, ADMIN, 'nobody', known), { kind: 'unknown' });
      assert.deepEqual(await callerOfToken(store, ADMIN, 'nobody', known), { kind: 'unknown' });
      assert.equal(store.repositoryLookUps - repos, 4, 'every non-upload token asked the repositories each time');
      assert.deepEqual(await callerOfToken(store, ADMIN, 'the-admin-token', known), { kind: 'admin' });
      assert.equal(store.repositoryLookUps - repos, 4, 'the admin token asks nothing');
    });
  });
}

test('the bound forgets the oldest first', () => {
  const m = new BoundedMap<string, number>(2);
  m.set('a', 1);
  m.set('b', 2);
  m.set('a', 3); // refreshed: now the newest
  m.set('c', 4);
  assert.equal(m.get('b'), undefined);
  assert.equal(m.get('a'), 3);
  assert.equal(m.get('c'), 4);
  assert.equal(m.size, 2);
});
