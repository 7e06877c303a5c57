/**
 * Carryforward on a real Temporal dev server with the real activities over a real database and
 * blob folder: a child commit that uploads only `unit` carries `integration` from its parent (the
 * expectation computed from the parent's saved report restricted to its integration session and a
 * local parse of the child's upload), a late real `integration` upload replaces the carried
 * sessions, the result is the same bytes as when both uploads came together, in every mode, and
 * re-verification of a carried report compares only the commit's own sessions; flags
 * declared without carryforward are not carried, and the ancestor depth bounds the search.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { toParseJson } from '../../src/coverage/json-output';
import { filterSessions, mergeReports } from '../../src/coverage/merge';
import { parseReport } from '../../src/coverage/parse';
import { createPathResolver } from '../../src/coverage/paths';
import type { CoverageReport } from '../../src/coverage/report';
import { readReport, serializeReport } from '../../src/coverage/report-format';
import { reportTotals } from '../../src/coverage/totals';
import { CARRIED_SESSION_BASE, UPLOAD_MODES, type UploadMode } from '../../src/vocabulary';
import { databasesUnderTest } from '../support/database';
import { pickCorpus } from '../support/local-parse';
import { corpusFiles, newSha, Pipeline, type CorpusFile } from '../support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';
import type { reverifyCommitWorkflow } from '../../src/workflows';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let corpus: CorpusFile[];

before(async () => {
  [env, bundle, corpus] = await Promise.all([createDevServerEnv(), bundleWorkflows(), corpusFiles()]);
});
after(async () => {
  await env?.teardown();
});

/** An upload parsed here as the processor parses it (same session id and flags), for expectations. */
async function parsedLocally(file: CorpusFile, sessionId: number, flags: string[]): Promise<CoverageReport> {
  const { report } = await parseReport(file.body, {
    fileName: file.name,
    resolver: createPathResolver({ fixes: [] }),
    sessionId,
    session: { name: file.name, flags, type: 'uploaded' },
  });
  return report;
}

const carriedOf = (r: CoverageReport) => r.sessions.filter((s) => s.type === 'carriedforward');

