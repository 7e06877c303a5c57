/**
 * The walking skeleton on a real Temporal dev server (the CLI built by scripts/temporal-tools.mjs):
 * a real worker with real activities over a blob folder, uploads by signal-with-start, and the
 * workflow found again through a visibility List query on its search attributes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig, type Config } from '../../src/config';
import { createWorker } from '../../src/worker';
import { submitUpload } from '../../src/services/submit-upload';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { keys } from '../../src/storage/blob-store';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';
import type { commitWorkflow } from '../../src/workflows';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let dataDir: string;

before(async () => {
  [env, bundle, dataDir] = await Promise.all([
    createDevServerEnv(),
    bundleWorkflows(),
    mkdtemp(path.join(tmpdir(), 'tributary-it-')),
  ]);
});
after(async () => {
  await env?.teardown();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function testConfig(mode: 'serial' | 'parallel'): Config {
  return loadConfig({
    TRIBUTARY_DATA_DIR: dataDir,
    TEMPORAL_TASK_QUEUE: `it-${randomUUID()}`,
    TRIBUTARY_DEFAULT_MODE: mode,
    TRIBUTARY_DEBOUNCE: '200ms',
    TRIBUTARY_IDLE_TIMEOUT: '1s',
  });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('commit workflow on the dev server', () => {
  for (const mode of ['parallel', 'serial'] as const) {
    test(`${mode}: uploads are processed by a real worker and the workflow is found by its search attributes`, async () => {
      const config = testConfig(mode);
      const worker = await createWorker({ connection: env.nativeConnection, config, overrides: { workflowBundle: bundle, workflowsPath: undefined } });
      const blobs = new FsBlobStore(config.blobDir);
      const repo = `acme/app-${mode}`;
      const sha = randomUUID().replace(/-/g, '');
      await worker.runUntil(async () => {
        const bodies = ['SF:a.js\nDA:1,1\nend_of_record\n', 'SF:b.js\nDA:1,0\nDA:2,3\nend_of_record\n', '\n\n'];
        const submitted = [];
        for (const body of bodies) {
          submitted.push(await submitUpload({ client: env.client, blobs, config }, { repo, sha, body: Buffer.from(body) }));
        }
        const workflowId = submitted[0]!.workflowId;
        assert.equal(workflowId, `commit:${repo}:${sha}`);
        assert.ok(submitted.every((s) => s.workflowId === workflowId), 'all uploads of a commit go to one workflow');

        const result = await env.client.workflow.getHandle<typeof commitWorkflow>(workflowId).result();
        assert.equal(result.received, 3);
        assert.equal(result.merged, 2);
        assert.equal(result.errors, 1, 'the empty upload is an upload error, not a failed commit');

        const report = await blobs.get(keys.commitReport(repo, sha));
        assert.ok(report, 'the commit report was written to the blob store');
        const doc = JSON.parse(Buffer.from(report).toString('utf8')) as { uploads: Record<string, number> };
        assert.deepEqual(doc.uploads, { [submitted[0]!.uploadId]: 3, [submitted[1]!.uploadId]: 4 });

        const query = `RepoSlug = "${repo}" AND CommitSha = "${sha}" AND UploadMode = "${mode}"`;
        const found = await waitFor('the visibility store to index the workflow', async () => {
          for await (const wf of env.client.workflow.list({ query })) {
            if (wf.status.name === 'COMPLETED' && wf.searchAttributes.UploadCount?.[0] === 3) return wf;
          }
          return undefined;
        });
        assert.equal(found.workflowId, workflowId);
        assert.deepEqual(found.searchAttributes.Outcome, ['partial']);
      });
    });
  }
});
