/**
 * Priorities on a real dev server: with one activity slot and a backlog of pull-request and
 * feature-branch commits, a default-branch commit that arrives last is processed before the
 * backlog, and a repository marked urgent goes before both. Without priorities the task queue is
 * first come, first served, and the last commit would be processed last.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { commitWorkflowId } from '../../src/workflows/commit-contracts';
import { Priority } from '../../src/temporal/search-attributes';
import { databasesUnderTest } from '../support/database';
import { corpusFiles, newSha, Pipeline, type CorpusFile } from '../support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let file: CorpusFile;
before(async () => {
  let corpus: CorpusFile[];
  [env, bundle, corpus] = await Promise.all([createDevServerEnv(), bundleWorkflows(), corpusFiles()]);
  file = corpus.find((c) => c.name === 'negotiator-c8/lcov.info')!;
});
after(async () => {
  await env?.teardown();
});

const BACKLOG = 8;

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('priorities (dev server, one activity slot)', () => {
  for (const target of databasesUnderTest().slice(0, 1)) {
    test('a default-branch commit arriving last, and an urgent repository, are processed before a backlog of other branches', async () => {
      const p = await Pipeline.open({
        client: env.client,
        connection: env.nativeConnection,
        bundle,
        database: await target.create(),
        env: { TRIBUTARY_WORKER_ACTIVITY_SLOTS: '1', TRIBUTARY_DEBOUNCE: '0s', TRIBUTARY_DEFAULT_BRANCH: 'trunk' },
      });
      let result: { backlog: string[]; onDefault: string; ownDefault: string; urgent: string } | undefined;
      try {
        const repo = await p.repo('prio/app', 'serial');
        await p.store.createRepository('prio/urgent', 'hash-urgent', { urgent: true });
        await p.store.setModeOverride('prio/urgent', 'serial');
        await p.store.createRepository('prio/own-default', 'hash-own', { defaultBranch: 'develop' });
        await p.store.setModeOverride('prio/own-default', 'serial');

        const commits = new Map<string, { repo: string; sha: string }>();
        const send = async (slug: string, meta: Parameters<Pipeline['upload']>[3]) => {
          const sha = newSha();
          const { uploadId } = await p.upload(slug, sha, file, meta);
          commits.set(uploadId, { repo: slug, sha });
          return uploadId;
        };
        const describe = (uploadId: string) => {
          const c = commits.get(uploadId)!;
          return env.client.workflow.getHandle(commitWorkflowId(c.repo, c.sha)).describe();
        };

        // The one slot is taken by a first upload, held until the backlog has formed behind it.
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        const started: string[] = [];
        const worker = await p.worker((real) => ({
          ...real,
          async processUpload(input) {
            started.push(input.uploadId);
            if (input.uploadId === blocker) await held;
            return real.processUpload(input);
          },
        }));
        let blocker = '';
        await worker.runUntil(async () => {
          blocker = await send(repo, { branch: 'feature-first' });
          await until('the first upload to hold the slot', async () => started.includes(blocker));
          // The backlog, in arrival order: other branches and pull requests, then the commits that
          // should overtake them.
          const backlog: string[] = [];
          for (let i = 0; i < BACKLOG; i++) {
            backlog.push(await send(repo, i % 2 === 0 ? { branch: `feature-${i}` } : { branch: 'trunk', commit: { branch: 'trunk', pullRequest: 100 + i } }));
          }
          const onDefault = await send(repo, { branch: 'trunk' });
          const ownDefault = await send('prio/own-default', { branch: 'develop' });
          const urgent = await send('prio/urgent', { branch: 'feature-x' });
          const waiting = [...backlog, onDefault, ownDefault, urgent];
          await until('every processor task to wait in the queue', async () =>
            (await Promise.all(waiting.map(describe))).every((d) => (d.raw.pendingActivities ?? []).length > 0),
          );
          release();
          await until('every upload merged', async () => (await Promise.all([...commits.keys()].map((id) => p.store.getUpload(id)))).every((u) => u?.state === 'merged'));
          result = { backlog, onDefault, ownDefault, urgent };
        });
        const { backlog, onDefault, ownDefault, urgent } = result!;
        started.shift();
        const rank = (id: string) => started.indexOf(id);
        assert.equal(rank(urgent), 0, `the urgent repository first: ${JSON.stringify(started)}`);
        assert.deepEqual([rank(onDefault), rank(ownDefault)].sort(), [1, 2], 'then both default-branch commits, before the whole backlog');
        // Within one key the order is the queue's (activity tasks of concurrent workflows arrive in any order).
        assert.deepEqual(backlog.map(rank).sort((a, b) => a - b), Array.from({ length: BACKLOG }, (_, i) => i + 3), 'the backlog after them');

        // The priority is on the workflow for operators, as a search attribute and the run's own.
        const [u, d, b, pr] = await Promise.all([describe(urgent), describe(onDefault), describe(backlog[0]!), describe(backlog[1]!)]);
        assert.deepEqual(
          [u, d, b, pr].map((x) => x.typedSearchAttributes.get(Priority)),
          ['1', '2', '4', '4'],
          'urgent 1, default branch 2, a feature branch 4, a pull request (even from the default branch) 4',
        );
        assert.equal(d.raw.workflowExecutionInfo?.priority?.priorityKey, 2);
      } finally {
        await p.close();
      }
    });
  }
});
