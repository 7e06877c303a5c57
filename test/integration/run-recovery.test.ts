/**
 * New runs of a commit's workflow on a real Temporal dev server, with the real activities over a
 * real database (PGlite, and PostgreSQL when TEST_DATABASE_URL is set): an upload after the
 * workflow closed merges on top of the saved report; uploads claimed by a terminated run are
 * released to the next run, started by a new upload or simply started again; activities of the
 * terminated run that finish late change nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import { toParseJson } from '../../src/coverage/json-output';
import { readReport } from '../../src/coverage/report-format';
import type { UploadRow } from '../../src/storage/store';
import { commitWorkflowId, type CommitWorkflowInput } from '../../src/workflows/commit-contracts';
import { commitWorkflow } from '../../src/workflows';
import { databasesUnderTest } from '../support/database';
import { corpusFiles, newSha, Pipeline, type CorpusFile } from '../support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';
import { pickCorpus, localParse } from '../support/local-parse';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let corpus: CorpusFile[];

before(async () => {
  [env, bundle, corpus] = await Promise.all([createDevServerEnv(), bundleWorkflows(), corpusFiles()]);
});
after(async () => {
  await env?.teardown();
});

async function assertReportIs(p: Pipeline, repo: string, sha: string, files: CorpusFile[]): Promise<void> {
  const saved = await p.store.getCommitReport(repo, sha);
  assert.ok(saved, 'a report is saved');
  const remote = toParseJson(readReport((await p.blobs.get(saved.reportKey)) as Uint8Array));
  const local = await localParse(files);
  assert.equal(JSON.stringify(remote.files), JSON.stringify(local.files), 'files as one local merge of every upload');
  assert.equal(JSON.stringify(remote.totals), JSON.stringify(local.totals), 'totals as one local merge of every upload');
}

function timesOf(rows: UploadRow[]): { id: string; started?: number; merged?: number }[] {
  return rows.map((r) => ({ id: r.uploadId, started: r.processingStartedAt?.getTime(), merged: r.mergedAt?.getTime() }));
}

async function waitUntil(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Holds back one activity of the first run that reaches it (and every later call of that run),
 * until opened; calls of any other run pass. What the held calls finally did is kept.
 */
class RunGate {
  private run: string | undefined;
  private open!: () => void;
  private readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  held = 0;
  readonly late: Promise<unknown>[] = [];

  constructor(private readonly sha: string) {}

  wrap<I extends { sha: string }, O>(real: (input: I) => Promise<O>, holds: (input: I) => boolean = () => true): (input: I) => Promise<O> {
    return async (input) => {
      const runId = Context.current().info.workflowExecution?.runId;
      if (input.sha !== this.sha || !holds(input) || (this.run !== undefined && this.run !== runId)) return real(input);
      this.run = runId;
      this.held++;
      const outcome = this.opened.then(() => real(input));
      this.late.push(outcome.catch((err: unknown) => err));
      return outcome;
    };
  }

  /** Lets the held calls go on and waits for what they did. */
  async release(): Promise<unknown[]> {
    this.open();
    return Promise.all(this.late);
  }
}

