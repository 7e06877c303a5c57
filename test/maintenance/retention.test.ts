/**
 * Retention on both blob stores (the folder, and a real S3 server in a bucket of this file's own)
 * and both databases: a fixture of blobs of each kind, some past their lifetime, some still
 * referenced, some current, swept by the gc workflow on a dev server in small pages (so the
 * listing's pagination is exercised): exactly the expected keys go, a dry run deletes nothing,
 * and a second sweep deletes nothing more.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { keys } from '../../src/storage/blob-store';
import { saveCommitSources, sourceDigest } from '../../src/storage/sources';
import { createWorker } from '../../src/worker';
import { gcWorkflow } from '../../src/workflows';
import type { GcSummary } from '../../src/workflows/maintenance';
import { databasesUnderTest } from '../support/database';
import { newSha, Pipeline } from '../support/pipeline';
import { realS3, type S3UnderTest } from '../support/s3';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';

const H = 3_600_000;
const D = 24 * H;

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let s3: S3UnderTest;
let s3Client: S3Client;
// A bucket per case: the sweep deletes what no row of its database names, others' blobs included.
const buckets: string[] = [];
async function freshBucket(): Promise<string> {
  const bucket = `tributary-gc-${process.pid}-${randomUUID().slice(0, 8)}`;
  await s3Client.send(new CreateBucketCommand({ Bucket: bucket }));
  buckets.push(bucket);
  return bucket;
}

before(async () => {
  [env, bundle, s3] = await Promise.all([createDevServerEnv(), bundleWorkflows(), realS3()]);
  s3Client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
});
after(async () => {
  for (const bucket of buckets) {
    for (;;) {
      const listed = await s3Client.send(new ListObjectsV2Command({ Bucket: bucket }));
      for (const o of listed.Contents ?? []) await s3Client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
      if (!listed.IsTruncated) break;
    }
    await s3Client.send(new DeleteBucketCommand({ Bucket: bucket }));
  }
  s3Client?.destroy();
  await s3?.release();
  await env?.teardown();
});

const stores = [
  { kind: 'fs', env: async (): Promise<Record<string, string>> => ({}) },
  { kind: 's3', env: async (): Promise<Record<string, string>> => ({ ...s3.configEnv(), S3_BUCKET: await freshBucket() }) },
] as const;

for (const store of stores) {
  for (const target of databasesUnderTest()) {
    describe(`retention (${store.kind} store, ${target.kind})`, () => {
      let p: Pipeline;
      before(async () => {
        p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await target.create(), env: await store.env() });
      });
      after(async () => {
        await p?.close();
      });

      test('deletes exactly what is past its lifetime and unreferenced; keeps the current report, open uploads and what is in its grace', async () => {
        // The sweep is measured two days ahead: every blob written now is two days old to it.
        const now = Date.now() + 2 * D;
        const at = (msBefore: number) => new Date(now - msBefore).toISOString();
        const repo = await p.repo(`gc/${store.kind}-${target.kind}`, 'parallel');
        const sha = newSha();
        const put = (key: string) => p.blobs.put(key, Buffer.from(`blob ${key}`));
        const register = async (uploadId: string) => {
          await p.store.registerUpload({ repo, sha, uploadId, rawKey: keys.raw(uploadId), rawBytes: 10, repoFilesKey: keys.repoFiles(uploadId) });
          await put(keys.raw(uploadId));
          await put(keys.repoFiles(uploadId));
        };
        const sql = (text: string, params: unknown[]) => p.db.query(text, params);

        // Uploads: old and merged (raw, file list and intermediate go); young and merged a moment
        // ago (all kept); old but still waiting (raw kept).
        for (const id of ['old', 'young', 'waiting']) await register(`${id}-${store.kind}`);
        const [old, young, waiting] = ['old', 'young', 'waiting'].map((id) => `${id}-${store.kind}`) as [string, string, string];
        await put(keys.intermediate(old));
        await put(keys.intermediate(young));
        await sql(`UPDATE uploads SET state = 'merged', created_at = $2, merged_at = $3 WHERE id = $1`, [old, at(40 * D), at(2 * H)]);
        await sql(`UPDATE uploads SET state = 'merged', created_at = $2, merged_at = $3 WHERE id = $1`, [young, at(D), at(10 * 60_000)]);
        await sql(`UPDATE uploads SET created_at = $2 WHERE id = $1`, [waiting, at(40 * D)]);

        // Reports: v1 superseded two hours ago by v2 (current); v3 written but never saved.
        for (const [v, b] of [[1, 0], [2, 1], [3, 2]] as const) await put(keys.commitReport(repo, sha, v, b));
        const current = keys.commitReport(repo, sha, 2, 1);
        await sql(
          `INSERT INTO commit_reports (commit_id, version, report_key, totals, updated_at)
           SELECT c.id, 2, $3, '{}'::jsonb, $4 FROM commits c JOIN repositories r ON r.id = c.repository_id WHERE r.slug = $1 AND c.sha = $2`,
          [repo, sha, current, at(2 * H)],
        );
        // Scratch: batch 1 verified two hours ago (goes), batch 2 a minute ago (kept), batch 3 never (an orphan).
        for (const b of [1, 2, 3]) {
          await put(keys.scratchReport(repo, sha, b));
          await put(keys.scratchIntermediate(repo, sha, b, old));
        }
        for (const [b, when] of [[1, at(2 * H)], [2, at(60_000)]] as const) {
          await p.store.recordExperiment({ repo, sha, batch: b, outcome: 'match' });
          await sql(
            `UPDATE experiment_results SET created_at = $4 FROM commits c JOIN repositories r ON r.id = c.repository_id
             WHERE experiment_results.commit_id = c.id AND r.slug = $1 AND c.sha = $2 AND experiment_results.batch = $3`,
            [repo, sha, b, when],
          );
        }
        // Source text: one an upload sent a day ago (kept), one last sent 100 days ago (past
        // TRIBUTARY_SOURCE_RETENTION, goes), and one no commit names (an orphan past its grace).
        const text = (name: string) => Buffer.from(`${name} source of ${store.kind}-${target.kind}\n`);
        const [used, stale, unnamed] = ['used', 'stale', 'unnamed'].map((n) => keys.source(sourceDigest(text(n)))) as [string, string, string];
        const [commitRow] = await p.db.query<{ id: number }>(
          `SELECT c.id FROM commits c JOIN repositories r ON r.id = c.repository_id WHERE r.slug = $1 AND c.sha = $2`,
          [repo, sha],
        );
        await saveCommitSources(p.deps, commitRow!.id, new Map([['src/used.js', text('used').toString()], ['src/stale.js', text('stale').toString()]]));
        await p.blobs.put(unnamed, text('unnamed'));
        await sql(`UPDATE commit_sources SET updated_at = $2 WHERE path = $1`, ['src/used.js', at(D)]);
        await sql(`UPDATE commit_sources SET updated_at = $2 WHERE path = $1`, ['src/stale.js', at(100 * D)]);
        // No row refers to these: a twin's raw upload, a crashed write.
        await put(keys.raw(`twin-${store.kind}`));
        await put(`intermediate/${young}.0c1d.tmp`);

        const expected = [
          keys.raw(old),
          keys.repoFiles(old),
          keys.raw(`twin-${store.kind}`),
          keys.intermediate(old),
          `intermediate/${young}.0c1d.tmp`,
          keys.scratchReport(repo, sha, 1),
          keys.scratchIntermediate(repo, sha, 1, old),
          keys.scratchReport(repo, sha, 3),
          keys.scratchIntermediate(repo, sha, 3, old),
          keys.commitReport(repo, sha, 1, 0),
          keys.commitReport(repo, sha, 3, 2),
          stale,
          unnamed,
        ].sort();
        const kept = [
          keys.raw(young),
          keys.repoFiles(young),
          keys.raw(waiting),
          keys.repoFiles(waiting),
          keys.intermediate(young),
          keys.scratchReport(repo, sha, 2),
          keys.scratchIntermediate(repo, sha, 2, old),
          current,
          used,
        ];

        const worker = await createWorker({ connection: env.nativeConnection, config: p.config, deps: p.deps, overrides: { workflowBundle: bundle, workflowsPath: undefined } });
        await worker.runUntil(async () => {
          const sweep = (dryRun: boolean) =>
            env.client.workflow.execute(gcWorkflow, {
              workflowId: `gc-${randomUUID()}`,
              taskQueue: p.config.temporal.taskQueue,
              args: [{ policy: p.config.maintenance.retention, dryRun, verbose: true, pageSize: 2, now }],
            });
          const keysOf = (s: GcSummary) => s.prefixes.flatMap((x) => x.keys).sort();

          const dry = await sweep(true);
          assert.deepEqual(keysOf(dry), expected);
          for (const key of [...expected, ...kept]) assert.ok(await p.blobs.exists(key), `dry run kept ${key}`);
          assert.equal((await p.store.getUpload(old))?.rawDeletedAt, null);

          const real = await sweep(false);
          assert.deepEqual(keysOf(real), expected);
          const byPrefix = Object.fromEntries(real.prefixes.map((x) => [x.prefix, [x.deleted, x.kept]]));
          assert.deepEqual(byPrefix, { raw: [3, 4], intermediate: [2, 1], scratch: [4, 2], reports: [2, 1], sources: [2, 1] });
          assert.deepEqual(real.prefixes.find((x) => x.prefix === 'sources')?.byReason, { source_expired: 1, orphan: 1 });
          assert.deepEqual(real.prefixes.find((x) => x.prefix === 'reports')?.byReason, { report_superseded: 1, orphan: 1 });
          for (const key of expected) assert.equal(await p.blobs.exists(key), false, `deleted ${key}`);
          for (const key of kept) assert.ok(await p.blobs.exists(key), `kept ${key}`);
          assert.ok((await p.store.getUpload(old))?.rawDeletedAt instanceof Date, 'the old upload is marked');
          assert.equal((await p.store.getUpload(young))?.rawDeletedAt, null);
          assert.equal((await p.store.getUpload(old))?.state, 'merged', 'nothing else about the row changed');

          const again = await sweep(false);
          assert.deepEqual(again.prefixes.map((x) => x.deleted), [0, 0, 0, 0, 0]);
          assert.equal(again.prefixes.reduce((n, x) => n + x.kept, 0), kept.length);
        });
      });
    });
  }
}
