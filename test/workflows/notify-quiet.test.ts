/**
 * The quiet period on the time-skipping server: a commit whose expected uploads never all arrive
 * settles once nothing happened for TRIBUTARY_SETTLE_AFTER (5 minutes by default), then notifies.
 */
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { notifyWorkflowId } from '../../src/workflows/notify-contracts';
import type { notifyWorkflow } from '../../src/workflows';
import { databasesUnderTest } from '../support/database';
import { CORPUS, newSha, Pipeline } from '../support/pipeline';
import { bundleWorkflows, createTimeSkippingEnv } from '../support/temporal';
import { WebhookReceiver } from '../feedback/stand-ins';

let env: TestWorkflowEnvironment;
let p: Pipeline;
let worker: Worker;
let running: Promise<void>;
let rx: WebhookReceiver;

before(async () => {
  const [e, bundle] = await Promise.all([createTimeSkippingEnv(), bundleWorkflows()]);
  env = e;
  rx = await new WebhookReceiver('quiet-secret').start();
  const targets = databasesUnderTest();
  p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await targets[targets.length - 1]!.create(), notify: true, env: { TRIBUTARY_SETTLE_AFTER: '' } });
  worker = await p.worker();
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running;
  await p?.close();
  await env?.teardown();
  await rx?.stop();
});

it('the quiet period settles a commit short of afterNBuilds', async () => {
  assert.equal(p.config.feedback.settleAfterMs, 5 * 60_000);
  const repo = await p.repo('acme/quiet', 'serial');
  await p.store.setRepositorySettings(repo, { afterNBuilds: 3, webhooks: [{ url: `${rx.url}/q`, secret: 'quiet-secret' }] });
  const sha = newSha();
  await p.upload(repo, sha, { name: 'lcov.info', body: await readFile(path.join(CORPUS, 'negotiator-nyc/lcov.info')) });
  await p.result(repo, sha);
  assert.equal(rx.requests.length, 0);
  const started = await env.currentTimeMs();
  // Awaiting the notifier lets the server skip its timers: the quiet period, then its idle close.
  const result = await env.client.workflow.getHandle<typeof notifyWorkflow>(notifyWorkflowId(repo, sha)).result();
  assert.equal(result.settledBy, 'quiet');
  assert.equal(result.notifications, 1);
  assert.ok((await env.currentTimeMs()) - started >= 5 * 60_000);
  assert.equal(rx.accepted.length, 1);
  assert.equal(JSON.parse(rx.accepted[0]!.body).commit.sha, sha);
});
