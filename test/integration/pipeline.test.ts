/**
 * The pipeline end to end on a real Temporal dev server, with the real activities over a real
 * database (PGlite, and PostgreSQL when TEST_DATABASE_URL is set) and a blob folder: the three
 * modes give byte-identical reports for random sets of real-corpus uploads; an injected fault in
 * the parallel path is caught by the experiment; lost intermediates and raw uploads are handled.
 * Once more on the S3 blob store against a real S3 server (scripts/s3.sh).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { BlobStore } from '../../src/storage/blob-store';
import { keys } from '../../src/storage/blob-store';
import { commitWorkflowId } from '../../src/workflows/commit-contracts';
import { UPLOAD_MODES, type UploadMode } from '../../src/vocabulary';
import { S3BlobStore } from '../../src/storage/s3-blob-store';
import { databasesUnderTest } from '../support/database';
import { corpusFiles, newSha, Pipeline, type CorpusFile } from '../support/pipeline';
import { realS3, type S3UnderTest } from '../support/s3';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let corpus: CorpusFile[];

before(async () => {
  [env, bundle, corpus] = await Promise.all([createDevServerEnv(), bundleWorkflows(), corpusFiles()]);
});
after(async () => {
  await env?.teardown();
});

/** A small seeded generator, so a failing random set can be replayed with PIPELINE_SEED. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GARBAGE: CorpusFile = { name: 'garbage.txt', body: Buffer.from('this is not a coverage report\n') };

for (const target of databasesUnderTest()) {
  describe(`pipeline on the dev server (${target.kind})`, () => {
    let p: Pipeline;
    before(async () => {
      p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await target.create() });
    });
    after(async () => {
      await p?.close();
    });

    test('serial, parallel and experiment give byte-identical reports for random sets of corpus uploads', async () => {
      const seed = Number(process.env.PIPELINE_SEED ?? Date.now() % 1_000_000);
      const random = rng(seed);
      const worker = await p.worker();
      await worker.runUntil(async () => {
        for (let round = 0; round < 2; round++) {
          const count = 3 + Math.floor(random() * 6);
          const files = Array.from({ length: count }, () => corpus[Math.floor(random() * corpus.length)] as CorpusFile);
          if (round === 1) files.splice(Math.floor(random() * files.length), 0, GARBAGE);
          const what = `seed ${seed}, round ${round}: ${files.map((f) => f.name).join(', ')}`;
          const sha = newSha();
          const repos = {} as Record<UploadMode, string>;
          for (const mode of UPLOAD_MODES) repos[mode] = await p.repo(`modes-${round}-${seed}/${mode}`, mode);
          for (const mode of UPLOAD_MODES) for (const f of files) await p.upload(repos[mode], sha, f);

          const results = await Promise.all(UPLOAD_MODES.map((m) => p.result(repos[m], sha)));
          const reports = await Promise.all(UPLOAD_MODES.map((m) => p.reportBytes(repos[m], sha)));
          for (let i = 1; i < reports.length; i++) {
            assert.ok(reports[0]!.equals(reports[i]!), `${UPLOAD_MODES[i]} differs from ${UPLOAD_MODES[0]} (${what})`);
          }
          const expectedErrors = files.filter((f) => f === GARBAGE).length;
          for (const r of results) {
            assert.equal(r.merged, files.length - expectedErrors, what);
            assert.equal(r.errors, expectedErrors, what);
          }
          const experiment = results[UPLOAD_MODES.indexOf('experiment')]!.experiment;
          assert.equal(experiment.firstProblem, undefined, what);
          assert.ok(experiment.matches >= 1);
          const recorded = await p.store.listExperiments(repos.experiment, sha);
          assert.ok(recorded.length >= 1 && recorded.every((e) => e.outcome === 'match'), what);

          const uploads = await p.store.listUploads(repos.parallel, sha);
          assert.deepEqual(uploads.map((u) => u.session), files.map((_, i) => i), 'sessions are dense, in registration order');
          for (const [i, u] of uploads.entries()) {
            if (files[i] === GARBAGE) {
              assert.equal(u.state, 'error');
              assert.equal(u.errorCode, 'report_invalid');
              assert.match(u.errorMessage ?? '', /garbage\.txt/);
            } else {
              assert.equal(u.state, 'merged', `${files[i]!.name}: ${u.errorMessage}`);
            }
          }
        }
      });
    });

    test('a fault injected into the parallel path is recorded as a mismatch naming the file and line', async () => {
      const lcov = corpus.find((f) => f.name === 'negotiator-nyc/lcov.info') as CorpusFile;
      const text = lcov.body.toString('utf8');
      const hit = /^DA:(\d+),([1-9]\d*)$/m.exec(text);
      assert.ok(hit, 'the fixture has a hit line');
      const sf = text.slice(0, hit.index).split('\n').reverse().find((l) => l.startsWith('SF:')) as string;
      const file = sf.slice(3).replace(/^\/home\/runner\/work\/[^/]+\/[^/]+\//, ''); // as normalised
      const faulty = Buffer.from(text.replace(hit[0], `DA:${hit[1]},0`));
      // Only the shadow (scratch) path reads the altered bytes.
      const alteringBlobs = (blobs: BlobStore): BlobStore => ({
        ...blobs,
        put: (k, b) => blobs.put(k, b),
        exists: (k) => blobs.exists(k),
        delete: (k) => blobs.delete(k),
        get: async (k) => {
          const bytes = await blobs.get(k);
          return k.startsWith('raw/') && bytes && Buffer.from(bytes).equals(lcov.body) ? faulty : bytes;
        },
      });
      const worker = await p.worker((real, deps) => {
        const shadow = createActivities({ ...deps, blobs: alteringBlobs(deps.blobs) });
        return { ...real, processUpload: (i) => (i.target.kind === 'scratch' ? shadow.processUpload(i) : real.processUpload(i)) };
      });
      await worker.runUntil(async () => {
        const sha = newSha();
        const experimentRepo = await p.repo('fault/experiment', 'experiment');
        const serialRepo = await p.repo('fault/serial', 'serial');
        const other = corpus.find((f) => f.name === 'tomli-misc/coverage-py.xml') as CorpusFile;
        for (const repo of [experimentRepo, serialRepo]) {
          await p.upload(repo, sha, lcov);
          await p.upload(repo, sha, other);
        }
        const result = await p.result(experimentRepo, sha);
        await p.result(serialRepo, sha);
        assert.equal(result.experiment.firstProblem, 'mismatch');
        const [recorded] = await p.store.listExperiments(experimentRepo, sha);
        assert.ok(recorded);
        assert.equal(recorded.outcome, 'mismatch');
        assert.equal(recorded.differingFiles, 1);
        assert.equal(recorded.differingLines, 1);
        assert.ok(
          (recorded.sample as string[]).some((s) => s.startsWith(`${file}:${hit[1]} `)),
          `sample ${JSON.stringify(recorded.sample)} names ${file}:${hit[1]}`,
        );
        assert.ok((await p.reportBytes(experimentRepo, sha)).equals(await p.reportBytes(serialRepo, sha)), 'the persisted report is the serial one');
        const desc = await env.client.workflow.getHandle(commitWorkflowId(experimentRepo, sha)).describe();
        assert.deepEqual(desc.searchAttributes.ExperimentOutcome, ['mismatch']);
      });
    });

    test('intermediates deleted between processing and finishing are recomputed; the report is identical', async () => {
      const files = corpus.filter((f) => f.name.startsWith('negotiator-c8/') || f.name.startsWith('tomli-misc/'));
      let deleted = 0;
      const worker = await p.worker((real, deps) => ({
        ...real,
        finishCommit: async (input) => {
          if (input.target.kind === 'commit' && input.sha === disturbedSha && deleted === 0) {
            for (const u of input.uploads) await deps.blobs.delete(keys.intermediate(u.uploadId));
            deleted = input.uploads.length;
          }
          return real.finishCommit(input);
        },
      }));
      const disturbedSha = newSha();
      await worker.runUntil(async () => {
        const repo = await p.repo('backtrack/app', 'parallel');
        const calm = await p.repo('backtrack/calm', 'parallel');
        for (const f of files) await p.upload(repo, disturbedSha, f);
        for (const f of files) await p.upload(calm, disturbedSha, f);
        const result = await p.result(repo, disturbedSha);
        await p.result(calm, disturbedSha);
        assert.equal(deleted, files.length, 'the fault fired');
        assert.equal(result.merged, files.length);
        assert.equal(result.errors, 0);
        assert.ok((await p.reportBytes(repo, disturbedSha)).equals(await p.reportBytes(calm, disturbedSha)));
      });
    });

    test('uploads registered while a batch runs are answered without waiting for a signal, share one soon after, and form the next batch', async () => {
      const sha = newSha();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let finishers = 0;
      const worker = await p.worker((real) => ({
        ...real,
        finishCommit: async (input) => {
          if (input.sha === sha && finishers++ === 0) await gate;
          return real.finishCommit(input);
        },
      }));
      /** The upload ids each signal of the run carried, in order. */
      const signals = async (repo: string) =>
        ((await env.client.workflow.getHandle(commitWorkflowId(repo, sha)).fetchHistory()).events ?? []).flatMap((e) => {
          const payload = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data;
          if (!payload) return [];
          const { uploadId, more } = JSON.parse(Buffer.from(payload).toString('utf8')) as { uploadId: string; more?: string[] };
          return [[uploadId, ...(more ?? [])]];
        });
      await worker.runUntil(async () => {
        const repo = await p.repo('promise/app', 'parallel');
        const files = corpus.slice(0, 6);
        const first = await p.upload(repo, sha, files[0]!);
        while (finishers === 0) await new Promise((r) => setTimeout(r, 20));
        // The first batch is held in its finisher, and its claim promised the next claim: these
        // are answered while it is held.
        const held = await Promise.all(files.slice(1).map((f) => p.upload(repo, sha, f)));
        const heldIds = held.map((u) => u.uploadId);
        assert.ok(held.every((u) => u.workflowId === commitWorkflowId(repo, sha)));
        let carried: string[][] = [];
        for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
          carried = await signals(repo);
          if (heldIds.every((id) => carried.flat().includes(id))) break;
        }
        assert.deepEqual(carried[0], [first.uploadId], 'the first upload signalled alone');
        assert.deepEqual(carried.slice(1).flat().sort(), [...heldIds].sort(), 'the others were nudged after their answers');
        assert.ok(carried.length - 1 < heldIds.length, `several ids to a signal (${carried.length - 1} signals for ${heldIds.length})`);
        release();
        for (;;) {
          const rows = await p.store.listUploads(repo, sha);
          if (rows.every((r) => r.state === 'merged')) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(finishers, 2, 'the five formed one batch after the first');
        // The run's next claim found nothing and withdrew its promise: this upload waits for its signal.
        const late = await p.upload(repo, sha, files[0]!, { name: 'late' });
        const result = await p.result(repo, sha);
        assert.equal(result.merged, 7);
        assert.equal((await p.store.getUpload(late.uploadId))?.state, 'merged');
      });
    });

    test('a raw upload missing from storage is an upload error; the rest of the commit is merged', async () => {
      const worker = await p.worker();
      await worker.runUntil(async () => {
        const repo = await p.repo('lost/app', 'parallel');
        const sha = newSha();
        const kept = await p.upload(repo, sha, corpus[0] as CorpusFile);
        const lost = await p.upload(repo, sha, corpus[1] as CorpusFile);
        await p.blobs.delete(keys.raw(lost.uploadId));
        const result = await p.result(repo, sha);
        assert.equal(result.merged, 1);
        assert.equal(result.errors, 1);
        const lostRow = await p.store.getUpload(lost.uploadId);
        assert.equal(lostRow?.state, 'error');
        assert.equal(lostRow?.errorCode, 'file_not_in_storage');
        assert.equal((await p.store.getUpload(kept.uploadId))?.state, 'merged');
        assert.equal(result.totals?.sessions, 1);
      });
    });

    test('the workflow is found in the visibility store by its search attributes', async () => {
      const worker = await p.worker();
      await worker.runUntil(async () => {
        const repo = await p.repo('visible/app', 'experiment');
        const sha = newSha();
        await p.upload(repo, sha, corpus[0] as CorpusFile);
        await p.upload(repo, sha, GARBAGE);
        await p.result(repo, sha);
        const query = `RepoSlug = "${repo}" AND CommitSha = "${sha}" AND UploadMode = "experiment" AND ExperimentOutcome = "match"`;
        const deadline = Date.now() + 15_000;
        let found: WorkflowExecutionInfo | undefined;
        while (!found && Date.now() < deadline) {
          for await (const wf of env.client.workflow.list({ query })) {
            if (wf.status.name === 'COMPLETED' && wf.searchAttributes.UploadCount?.[0] === 2) found = wf;
          }
          if (!found) await new Promise((r) => setTimeout(r, 250));
        }
        assert.ok(found, `no completed workflow for ${query}`);
        assert.equal(found.workflowId, commitWorkflowId(repo, sha));
        assert.deepEqual(found.searchAttributes.Outcome, ['partial']);
      });
    });
  });
}

