/**
 * The processor on hostile uploads (Temporal's mock activity environment, a real PGlite database
 * and blob folder, the real coverage engine): every bomb ends its upload in `error` with the code
 * the issue asks for and the limit in the message, within the configured parse budget, and an
 * honest report processed by the same activity still succeeds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createProcessUpload } from '../../../src/activities/process-upload';
import type { ProcessSummary, ProcessUploadInput } from '../../../src/activities/contracts';
import type { ActivityDeps } from '../../../src/activities/deps';
import { loadConfig } from '../../../src/config';
import { keys } from '../../../src/storage/blob-store';
import type { Database } from '../../../src/storage/database';
import { FsBlobStore } from '../../../src/storage/fs-blob-store';
import { Store } from '../../../src/storage/store';
import { worstCaseBombs } from '../../support/bombs';
import { databasesUnderTest, type TestDatabase } from '../../support/database';

const REPO = 'bombs/app';
const SHA = 'ab'.repeat(20);

let dir: string;
let database: TestDatabase;
let db: Database;
let deps: ActivityDeps;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tributary-bombs-'));
  database = await databasesUnderTest()[0]!.create();
  db = await database.open();
  const store = new Store(db);
  await store.createRepository(REPO, `hash-${randomUUID()}`);
  // The worker's own defaults, as createWorker passes them.
  deps = { blobs: new FsBlobStore(dir), store, decideMode: async () => ({ mode: 'serial', reason: 'test' }), limits: loadConfig({}).parseLimits };
});
after(async () => {
  await db?.close();
  await database?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function processIn(input: ProcessUploadInput): Promise<ProcessSummary> {
  return new MockActivityEnvironment().run(createProcessUpload(deps), input);
}

async function register(name: string, body: Buffer): Promise<{ uploadId: string; session: number }> {
  const uploadId = randomUUID();
  await deps.blobs.put(keys.raw(uploadId), body);
  const { session } = await deps.store.registerUpload({ repo: REPO, sha: SHA, uploadId, rawKey: keys.raw(uploadId), rawBytes: body.byteLength, name });
  return { uploadId, session };
}

describe('processUpload on bombs', () => {
  test('each worst case ends in error with report_too_large or report_invalid, naming the limit', async () => {
    for (const bomb of worstCaseBombs()) {
      const { uploadId, session } = await register(bomb.name, bomb.body);
      const summary = await processIn({ repo: REPO, sha: SHA, uploadId, session, target: { kind: 'commit', batch: 0 } });
      assert.equal(summary.error?.code, bomb.code, `${bomb.name}: ${summary.error?.message}`);
      assert.ok(summary.error?.message.includes(bomb.code === 'report_too_large' ? bomb.limit : 'entit'), `${bomb.name}: ${summary.error?.message}`);
      assert.equal(summary.key, undefined);
      const row = await deps.store.getUpload(uploadId);
      assert.equal(row?.state, 'error');
      assert.equal(row?.errorCode, bomb.code);
      assert.equal(await deps.blobs.exists(keys.intermediate(uploadId)), false, 'no intermediate written');
    }
  });

  test('an honest report passes the same budget', async () => {
    const body = await readFile(path.resolve(__dirname, '../../../../shared/corpus/negotiator-c8/coverage-final.json'));
    const { uploadId, session } = await register('coverage-final.json', body);
    const summary = await processIn({ repo: REPO, sha: SHA, uploadId, session, target: { kind: 'commit', batch: 0 } });
    assert.equal(summary.error, undefined);
    assert.equal(summary.format, 'istanbul');
    assert.ok(summary.lines > 0);
  });
});
