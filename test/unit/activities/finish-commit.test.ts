/**
 * The finisher on its own (Temporal's mock activity environment, a real blob folder, the real
 * coverage engine): tree-merges any fan-in to the same bytes, reports missing intermediates
 * instead of failing, and takes a batch's sessions out of the base before merging them again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createFinishCommit } from '../../../src/activities/finish-commit';
import type { ActivityDeps } from '../../../src/activities/deps';
import type { FinishInput, FinishResult } from '../../../src/activities/contracts';
import { parseReport } from '../../../src/coverage/parse';
import { compressReport, mergeSerializedReports, readFileTotals, readReport, serializeReport } from '../../../src/coverage/report-format';
import { fileEntries } from '../../../src/web/tree';
import { intermediatePartName, keys } from '../../../src/storage/blob-store';
import { FsBlobStore } from '../../../src/storage/fs-blob-store';
import type { SaveBatchOutcome, Store } from '../../../src/storage/store';

let dir: string;
let blobs: FsBlobStore;
const saved: { version: number; reportKey: string }[] = [];
const merged: string[][] = [];
/** What the stand-in store answers a save; a fault test sets another outcome. */
let saveOutcome: SaveBatchOutcome = 'saved';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tributary-finish-'));
  blobs = new FsBlobStore(dir);
  for (let session = 0; session < 7; session++) {
    const lcov = `SF:src/f${session % 3}.ts\nDA:1,${session}\nDA:${2 + session},1\nBRDA:1,0,0,${session % 2}\nBRDA:1,0,1,1\nend_of_record\n`;
    const { report } = await parseReport(Buffer.from(lcov), { fileName: `u${session}`, sessionId: session });
    await blobs.put(keys.intermediate(`u${session}`), compressReport(report));
  }
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function deps(fanIn: number): ActivityDeps {
  const store = {
    // As the real one: the report saved and the uploads merged together, or neither.
    async saveBatchReport(input: { version: number; reportKey: string; uploadIds: string[] }): Promise<SaveBatchOutcome> {
      if (saveOutcome !== 'saved') return saveOutcome;
      saved.push({ version: input.version, reportKey: input.reportKey });
      merged.push(input.uploadIds);
      return 'saved';
    },
  } as unknown as Store; // only the method the finisher calls on a commit target
  return { blobs, store, decideMode: async () => ({ mode: 'parallel', reason: 'test' }), mergeFanIn: fanIn };
}

const uploads = (ids: number[]) => ids.map((session) => ({ uploadId: `u${session}`, session }));

async function finish(input: FinishInput, fanIn = 16): Promise<FinishResult> {
  return new MockActivityEnvironment().run(createFinishCommit(deps(fanIn)), input);
}

async function reportAt(key: string): Promise<Buffer> {
  return Buffer.from(serializeReport(readReport((await blobs.get(key)) as Uint8Array)));
}

