/**
 * The commit workflow's current details (what the Web UI shows of a running workflow) name the
 * latest upload error with its code and message, on the dev server with the real activities.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { commitWorkflowId } from '../../src/workflows/commit-contracts';
import { databasesUnderTest } from '../support/database';
import { newSha, Pipeline } from '../support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';

let env: TestWorkflowEnvironment;
let p: Pipeline;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  const [e, bundle] = await Promise.all([createDevServerEnv(), bundleWorkflows()]);
  env = e;
  const targets = databasesUnderTest();
  // A long idle timeout keeps the workflow open, so its details are those of a running one.
  p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await targets[targets.length - 1]!.create(), env: { TRIBUTARY_IDLE_TIMEOUT: '1m' } });
  worker = await p.worker();
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running;
  await p?.close();
  await env?.teardown();
});

test("a failed upload's error text is in the workflow's current details", { timeout: 120_000 }, async () => {
  const repo = await p.repo('details/app', 'parallel');
  const sha = newSha();
  const { uploadId } = await p.upload(repo, sha, { name: 'junk.txt', body: Buffer.from('this is not a coverage report\n') });
  let upload = await p.store.getUpload(uploadId);
  for (let i = 0; i < 300 && upload?.state !== 'error'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    upload = await p.store.getUpload(uploadId);
  }
  assert.equal(upload?.state, 'error');
  const handle = env.client.workflow.getHandle(commitWorkflowId(repo, sha));
  // The SDK's built-in query behind the Web UI's "current details".
  const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  assert.match(meta.currentDetails ?? '', new RegExp(`last error: upload ${uploadId}: ${upload.errorCode}: `));
  assert.ok(upload.errorMessage && (meta.currentDetails ?? '').includes(upload.errorMessage.slice(0, 40)), meta.currentDetails);
  await handle.terminate('test over');
});
