/**
 * A processor chunk writes its uploads' reports as parts (Temporal's mock activity environment, a
 * real database and blob folder, the real coverage engine, real reports of the corpus): one blob
 * for the chunk where there was one per upload, the rows marked with it, and the finisher's merge
 * of parts equal to its merge of the uploads' own intermediates.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createFinishCommit } from '../../../src/activities/finish-commit';
import { createProcessUpload, createProcessUploads } from '../../../src/activities/process-upload';
import type { BatchUpload, FinishInput, FinishResult, FinishUpload, ProcessSummary, Target } from '../../../src/activities/contracts';
import type { ActivityDeps } from '../../../src/activities/deps';
import { loadConfig } from '../../../src/config';
import { readReport, serializeReport } from '../../../src/coverage/report-format';
import { intermediatePartName, keys } from '../../../src/storage/blob-store';
import type { Database } from '../../../src/storage/database';
import { FsBlobStore } from '../../../src/storage/fs-blob-store';
import { Store } from '../../../src/storage/store';
import { databasesUnderTest, type TestDatabase } from '../../support/database';

const REPO = 'chunks/app';
/** Each test's own commit. */
let SHA = '';
let commits = 0;
const CORPUS = path.resolve(__dirname, '../../../../shared/corpus');
const REPORTS = [
  'negotiator-c8/lcov.info',
  'negotiator-c8/cobertura-coverage.xml',
  'negotiator-nyc/coverage-final.json',
  'negotiator-nyc/clover.xml',
  'tomli-misc/coverage-py.xml',
  'tomli-misc/coverage-py.json',
];

