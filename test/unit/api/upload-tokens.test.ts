/**
 * Upload tokens found once are remembered (they never change); read tokens and tokens that match
 * nothing are asked of the store every time, so revoking a read token ends it at once. The store
 * here is a counting stand-in for the two look-ups callerOfToken makes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callerOfToken, UploadTokens } from '../../../src/api/auth';
import { hashToken } from '../../../src/api/tokens';
import { BoundedMap } from '../../../src/shared/bounded-map';
import type { Store } from '../../../src/storage/store';

function countingStore(opts: { uploadToken: string; readToken: string; readRevoked: () => boolean }) {
  const asked = { repositories: 0, readTokens: 0 };
  const store = {
    async findRepositoryByTokenHash(hash: string) {
      asked.repositories++;
      return hash === hashToken(opts.uploadToken) ? { slug: 'acme/app', uploadTokenHash: hash } : null;
    },
    async findReadTokenByHash(hash: string) {
      asked.readTokens++;
      return hash === hashToken(opts.readToken) && !opts.readRevoked() ? { id: 7, repo: 'acme/app', tokenHash: hash } : null;
    },
  } as unknown as Store;
  return { store, asked };
}

test('an upload token is looked up once, then remembered', async () => {
  const { store, asked } = countingStore({ uploadToken: 'up-1', readToken: 'rd-1', readRevoked: () => false });
  const known = new UploadTokens();
  for (let i = 0; i < 3; i++) assert.deepEqual(await callerOfToken(store, hashToken('admin'), 'up-1', known), { kind: 'repository', slug: 'acme/app' });
  assert.equal(asked.repositories, 1);
  assert.deepEqual(await callerOfToken(store, hashToken('admin'), 'up-1'), { kind: 'repository', slug: 'acme/app' }, 'without the cache, as before');
  assert.equal(asked.repositories, 2);
});

test('read tokens and unknown tokens are asked every time: a revoked read token fails at once', async () => {
  let revoked = false;
  const { store, asked } = countingStore({ uploadToken: 'up-1', readToken: 'rd-1', readRevoked: () => revoked });
  const known = new UploadTokens();
  assert.deepEqual(await callerOfToken(store, hashToken('admin'), 'rd-1', known), { kind: 'reader', slug: 'acme/app', tokenId: 7 });
  revoked = true;
  assert.deepEqual(await callerOfToken(store, hashToken('admin'), 'rd-1', known), { kind: 'unknown' });
  assert.equal(asked.readTokens, 2);
  assert.deepEqual(await callerOfToken(store, hashToken('admin'), 'nobody', known), { kind: 'unknown' });
  assert.deepEqual(await callerOfToken(store, hashToken('admin'), 'nobody', known), { kind: 'unknown' });
  assert.equal(asked.repositories, 4, 'every non-upload token asked the repositories each time');
  assert.deepEqual(await callerOfToken(store, hashToken('admin'), 'admin', known), { kind: 'admin' });
  assert.equal(asked.repositories, 4, 'the admin token asks nothing');
});

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