describe('pipeline on a real S3 blob store (SeaweedFS)', () => {
  let s3: S3UnderTest;
  let p: Pipeline;
  before(async () => {
    s3 = await realS3();
    const database = await databasesUnderTest()[0]!.create();
    p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database, env: s3.configEnv() });
  });
  after(async () => {
    await p?.close();
    await s3?.release();
  });

  test('serial and parallel merge the same uploads into identical reports, every blob in the bucket', async () => {
    assert.ok(p.blobs instanceof S3BlobStore, 'the pipeline runs on the S3 store');
    const files = [...corpus.slice(0, 4), GARBAGE];
    const sha = newSha();
    const worker = await p.worker();
    await worker.runUntil(async () => {
      const repos = { serial: await p.repo('s3-serial/app', 'serial'), parallel: await p.repo('s3-parallel/app', 'parallel') };
      for (const repo of Object.values(repos)) for (const f of files) await p.upload(repo, sha, f);
      const results = await Promise.all(Object.values(repos).map((r) => p.result(r, sha)));
      for (const r of results) {
        assert.equal(r.merged, files.length - 1);
        assert.equal(r.errors, 1);
      }
      const [serial, parallel] = await Promise.all(Object.values(repos).map((r) => p.reportBytes(r, sha)));
      assert.ok(serial!.equals(parallel!), 'parallel differs from serial');
    });
    // Read back through a store of its own: the raw uploads, intermediates and report are objects
    // in the server's bucket, not files in the data folder.
    const direct = new S3BlobStore({ endpoint: s3.endpoint, region: 'us-east-1', bucket: s3.bucket, forcePathStyle: true, credentials: s3.credentials });
    try {
      const uploads = await p.store.listUploads('s3-parallel/app', sha);
      for (const u of uploads) assert.ok(await direct.exists(keys.raw(u.uploadId)), `raw/${u.uploadId}`);
      const merged = uploads.filter((u) => u.state === 'merged');
      assert.equal(merged.length, files.length - 1);
      for (const u of merged) assert.ok(await direct.exists(keys.intermediate(u.uploadId)), `intermediate/${u.uploadId}`);
      const saved = await p.store.getCommitReport('s3-parallel/app', sha);
      assert.ok(saved && (await direct.get(saved.reportKey))?.byteLength, 'the commit report is in the bucket');
    } finally {
      direct.close();
    }
  });
});