let dir: string;
let database: TestDatabase;
let db: Database;
let store: Store;
let blobs: FsBlobStore;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tributary-chunks-'));
  database = await databasesUnderTest()[0]!.create();
  db = await database.open();
  store = new Store(db);
  blobs = new FsBlobStore(path.join(dir, 'blobs'));
  await store.createRepository(REPO, `hash-${randomUUID()}`);
});
after(async () => {
  await db?.close();
  await database?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function deps(extra: Partial<ActivityDeps> = {}): ActivityDeps {
  return { blobs, store, decideMode: async () => ({ mode: 'parallel', reason: 'test' }), limits: loadConfig({}).parseLimits, ...extra };
}

async function register(name: string, body: Buffer): Promise<BatchUpload> {
  const uploadId = randomUUID();
  await blobs.put(keys.raw(uploadId), body);
  const { session } = await store.registerUpload({ repo: REPO, sha: SHA, uploadId, rawKey: keys.raw(uploadId), rawBytes: body.byteLength, name });
  return { uploadId, session };
}

/** The corpus reports, with a damaged one in the middle. */
async function registerChunk(): Promise<{ uploads: BatchUpload[]; bad: string }> {
  SHA = (++commits).toString(16).padStart(40, 'c');
  const uploads: BatchUpload[] = [];
  for (const file of REPORTS.slice(0, 3)) uploads.push(await register(path.basename(file), await readFile(path.join(CORPUS, file))));
  const bad = await register('broken.xml', Buffer.from('<?xml version="1.0"?><coverage><packages><package'));
  uploads.push(bad);
  for (const file of REPORTS.slice(3)) uploads.push(await register(path.basename(file), await readFile(path.join(CORPUS, file))));
  return { uploads, bad: bad.uploadId };
}

function processChunk(uploads: BatchUpload[], target: Target, extra?: Partial<ActivityDeps>): Promise<ProcessSummary[]> {
  return new MockActivityEnvironment().run(createProcessUploads(deps(extra)), { repo: REPO, sha: SHA, uploads, target });
}

function finishUploads(uploads: BatchUpload[], summaries: ProcessSummary[]): FinishUpload[] {
  return uploads.flatMap((u, i) => {
    const s = summaries[i]!;
    if (s.error) return [];
    return [s.part ? { ...u, part: s.part } : u];
  });
}

/** The report the finisher writes for a scratch batch, decoded and written again (the plain bytes). */
async function finishScratch(batch: number, uploads: FinishUpload[]): Promise<Buffer> {
  const input: FinishInput = { repo: REPO, sha: SHA, target: { kind: 'scratch', batch }, baseKey: null, version: 1, uploads };
  const res: FinishResult = await new MockActivityEnvironment().run(createFinishCommit(deps()), input);
  assert.equal(res.status, 'ok', JSON.stringify(res));
  if (res.status !== 'ok') throw new Error('unreachable');
  return Buffer.from(serializeReport(readReport((await blobs.get(res.reportKey))!)));
}

async function keysUnder(prefix: string): Promise<string[]> {
  return (await blobs.list(prefix)).blobs.map((b) => b.key);
}

describe('processUploads writes parts', () => {
  test("a chunk's good uploads share one part; the damaged one is an error; the rows name the part", async () => {
    const { uploads, bad } = await registerChunk();
    // Claimed by a run, as the workflow claims them: 'processing', so the processor may mark them.
    await store.startRun({ repo: REPO, sha: SHA, runId: 'run-1', runStartedAt: Date.now() });
    const claim = await store.claimUploads({ repo: REPO, sha: SHA, runId: 'run-1', runClaim: 0, limit: 100 });
    assert.equal(claim.uploads.length, uploads.length);
    const summaries = await processChunk(uploads, { kind: 'commit', batch: claim.batch! });
    assert.deepEqual(
      summaries.map((s) => s.uploadId),
      uploads.map((u) => u.uploadId),
      'one summary per upload, in order',
    );
    const good = uploads.filter((u) => u.uploadId !== bad);
    const part = intermediatePartName(good.map((u) => u.uploadId));
    for (const s of summaries) {
      if (s.uploadId === bad) {
        assert.equal(s.error?.code, 'report_invalid');
        assert.equal(s.key, undefined);
        assert.equal(s.part, undefined);
      } else {
        assert.equal(s.error, undefined);
        assert.equal(s.part, part);
        assert.equal(s.key, keys.intermediate(part));
        assert.ok(s.lines > 0 && s.files > 0);
      }
    }
    const written = (await keysUnder('intermediate/')).filter((k) => good.some((u) => k.startsWith(`intermediate/${u.uploadId}`)));
    assert.deepEqual(written, [keys.intermediate(part)], 'one blob for the chunk');
    for (const u of uploads) {
      const row = await store.getUpload(u.uploadId);
      if (u.uploadId === bad) assert.equal(row?.state, 'error');
      else {
        assert.equal(row?.state, 'processed');
        assert.equal(row?.intermediateKey, keys.intermediate(part));
      }
    }
    const report = readReport((await blobs.get(keys.intermediate(part)))!);
    assert.deepEqual(
      report.sessions.map((s) => s.id),
      good.map((u) => u.session),
      "the part holds exactly its uploads' sessions",
    );
  });

  test("the finisher's merge of parts equals its merge of each upload's own intermediate", async () => {
    const { uploads } = await registerChunk();
    const chunked = await processChunk(uploads, { kind: 'scratch', batch: 1 });
    assert.equal(new Set(chunked.filter((s) => !s.error).map((s) => s.key)).size, 1);
    const single: ProcessSummary[] = [];
    for (const u of uploads) {
      single.push(await new MockActivityEnvironment().run(createProcessUpload(deps()), { repo: REPO, sha: SHA, ...u, target: { kind: 'scratch' as const, batch: 2 } }));
    }
    assert.equal(single.filter((s) => s.part !== undefined).length, 0, 'a single processor writes no part');
    assert.deepEqual(single.map((s) => s.error?.code), chunked.map((s) => s.error?.code), 'the same errors');
    assert.equal(new Set(single.filter((s) => !s.error).map((s) => s.key)).size, REPORTS.length);
    const fromParts = await finishScratch(1, finishUploads(uploads, chunked));
    const fromOwn = await finishScratch(2, finishUploads(uploads, single));
    assert.ok(fromParts.equals(fromOwn), 'the same report, byte for byte');
  });

  test('a chunk larger than the part bound is written in several parts, each upload in one', async () => {
    const { uploads } = await registerChunk();
    // Each report alone is over a byte: every upload is its own part, written under its own id.
    const alone = await processChunk(uploads, { kind: 'scratch', batch: 3 }, { partMaxBytes: 1 });
    for (const s of alone.filter((x) => !x.error)) {
      assert.equal(s.part, undefined);
      assert.equal(s.key, keys.scratchIntermediate(REPO, SHA, 3, s.uploadId));
    }
    // A bound between: more than one part, consecutive uploads in each, none holding the whole chunk.
    const sizes = await Promise.all(alone.filter((x) => !x.error).map(async (s) => (await blobs.get(s.key!))!.byteLength));
    const bound = Math.max(...sizes) * 2;
    const split = await processChunk(uploads, { kind: 'scratch', batch: 4 }, { partMaxBytes: bound });
    const ok = split.filter((s) => !s.error);
    const parts = [...new Set(ok.map((s) => s.key))];
    assert.ok(parts.length > 1 && parts.length < ok.length, `parts: ${parts.length} of ${ok.length}`);
    let previous = -1;
    for (const key of parts) {
      const at = ok.map((s, i) => (s.key === key ? i : -1)).filter((i) => i >= 0);
      assert.deepEqual(at, Array.from({ length: at.length }, (_, k) => at[0]! + k), 'consecutive uploads');
      assert.ok(at[0]! > previous);
      previous = at.at(-1)!;
    }
    const fromSplit = await finishScratch(4, finishUploads(uploads, split));
    const fromAlone = await finishScratch(3, finishUploads(uploads, alone));
    assert.ok(fromSplit.equals(fromAlone));
  });
});