describe('finishCommit', () => {
  test('any fan-in gives the same bytes and totals', async () => {
    const input: FinishInput = { repo: 'acme/app', sha: 'abcdef1', target: { kind: 'commit', batch: 0 }, baseKey: null, version: 1, uploads: uploads([0, 1, 2, 3, 4, 5, 6]) };
    const wide = await finish(input, 16);
    assert.equal(wide.status, 'ok');
    const a = await reportAt(keys.commitReport('acme/app', 'abcdef1', 1, 0));
    const narrow = await finish(input, 2);
    assert.deepEqual(narrow, wide);
    assert.ok(a.equals(await reportAt(keys.commitReport('acme/app', 'abcdef1', 1, 0))));
    if (wide.status === 'ok') assert.equal(wide.totals.sessions, 7);
    assert.deepEqual(merged.at(-1), ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
    assert.deepEqual(saved.at(-1), { version: 1, reportKey: keys.commitReport('acme/app', 'abcdef1', 1, 0) });
  });

  test('merging into a base equals merging everything at once', async () => {
    const all = await finish({ repo: 'acme/b', sha: 'abcdef2', target: { kind: 'commit', batch: 0 }, baseKey: null, version: 1, uploads: uploads([0, 1, 2, 3, 4]) });
    await finish({ repo: 'acme/b', sha: 'abcdef3', target: { kind: 'commit', batch: 0 }, baseKey: null, version: 1, uploads: uploads([0, 1]) });
    const stepped = await finish({
      repo: 'acme/b',
      sha: 'abcdef3',
      target: { kind: 'commit', batch: 0 },
      baseKey: keys.commitReport('acme/b', 'abcdef3', 1, 0),
      version: 2,
      uploads: uploads([2, 3, 4]),
    });
    assert.deepEqual(stepped.status === 'ok' && stepped.totals, all.status === 'ok' && all.totals);
    assert.ok((await reportAt(keys.commitReport('acme/b', 'abcdef2', 1, 0))).equals(await reportAt(keys.commitReport('acme/b', 'abcdef3', 2, 0))));
  });

  test("a base that already holds the batch's sessions counts them once", async () => {
    await finish({ repo: 'acme/c', sha: 'abcdef4', target: { kind: 'commit', batch: 0 }, baseKey: null, version: 1, uploads: uploads([0, 1, 2]) });
    const again = await finish({
      repo: 'acme/c',
      sha: 'abcdef4',
      target: { kind: 'commit', batch: 0 },
      baseKey: keys.commitReport('acme/c', 'abcdef4', 1, 0),
      version: 2,
      uploads: uploads([1, 2]),
    });
    assert.equal(again.status === 'ok' && again.totals.sessions, 3);
    assert.ok((await reportAt(keys.commitReport('acme/c', 'abcdef4', 1, 0))).equals(await reportAt(keys.commitReport('acme/c', 'abcdef4', 2, 0))));
  });

  test('missing intermediates are named, and nothing is written', async () => {
    const before = saved.length;
    const res = await finish({ repo: 'acme/d', sha: 'abcdef5', target: { kind: 'commit', batch: 0 }, baseKey: null, version: 1, uploads: [...uploads([0]), { uploadId: 'gone', session: 9 }] });
    assert.deepEqual(res, { status: 'missing', missing: ['gone'] });
    assert.equal(saved.length, before);
    assert.equal(await blobs.exists(keys.commitReport('acme/d', 'abcdef5', 1, 0)), false);
  });

  test("a part is read once for all of its uploads, and a missing part names each of them", async () => {
    const ids = ['u1', 'u2', 'u3'];
    const part = intermediatePartName(ids);
    const own = await Promise.all(ids.map(async (id) => (await blobs.get(keys.intermediate(id))) as Uint8Array));
    await blobs.put(keys.intermediate(part), mergeSerializedReports(own).bytes);
    const inParts = [...uploads([0]), ...uploads([1, 2, 3]).map((u) => ({ ...u, part })), ...uploads([4])];
    const res = await finish({ repo: 'acme/p', sha: 'abcdef9', target: { kind: 'commit', batch: 0 }, baseKey: null, version: 1, uploads: inParts });
    assert.equal(res.status, 'ok');
    const plain = await finish({ repo: 'acme/p', sha: 'abcdef9', target: { kind: 'commit', batch: 0 }, baseKey: null, version: 2, uploads: uploads([0, 1, 2, 3, 4]) });
    assert.ok((await reportAt(keys.commitReport('acme/p', 'abcdef9', 1, 0))).equals(await reportAt(keys.commitReport('acme/p', 'abcdef9', 2, 0))));
    assert.deepEqual(res.status === 'ok' && res.totals, plain.status === 'ok' && plain.totals);

    const gone = intermediatePartName(['u5', 'u6']);
    const missing = await finish({
      repo: 'acme/p',
      sha: 'abcdef9',
      target: { kind: 'commit', batch: 1 },
      baseKey: null,
      version: 3,
      uploads: [...uploads([0]), ...uploads([5, 6]).map((u) => ({ ...u, part: gone }))],
    });
    assert.deepEqual(missing, { status: 'missing', missing: ['u5', 'u6'] });
  });

  test("an intermediate holding a session that is not the batch's fails without retries", async () => {
    // u1's part named for u2 only: merging it would count session 1 where no upload of the batch has it.
    const part = intermediatePartName(['u2', 'u9']);
    const own = await Promise.all(['u1', 'u2'].map(async (id) => (await blobs.get(keys.intermediate(id))) as Uint8Array));
    await blobs.put(keys.intermediate(part), mergeSerializedReports(own).bytes);
    const before = saved.length;
    await assert.rejects(
      finish({ repo: 'acme/q', sha: 'abcdefa', target: { kind: 'commit', batch: 0 }, baseKey: null, version: 1, uploads: [{ uploadId: 'u2', session: 2, part }] }),
      (err: Error & { type?: string; nonRetryable?: boolean }) => err.name === 'ApplicationFailure' && err.type === 'StraySession' && err.nonRetryable === true && /session 1/.test(err.message),
    );
    assert.equal(saved.length, before);
  });

  test('the scratch target writes under the scratch prefix and touches no database', async () => {
    for (const s of [0, 1]) await blobs.put(keys.scratchIntermediate('acme/e', 'abcdef6', 3, `u${s}`), (await blobs.get(keys.intermediate(`u${s}`))) as Uint8Array);
    const before = saved.length;
    const res = await finish({ repo: 'acme/e', sha: 'abcdef6', target: { kind: 'scratch', batch: 3 }, baseKey: null, version: 1, uploads: uploads([0, 1]) });
    assert.equal(res.status === 'ok' && res.reportKey, keys.scratchReport('acme/e', 'abcdef6', 3));
    assert.equal(saved.length, before);
    assert.equal(await blobs.exists(keys.reportTotals(keys.scratchReport('acme/e', 'abcdef6', 3))), false, 'no page reads scratch: no per-file totals');
  });

  test("a commit report's per-file totals are written with it and equal the report's", async () => {
    const res = await finish({ repo: 'acme/f', sha: 'abcdef7', target: { kind: 'commit', batch: 0 }, baseKey: null, version: 1, uploads: uploads([0, 1, 2, 3]) });
    assert.equal(res.status, 'ok');
    const key = keys.commitReport('acme/f', 'abcdef7', 1, 0);
    const stored = await blobs.get(keys.reportTotals(key));
    assert.ok(stored, 'per-file totals stored');
    assert.deepEqual(readFileTotals(stored), fileEntries(readReport((await blobs.get(key)) as Uint8Array)));
  });

  test('a save the store refuses (uploads released to a later run) fails without retries', async () => {
    saveOutcome = 'superseded';
    try {
      await assert.rejects(
        finish({ repo: 'acme/f', sha: 'abcdef8', target: { kind: 'commit', batch: 4 }, baseKey: null, version: 3, uploads: uploads([0, 1]) }),
        (err: Error & { type?: string; nonRetryable?: boolean }) =>
          err.name === 'ApplicationFailure' && err.type === 'RunSuperseded' && err.nonRetryable === true && /superseded/.test(err.message),
      );
    } finally {
      saveOutcome = 'saved';
    }
    // Its blob is its batch's own: a live run's v3 (another batch) is a different key.
    assert.notEqual(keys.commitReport('acme/f', 'abcdef8', 3, 4), keys.commitReport('acme/f', 'abcdef8', 3, 5));
  });

  test('invalid input is refused without retries', async () => {
    await assert.rejects(
      finish({ repo: 'not a slug', sha: 'abcdef7', target: { kind: 'commit', batch: 0 }, baseKey: null, version: 1, uploads: uploads([0]) } as FinishInput),
      (err: Error) => err.name === 'ApplicationFailure' && /repo: expected OWNER\/NAME/.test(err.message),
    );
  });
});
