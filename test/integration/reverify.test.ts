/**
 * Scheduled re-verification end to end on a real Temporal dev server (time-skipping servers do not
 * run schedules): commits made in the three modes, one with its saved report tampered in storage
 * and one whose raw upload retention deleted; the `tributary-reverify` schedule, applied as the
 * main command applies it, is triggered once. The tampered commit is a mismatch naming its file
 * and line, the others match or are skipped, and nothing under reports/ or in the database
 * changes but the verification rows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { buildServer } from '../../src/api/server';
import { generateToken } from '../../src/api/tokens';
import { FileCoverage } from '../../src/coverage/file-coverage';
import { CoverageReport } from '../../src/coverage/report';
import { compressReport, readReport } from '../../src/coverage/report-format';
import { DEN_INT } from '../../src/coverage/values';
import { applyReverifySchedule, REVERIFY_CATCHUP_WINDOW } from '../../src/temporal/reverify-schedule';
import { Mismatches, VerifiedCommits } from '../../src/temporal/search-attributes';
import type { reverifyWorkflow } from '../../src/workflows';
import { REVERIFY_SCHEDULE_ID } from '../../src/workflows/reverify-contracts';
import { databasesUnderTest } from '../support/database';
import { corpusFiles, newSha, Pipeline, type CorpusFile } from '../support/pipeline';
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

/** Every blob under `prefix` of the store's folder, by key, as a sha256. */
async function blobDigests(root: string, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else out.set(path.relative(root, full), createHash('sha256').update(await readFile(full)).digest('hex'));
    }
  };
  await walk(path.join(root, prefix));
  return out;
}

