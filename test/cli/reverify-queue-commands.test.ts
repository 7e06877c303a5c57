/**
 * `tributary queue`, `tributary verifications` and `tributary schedule apply`, run in this process
 * against a real gateway, a worker and a Temporal dev server: the schedule is applied from the
 * environment as an operator would, triggered once, and its outcome listed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server';
import { generateToken } from '../../src/api/tokens';
import { readFileChunks, type CliIo } from '../../src/cli/io';
import { runCli } from '../../src/cli/main';
import type { reverifyWorkflow } from '../../src/workflows';
import { REVERIFY_SCHEDULE_ID } from '../../src/workflows/reverify-contracts';
import { databasesUnderTest } from '../support/database';
import { corpusFiles, newSha, Pipeline } from '../support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';

let env: TestWorkflowEnvironment;
let p: Pipeline;
let worker: Worker;
let running: Promise<void>;
let gateway: FastifyInstance;
let cliEnv: Record<string, string>;
const adminToken = generateToken();

async function cli(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), open: readFileChunks, setExitCode: () => undefined, env: { ...cliEnv, ...extra } };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

before(async () => {
  const [devEnv, bundle] = await Promise.all([createDevServerEnv(), bundleWorkflows()]);
  env = devEnv;
  p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await databasesUnderTest().at(-1)!.create() });
  worker = await p.worker();
  running = worker.run();
  gateway = await buildServer({ config: p.config, store: p.store, blobs: p.blobs, db: p.db, client: env.client, adminToken, logLevel: false });
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  cliEnv = {
    TRIBUTARY_URL: `http://127.0.0.1:${(gateway.server.address() as { port: number }).port}`,
    TRIBUTARY_ADMIN_TOKEN: adminToken,
    TRIBUTARY_DATA_DIR: p.config.dataDir,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: p.config.temporal.taskQueue,
    TRIBUTARY_REVERIFY_SCHEDULE: '12h',
    TRIBUTARY_REVERIFY_SAMPLE: '5',
  };
});

after(async () => {
  await env?.client.schedule.getHandle(REVERIFY_SCHEDULE_ID).delete().catch(() => undefined);
  await gateway?.close();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await p?.close();
  await env?.teardown();
});

describe('queue, verifications and schedule commands', () => {
  test('queue: the figures as JSON and as a table', async () => {
    const file = (await corpusFiles()).find((f) => f.name === 'negotiator-nyc/lcov.info')!;
    const repo = await p.repo('cli/queue', 'parallel');
    const sha = newSha();
    await p.upload(repo, sha, file);
    await p.upload(repo, sha, file);
    assert.equal((await p.result(repo, sha)).merged, 2);
    const asJson = await cli(['queue', '--json']);
    assert.equal(asJson.code, 0, asJson.stderr);
    const q = JSON.parse(asJson.stdout) as { total: { waiting: number; processing: number }; windows: { minutes: number; started: number }[] };
    assert.deepEqual([q.total.waiting, q.total.processing], [0, 0]);
    assert.deepEqual(q.windows.map((w) => [w.minutes, w.started]), [
      [5, 2],
      [60, 2],
    ]);
    const asTable = await cli(['queue']);
    assert.equal(asTable.code, 0, asTable.stderr);
    assert.match(asTable.stdout, /^waiting 0, processing 0, oldest waiting -, estimated wait for a new upload 0\.0s$/m);
    assert.match(asTable.stdout, /^5m +2 /m);
  });

  test('schedule apply creates then updates the schedule; a triggered run shows in verifications', async () => {
    const created = await cli(['schedule', 'apply']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^created schedule tributary-reverify: every 43200s, 5 commits per run, every repository\n$/);
    const updated = await cli(['schedule', 'apply', '--json'], { TRIBUTARY_REVERIFY_REPOS: 'cli/queue' });
    assert.equal(updated.code, 0, updated.stderr);
    assert.deepEqual((JSON.parse(updated.stdout) as { outcome: string; repositories: string[] }).repositories, ['cli/queue']);
    assert.equal((JSON.parse(updated.stdout) as { outcome: string }).outcome, 'updated');

    const schedule = env.client.schedule.getHandle(REVERIFY_SCHEDULE_ID);
    await schedule.trigger();
    let workflowId: string | undefined;
    for (let i = 0; i < 100 && workflowId === undefined; i++) {
      workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
      if (workflowId === undefined) await new Promise((r) => setTimeout(r, 200));
    }
    if (workflowId === undefined) throw new Error('the schedule started no run');
    const summary = await env.client.workflow.getHandle<typeof reverifyWorkflow>(workflowId).result();
    assert.deepEqual([summary.sampled, summary.matches], [1, 1]);

    const listed = await cli(['verifications']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^match +cli\/queue +[0-9a-f]{12} +2 +0 +0 /m);
    const none = await cli(['verifications', '--outcome', 'mismatch']);
    assert.equal(none.stdout, 'no verifications\n');
    const bad = await cli(['verifications', '--outcome', 'maybe']);
    assert.equal(bad.code, 2);
  });

  test('schedule apply refuses a bad configuration, naming the variable, and an unreachable server', async () => {
    const bad = await cli(['schedule', 'apply'], { TRIBUTARY_REVERIFY_SCHEDULE: 'sometimes' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /TRIBUTARY_REVERIFY_SCHEDULE: expected a duration/);
    const repos = await cli(['schedule', 'apply'], { TRIBUTARY_REVERIFY_REPOS: 'acme/app,nope' });
    assert.equal(repos.code, 2);
    assert.match(repos.stderr, /TRIBUTARY_REVERIFY_REPOS: expected OWNER\/NAME .*"nope"/);
    const gone = await cli(['schedule', 'apply'], { TEMPORAL_ADDRESS: '127.0.0.1:1', TRIBUTARY_DEPENDENCY_TIMEOUT: '1s' });
    assert.equal(gone.code, 3, gone.stderr);
    assert.match(gone.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
  });
});