for (const target of databasesUnderTest()) {
  describe(`carryforward on the dev server (${target.kind})`, () => {
    let p: Pipeline;
    let unit: CorpusFile, integration: CorpusFile, e2e: CorpusFile, childUnit: CorpusFile, childIntegration: CorpusFile;
    before(async () => {
      p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await target.create() });
      [unit, integration, e2e, childUnit, childIntegration] = pickCorpus(
        corpus,
        'negotiator-nyc/lcov.info',
        'negotiator-c8/lcov.info',
        'tomli-misc/coverage-py.lcov',
        'negotiator-nyc/clover.xml',
        'negotiator-c8/coverage-final.json',
      );
    });
    after(async () => {
      await p?.close();
    });

    const report = async (repo: string, sha: string) => readReport(await p.reportBytes(repo, sha));

    test('a child without an integration upload carries it from its parent until a real one replaces it; every mode gives the same bytes', async () => {
      const worker = await p.worker();
      await worker.runUntil(async () => {
        const finals = {} as Record<UploadMode, { carried: Buffer; replaced: Buffer }>;
        // The same commits in each mode's repository: a carried session names its source commit.
        const [parent, child, together] = [newSha(), newSha(), newSha()];
        for (const mode of UPLOAD_MODES) {
          const repo = await p.repo(`cf-${randomUUID().slice(0, 8)}/${mode}`, mode);
          await p.store.setRepositorySettings(repo, {
            flags: [
              { name: 'unit', carryforward: true },
              { name: 'integration', carryforward: true },
              { name: 'e2e', carryforward: false },
            ],
          });
          await p.upload(repo, parent, unit, { flags: ['unit'] });
          await p.upload(repo, parent, integration, { flags: ['integration'] });
          await p.upload(repo, parent, e2e, { flags: ['e2e'] });
          await p.result(repo, parent);
          const parentReport = await report(repo, parent);
          assert.equal(carriedOf(parentReport).length, 0, `${mode}: the parent uploaded every flag it has`);

          await p.upload(repo, child, childUnit, { flags: ['unit'], commit: { parentSha: parent } });
          await p.result(repo, child);
          const carried = await report(repo, child);
          const parentIntegration = filterSessions(parentReport, (s) => s.flags?.includes('integration') ?? false);
          assert.equal(parentIntegration.sessions.length, 1);
          const expected = mergeReports([parentIntegration, await parsedLocally(childUnit, 0, ['unit'])]);
          assert.deepEqual(reportTotals(carried), reportTotals(expected), `${mode}: totals = parent integration + child unit`);
          assert.deepEqual(toParseJson(carried).files, toParseJson(expected).files, `${mode}: every line = parent integration + child unit`);
          assert.deepEqual(
            carriedOf(carried).map((s) => [s.id, s.flags, s.carriedFrom]),
            [[CARRIED_SESSION_BASE + 1, ['integration'], parent]],
            `${mode}: integration is carried (unit, uploaded, is candidate 0), e2e (not carryforward) is not`,
          );
          assert.ok(!carried.sessions.some((s) => s.flags?.includes('e2e')), `${mode}: e2e is not carried`);
          assert.deepEqual(
            toParseJson(carried).sessions.filter((s) => s.type === 'carriedforward'),
            [{ id: CARRIED_SESSION_BASE + 1, format: 'lcov', file: integration.name, type: 'carriedforward', flags: ['integration'], carriedFrom: parent }],
            `${mode}: the report API shows the carried session as such`,
          );
          const saved = await p.store.getCommitReport(repo, child);
          assert.deepEqual(saved?.totals, reportTotals(carried), `${mode}: the saved totals are the carried report's`);

          // Re-verification re-runs the child's own uploads only: its carried session is no mismatch.
          const verification = `reverify-cf-${randomUUID()}`;
          await p.store.startVerificationRun({ runId: verification, seed: verification, sampleSize: 0, repositories: [] });
          const verdict = await env.client.workflow.execute<typeof reverifyCommitWorkflow>('reverifyCommitWorkflow', {
            workflowId: `${verification}:child`,
            taskQueue: p.config.temporal.taskQueue,
            args: [{ runId: verification, repo, sha: child, maxParallel: 2 }],
          });
          assert.equal(verdict.outcome, 'match', `${mode}: re-verification of the carried report`);

          // A late real integration upload: a new run merges it, and the carried session goes.
          await p.upload(repo, child, childIntegration, { flags: ['integration'] });
          await p.result(repo, child);
          const replaced = await report(repo, child);
          assert.deepEqual(carriedOf(replaced), [], `${mode}: no carried session is left`);
          const own = mergeReports([await parsedLocally(childUnit, 0, ['unit']), await parsedLocally(childIntegration, 1, ['integration'])]);
          assert.deepEqual(reportTotals(replaced), reportTotals(own), `${mode}: totals = child unit + child integration`);
          assert.deepEqual(toParseJson(replaced).files, toParseJson(own).files);

          // The same two uploads arriving together (one batch, or unit first: carried, then replaced).
          await p.upload(repo, together, childUnit, { flags: ['unit'], commit: { parentSha: parent } });
          await p.upload(repo, together, childIntegration, { flags: ['integration'] });
          await p.result(repo, together);
          assert.ok((await p.reportBytes(repo, together)).equals(await p.reportBytes(repo, child)), `${mode}: arrival order does not change a byte`);

          finals[mode] = { carried: Buffer.from(serializeReport(carried)), replaced: await p.reportBytes(repo, child) };
        }
        for (const mode of UPLOAD_MODES.slice(1)) {
          assert.ok(finals[mode].carried.equals(finals.serial.carried), `${mode} carried report = serial's`);
          assert.ok(finals[mode].replaced.equals(finals.serial.replaced), `${mode} replaced report = serial's`);
        }
        const experiments = (await p.db.query<{ outcome: string }>(`SELECT outcome FROM experiment_results`)).map((r) => r.outcome);
        assert.ok(experiments.length > 0 && experiments.every((o) => o === 'match'), `every experiment batch matched: ${experiments.join(', ')}`);
      });
    });

    test('flags declared without carryforward are not carried, and the ancestor depth bounds the search', async () => {
      const worker = await p.worker();
      await worker.runUntil(async () => {
        const repo = await p.repo(`cf-depth-${randomUUID().slice(0, 8)}/app`, 'parallel');
        await p.store.setRepositorySettings(repo, { flags: [{ name: 'unit', carryforward: false }, { name: 'integration', carryforward: false }] });
        const [g, p1, p2, c1, c2] = [newSha(), newSha(), newSha(), newSha(), newSha()];
        await p.upload(repo, g, integration, { flags: ['integration'] });
        await p.result(repo, g);
        await p.upload(repo, p1, unit, { flags: ['unit'], commit: { parentSha: g } });
        await p.result(repo, p1);
        await p.upload(repo, p2, unit, { flags: ['unit'], commit: { parentSha: p1 } });
        await p.result(repo, p2);
        assert.deepEqual(carriedOf(await report(repo, p1)), [], 'integration is declared, but not carryforward');
        assert.deepEqual(carriedOf(await report(repo, p2)), []);

        // Now integration is carried, but only 2 parents up: g is 3 away from c1.
        await p.store.setRepositorySettings(repo, { flags: [{ name: 'unit', carryforward: false }, { name: 'integration', carryforward: true }], carryforwardDepth: 2 });
        await p.upload(repo, c1, childUnit, { flags: ['unit'], commit: { parentSha: p2 } });
        await p.result(repo, c1);
        assert.deepEqual(carriedOf(await report(repo, c1)), [], 'the ancestor with integration is beyond the depth');

        await p.store.setRepositorySettings(repo, { flags: [{ name: 'unit', carryforward: false }, { name: 'integration', carryforward: true }], carryforwardDepth: 3 });
        await p.upload(repo, c2, childUnit, { flags: ['unit'], commit: { parentSha: p2 } });
        await p.result(repo, c2);
        const reached = await report(repo, c2);
        assert.deepEqual(
          carriedOf(reached).map((s) => [s.flags, s.carriedFrom]),
          [[['integration'], g]],
          'within the depth it is carried from the nearest ancestor that has it',
        );
        // The carried session comes after the child's own (its id is above every upload's), as g's upload parsed as session 1 does.
        const expected = mergeReports([await parsedLocally(childUnit, 0, ['unit']), await parsedLocally(integration, 1, ['integration'])]);
        assert.deepEqual(toParseJson(reached).files, toParseJson(expected).files);
        assert.deepEqual(reportTotals(reached), reportTotals(expected));
      });
    });
  });
}