/** Every row of every table but the verification ones, in a stable order. */
async function databaseRows(p: Pipeline): Promise<string> {
  const tables = await p.db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT IN ('verifications', 'verification_runs') ORDER BY table_name`,
  );
  const dump: Record<string, unknown[]> = {};
  for (const { table_name } of tables) {
    const rows = await p.db.query<Record<string, unknown>>(`SELECT * FROM ${table_name}`);
    dump[table_name] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return JSON.stringify(dump);
}

/** The saved report with one counted line's hits raised by 7: the line it changed. */
function tamper(bytes: Uint8Array): { bytes: Uint8Array; path: string; line: number } {
  const report = readReport(bytes);
  for (const path of report.paths()) {
    const f = report.file(path)!;
    for (let i = 0; i < f.lineCount; i++) {
      const from = f.offsets[i]!;
      const to = i + 1 < f.lineCount ? f.offsets[i + 1]! : f.entryCount;
      let counted = to > from;
      for (let k = from; k < to; k++) counted &&= f.dens[k] === DEN_INT && f.nums[k]! > 0;
      if (!counted) continue;
      const nums = Float64Array.from(f.nums);
      for (let k = from; k < to; k++) nums[k] = nums[k]! + 7;
      const changed = new FileCoverage(path, { lines: f.lines, offsets: f.offsets, sessionIds: f.sessionIds, nums, dens: f.dens, flags: f.flags, extras: f.extras });
      const files = [...report].map((g) => (g.path === path ? changed : g));
      return { bytes: compressReport(new CoverageReport(files, report.sessions)), path, line: f.lines[i]! };
    }
  }
  throw new Error('no counted line to tamper with');
}

const targets = databasesUnderTest();
const target = targets[targets.length - 1]!;

describe(`scheduled re-verification on the dev server (${target.kind})`, () => {
  let p: Pipeline;
  before(async () => {
    p = await Pipeline.open({
      client: env.client,
      connection: env.nativeConnection,
      bundle,
      database: await target.create(),
      env: { TRIBUTARY_REVERIFY_SCHEDULE: '1d', TRIBUTARY_REVERIFY_SAMPLE: '10', TRIBUTARY_REVERIFY_REPOS: 'rv/serial,rv/parallel,rv/experiment' },
    });
  });
  after(async () => {
    await env.client.schedule.getHandle(REVERIFY_SCHEDULE_ID).delete().catch(() => undefined);
    await p?.close();
  });

  test('a triggered run records match, mismatch (file and line) and skipped, and changes nothing else', async () => {
    const files = ['negotiator-nyc/lcov.info', 'negotiator-c8/cobertura-coverage.xml', 'tomli-misc/coverage-py.json'].map((n) => corpus.find((f) => f.name === n)!);
    const serial = await p.repo('rv/serial', 'serial');
    const parallel = await p.repo('rv/parallel', 'parallel');
    const experiment = await p.repo('rv/experiment', 'experiment');
    const ignored = await p.repo('rv/ignored', 'parallel');
    const commits = { serial: newSha(), parallel: newSha(), experiment: newSha(), expired: newSha(), ignored: newSha() };
    const worker = await p.worker();
    await worker.runUntil(async () => {
      const made: [string, string][] = [
        [serial, commits.serial],
        [parallel, commits.parallel],
        [experiment, commits.experiment],
        [serial, commits.expired],
        [ignored, commits.ignored],
      ];
      for (const [repo, sha] of made) for (const f of files) await p.upload(repo, sha, f);
      for (const [repo, sha] of made) assert.equal((await p.result(repo, sha)).merged, files.length);

      // Retention deleted one raw upload of a commit; the tampered report keeps its key.
      const expiredUploads = await p.store.listUploads(serial, commits.expired);
      await p.blobs.delete(expiredUploads[1]!.rawKey);
      const saved = (await p.store.getCommitReport(parallel, commits.parallel))!;
      const tampered = tamper((await p.blobs.get(saved.reportKey))!);
      await p.blobs.put(saved.reportKey, tampered.bytes);

      const reportsBefore = await blobDigests(p.config.blobs.dir, 'reports');
      const rawBefore = await blobDigests(p.config.blobs.dir, 'raw');
      const rowsBefore = await databaseRows(p);

      // Applied as the main command applies it at every start: created once, then updated.
      assert.equal(await applyReverifySchedule(env.client, p.config), 'created');
      assert.equal(await applyReverifySchedule(env.client, p.config), 'updated');
      const schedule = env.client.schedule.getHandle(REVERIFY_SCHEDULE_ID);
      const described = await schedule.describe();
      assert.equal(described.policies.overlap, ScheduleOverlapPolicy.SKIP);
      assert.equal(described.policies.catchupWindow, 10 * 60_000, `catch-up window ${REVERIFY_CATCHUP_WINDOW}`);
      assert.equal(described.state.paused, false);
      assert.equal(described.spec.intervals?.[0]?.every, 86_400_000);

      await schedule.trigger();
      let workflowId: string | undefined;
      for (let i = 0; i < 100 && workflowId === undefined; i++) {
        workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
        if (workflowId === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      if (workflowId === undefined) throw new Error('the schedule started no run');
      assert.ok(workflowId.startsWith(REVERIFY_SCHEDULE_ID), `the schedule started ${workflowId}`);
      const handle = env.client.workflow.getHandle<typeof reverifyWorkflow>(workflowId);
      const summary = await handle.result();

      assert.equal(summary.seed, workflowId, 'the seed is the run (its scheduled time)');
      assert.equal(summary.sampled, 4, 'the four completed commits of the filtered repositories');
      assert.deepEqual([summary.verified, summary.matches, summary.mismatches, summary.skipped], [3, 2, 1, 1]);
      assert.deepEqual(summary.mismatched, [`${parallel}@${commits.parallel}`]);

      const recorded = await p.store.listVerifications({});
      const outcomeOf = (repo: string, sha: string) => recorded.find((v) => v.repo === repo && v.sha === sha);
      assert.equal(outcomeOf(serial, commits.serial)?.outcome, 'match');
      assert.equal(outcomeOf(experiment, commits.experiment)?.outcome, 'match');
      assert.equal(outcomeOf(ignored, commits.ignored), undefined, 'outside the repositories filter');
      const skipped = outcomeOf(serial, commits.expired)!;
      assert.equal(skipped.outcome, 'skipped');
      assert.match(skipped.reason ?? '', /raw upload missing/);
      const mismatch = outcomeOf(parallel, commits.parallel)!;
      assert.equal(mismatch.outcome, 'mismatch');
      assert.deepEqual(mismatch.files, [tampered.path]);
      assert.equal(mismatch.differingFiles, 1);
      assert.equal(mismatch.differingLines, 1);
      for (const pathName of ['serial', 'parallel']) {
        assert.ok(
          mismatch.sample.some((s) => s.startsWith(`${pathName}: ${tampered.path}:${tampered.line} expected `)),
          `the ${pathName} re-run names ${tampered.path}:${tampered.line}: ${mismatch.sample.join(' | ')}`,
        );
      }
      assert.equal(mismatch.reportVersion, saved.version);

      // The seed and the sample are recorded with the run.
      const [run] = await p.db.query<{ seed: string; sample: unknown }>(`SELECT seed, sample FROM verification_runs WHERE id = $1`, [workflowId]);
      assert.equal(run?.seed, workflowId);
      const sample = (typeof run?.sample === 'string' ? JSON.parse(run.sample) : run?.sample) as { repo: string; sha: string }[];
      assert.deepEqual(new Set(sample.map((s) => `${s.repo}@${s.sha}`)), new Set(recorded.map((v) => `${v.repo}@${v.sha}`)));

      const attributes = (await handle.describe()).typedSearchAttributes;
      assert.equal(attributes.get(VerifiedCommits), 3);
      assert.equal(attributes.get(Mismatches), 1);

      // Nothing visible changed: reports, raw uploads, every other row; the scratch is gone.
      assert.deepEqual(await blobDigests(p.config.blobs.dir, 'reports'), reportsBefore);
      assert.deepEqual(await blobDigests(p.config.blobs.dir, 'raw'), rawBefore);
      assert.equal(await databaseRows(p), rowsBefore);
      assert.deepEqual([...(await blobDigests(p.config.blobs.dir, 'scratch/reverify')).keys()], []);
    });

    // Queryable through the gateway, and counted at /metrics.
    const adminToken = generateToken();
    const app = await buildServer({ config: p.config, store: p.store, blobs: p.blobs, db: p.db, client: env.client, adminToken, logLevel: false });
    try {
      const auth = { authorization: `Bearer ${adminToken}` };
      const res = await app.inject({ method: 'GET', url: `/api/v1/verifications?outcome=mismatch&repo=${parallel}`, headers: auth });
      assert.equal(res.statusCode, 200);
      const body = res.json() as { verifications: { sha: string; files: string[] }[] };
      assert.deepEqual(body.verifications.map((v) => v.sha), [commits.parallel]);
      const bad = await app.inject({ method: 'GET', url: '/api/v1/verifications?outcome=maybe', headers: auth });
      assert.equal(bad.statusCode, 400);
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /tributary_verifications_total\{outcome="mismatch"\} 1\b/);
      assert.match(metrics, /tributary_verifications_total\{outcome="match"\} 2\b/);
      assert.match(metrics, /tributary_verifications_total\{outcome="skipped"\} 1\b/);
    } finally {
      await app.close();
    }
  });

  test('applying a paused configuration pauses the schedule; applying it unpaused resumes it', async () => {
    await applyReverifySchedule(env.client, { ...p.config, reverify: { ...p.config.reverify, paused: true, sampleSize: 3 } });
    const handle = env.client.schedule.getHandle(REVERIFY_SCHEDULE_ID);
    let d = await handle.describe();
    assert.equal(d.state.paused, true);
    assert.equal((d.action.args?.[0] as { sampleSize: number }).sampleSize, 3);
    await applyReverifySchedule(env.client, p.config);
    d = await handle.describe();
    assert.equal(d.state.paused, false);
    assert.equal((d.action.args?.[0] as { sampleSize: number }).sampleSize, 10);
  });
});