for (const target of databasesUnderTest()) {
  describe(`new runs of a commit's workflow (dev server, ${target.kind})`, () => {
    let p: Pipeline;
    before(async () => {
      p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await target.create() });
    });
    after(async () => {
      await p?.close();
    });

    function workflowArgs(repo: string, sha: string): CommitWorkflowInput {
      const c = p.config.pipeline;
      return {
        repo,
        sha,
        settings: { debounceMs: c.debounceMs, maxDebounceMs: c.maxDebounceMs, idleTimeoutMs: c.idleTimeoutMs, maxParallel: c.maxParallel, maxBatch: c.maxBatch },
      };
    }

    test('an upload after the workflow closed is merged on top of the saved report; the old uploads are not processed again', async () => {
      const worker = await p.worker();
      await worker.runUntil(async () => {
        const repo = await p.repo('closed/app', 'serial');
        const sha = newSha();
        const first = pickCorpus(corpus, 'negotiator-nyc/lcov.info', 'tomli-misc/coverage-py.xml', 'negotiator-c8/lcov.info');
        for (const f of first) await p.upload(repo, sha, f);
        const closed = await p.result(repo, sha);
        assert.equal(closed.version, 3, 'serial: a version per upload');
        const handle = env.client.workflow.getHandle(commitWorkflowId(repo, sha));
        const firstRun = await handle.describe();
        assert.equal(firstRun.status.name, 'COMPLETED', 'the workflow closed after its idle timeout');
        const before = timesOf(await p.store.listUploads(repo, sha));

        const later = pickCorpus(corpus, 'negotiator-nyc/clover.xml');
        const registered = await p.upload(repo, sha, later[0]!);
        assert.equal(registered.session, 3);
        const result = await p.result(repo, sha);
        assert.notEqual((await handle.describe()).runId, firstRun.runId, 'a new run merged it');
        assert.equal(result.version, 4, 'the new merge only advanced the version');
        assert.equal(result.merged, 4);
        assert.equal(result.totals?.sessions, 4);
        assert.equal((await p.store.getCommitReport(repo, sha))?.version, 4);

        const rows = await p.store.listUploads(repo, sha);
        assert.deepEqual(rows.map((r) => [r.session, r.state]), [[0, 'merged'], [1, 'merged'], [2, 'merged'], [3, 'merged']]);
        assert.deepEqual(timesOf(rows).slice(0, 3), before, 'the old uploads kept their processing and merge times');
        assert.ok(rows[3]!.batch !== null && rows[3]!.batch > rows[0]!.batch!, 'the new run claimed a batch of its own');
        await assertReportIs(p, repo, sha, [...first, ...later]);
      });
    });

    test('a run terminated mid-batch: the next upload restarts the workflow and every upload is merged once; late processors change nothing', async () => {
      const sha = newSha();
      const gate = new RunGate(sha);
      // The first upload is processed; the others are held inside their processors.
      const worker = await p.worker((real) => ({ ...real, processUpload: gate.wrap(real.processUpload, (i) => i.session > 0) }) satisfies Activities);
      await worker.runUntil(async () => {
        try {
          const repo = await p.repo('terminated/app', 'parallel');
          const first = pickCorpus(corpus, 'negotiator-nyc/lcov.info', 'tomli-misc/coverage-py.xml', 'negotiator-c8/lcov.info');
          for (const f of first) await p.upload(repo, sha, f);
          const handle = env.client.workflow.getHandle(commitWorkflowId(repo, sha));
          await waitUntil('two processors held and the first upload processed', async () => {
            const rows = await p.store.listUploads(repo, sha);
            return gate.held === 2 && rows[0]?.state === 'processed';
          });
          const dead = (await handle.describe()).runId;
          await handle.terminate('operator: stuck');
          const orphaned = await p.store.listUploads(repo, sha);
          assert.deepEqual(orphaned.map((r) => r.state), ['processed', 'processing', 'processing']);

          const later = pickCorpus(corpus, 'negotiator-nyc/clover.xml');
          await p.upload(repo, sha, later[0]!);
          // The dead run had promised its next claim, so the upload was answered before its nudge,
          // which follows within moments and starts the new run.
          await waitUntil('a new run started by the upload', async () => (await handle.describe()).runId !== dead);
          const result = await p.result(repo, sha);
          assert.equal(result.merged, 4);
          assert.equal(result.errors, 0);
          assert.equal(result.version, 1, 'the terminated run saved nothing; the new run one version');
          assert.equal(result.totals?.sessions, 4, 'every upload counted once');
          const merged = await p.store.listUploads(repo, sha);
          assert.deepEqual([...new Set(merged.map((r) => r.state))], ['merged']);
          assert.equal(new Set(merged.map((r) => r.batch)).size, 1, 'orphans and the new upload in the new run’s batch');
          await assertReportIs(p, repo, sha, [...first, ...later]);

          // The held processors of the terminated run now finish: nothing moves.
          const late = await gate.release();
          assert.equal(late.length, 2);
          assert.deepEqual(timesOf(await p.store.listUploads(repo, sha)), timesOf(merged));
          assert.equal((await p.store.getCommitReport(repo, sha))?.version, 1);
          await assertReportIs(p, repo, sha, [...first, ...later]);
        } finally {
          await gate.release();
        }
      });
    });

    test('a run terminated in its finisher: started again with no upload, the next run merges the orphans; the late finisher is fenced out', async () => {
      const sha = newSha();
      const gate = new RunGate(sha);
      const worker = await p.worker((real) => ({ ...real, finishCommit: gate.wrap(real.finishCommit, (i) => i.target.kind === 'commit') }) satisfies Activities);
      await worker.runUntil(async () => {
        try {
          const repo = await p.repo('fenced/app', 'parallel');
          const files = pickCorpus(corpus, 'negotiator-nyc/lcov.info', 'tomli-misc/coverage-py.xml', 'negotiator-c8/lcov.info');
          for (const f of files) await p.upload(repo, sha, f);
          const id = commitWorkflowId(repo, sha);
          await waitUntil('the finisher held', () => gate.held === 1);
          await env.client.workflow.getHandle(id).terminate('operator: stuck');
          assert.deepEqual((await p.store.listUploads(repo, sha)).map((r) => r.state), ['processed', 'processed', 'processed']);

          // Started again as an operator (or a sweep) would: no signal, no new upload.
          const handle = await env.client.workflow.start(commitWorkflow, {
            workflowId: id,
            taskQueue: p.config.temporal.taskQueue,
            args: [workflowArgs(repo, sha)],
          });
          const result = await handle.result();
          assert.equal(result.merged, 3);
          assert.equal(result.version, 1);
          const saved = await p.store.getCommitReport(repo, sha);
          const rows = await p.store.listUploads(repo, sha);
          assert.deepEqual([...new Set(rows.map((r) => r.state))], ['merged']);
          await assertReportIs(p, repo, sha, files);

          // The terminated run's finisher (same version, its own batch) finishes late.
          const [late] = await gate.release();
          assert.ok(late instanceof Error && /superseded/.test(late.message), `the late finisher was refused: ${String(late)}`);
          assert.deepEqual(await p.store.getCommitReport(repo, sha), saved, 'the saved report did not move');
          assert.deepEqual(timesOf(await p.store.listUploads(repo, sha)), timesOf(rows));
          await assertReportIs(p, repo, sha, files);
        } finally {
          await gate.release();
        }
      });
    });
  });
}
