/**
 * The real, unmodified Codecov uploader (codecov-cli, pinned in scripts/setup.sh, installed into
 * .tools/venv) against the real gateway, a real worker and a Temporal dev server: upload-process,
 * upload-coverage, the three separate steps and --legacy, with flags, name, branch and pull
 * request, on corpus reports in a throwaway git repository. Every commit report must equal
 * `tributary parse --json` of the same files (files and totals), in serial, parallel and
 * experiment; the commit's metadata and the uploads' flags and names are what the client sent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server';
import { hashToken } from '../../src/api/tokens';
import { Branch, PullRequest } from '../../src/temporal/search-attributes';
import { commitWorkflowId } from '../../src/workflows/commit-contracts';
import type { UploadMode } from '../../src/vocabulary';
import { databasesUnderTest } from '../support/database';
import { CORPUS, Pipeline } from '../support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';
import { runNode } from '../support/run-child';

const REPO_ROOT = path.resolve(__dirname, '../..');
const PYTHON = path.join(REPO_ROOT, '.tools/venv/bin/python3');
const REPORTS = [path.join(CORPUS, 'negotiator-nyc/lcov.info'), path.join(CORPUS, 'tomli-misc/coverage-py.xml')];
const ADMIN = 'admin-token-for-the-codecov-cli-test-0123456789';

let env: TestWorkflowEnvironment;
let p: Pipeline;
let worker: Worker;
let running: Promise<void>;
let gateway: FastifyInstance;
let baseUrl: string;
let gitRepo: string;
let scratch: string;
let expected: string;

interface Run {
  code: number | null;
  output: string;
}

/** codecov-cli as CI runs it: its own process, a clean environment, in the repository's checkout. */
function codecov(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', 'from codecov_cli.main import run; run()', '--disable-telem', '--url', baseUrl, ...args], {
      cwd: gitRepo,
      env: { PATH: process.env.PATH, HOME: scratch, CI_TEST_VAR: 'from-ci' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function filesAndTotals(doc: { files: unknown; totals: unknown }): string {
  return JSON.stringify({ files: doc.files, totals: doc.totals });
}

async function api<T>(pathname: string): Promise<T> {
  const res = await fetch(`${baseUrl}${pathname}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(res.status, 200, `${pathname}: ${await res.clone().text()}`);
  return (await res.json()) as T;
}

interface CommitView {
  state: string;
  uploads: { uploadId: string; state: string }[];
  experimentOutcome: string | null;
  metadata: Record<string, unknown>;
}

async function awaitComplete(repo: string, sha: string): Promise<CommitView> {
  for (let i = 0; i < 20; i++) {
    const c = await api<CommitView>(`/api/v1/repos/${repo}/commits/${sha}?wait=30s`);
    if (c.state === 'complete') return c;
  }
  throw new Error(`${repo}@${sha} did not complete`);
}

before(async () => {
  assert.ok(existsSync(PYTHON), 'codecov-cli is installed by scripts/setup.sh into .tools/venv');
  scratch = mkdtempSync(path.join(tmpdir(), 'tributary-codecov-'));
  const [devEnv, bundle] = await Promise.all([createDevServerEnv(), bundleWorkflows()]);
  env = devEnv;
  p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await databasesUnderTest().at(-1)!.create() });
  worker = await p.worker();
  running = worker.run();
  gateway = await buildServer({ config: p.config, store: p.store, blobs: p.blobs, db: p.db, client: env.client, adminToken: ADMIN, logLevel: false });
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(gateway.server.address() as { port: number }).port}`;

  const parsed = await runNode(['bin/tributary.js', 'parse', '--json', ...REPORTS], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, HOME: scratch } });
  assert.equal(parsed.code, 0, parsed.stderr);
  const doc = JSON.parse(parsed.stdout) as { files: Record<string, unknown>; totals: unknown };
  expected = filesAndTotals(doc);

  // The checkout: the reports and the sources they cover, so git's file list (the payload's
  // network, used for path resolution) holds every path of the reports.
  gitRepo = path.join(scratch, 'checkout');
  mkdirSync(gitRepo);
  for (const file of Object.keys(doc.files)) {
    mkdirSync(path.dirname(path.join(gitRepo, file)), { recursive: true });
    writeFileSync(path.join(gitRepo, file), '');
  }
  mkdirSync(path.join(gitRepo, 'coverage'));
  REPORTS.forEach((r, i) => copyFileSync(r, path.join(gitRepo, 'coverage', `${i}-${path.basename(r)}`)));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: gitRepo, env: { PATH: process.env.PATH, HOME: scratch } });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-qm', 'fixture');
});

after(async () => {
  await gateway?.close();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await p?.close();
  await env?.teardown();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const MODES: UploadMode[] = ['serial', 'parallel', 'experiment'];
const VARIANTS = ['upload-process', 'upload-coverage', 'three-steps', 'legacy'] as const;

describe('the real codecov-cli against the real stack', () => {
  for (const mode of MODES) {
    test(`${mode}: every variant's report equals tributary parse --json`, async () => {
      const repo = `acme/cc-${mode}`;
      const token = `tok-${randomBytes(16).toString('hex')}`;
      await p.store.createRepository(repo, hashToken(token));
      await p.store.setModeOverride(repo, mode);
      const files = REPORTS.flatMap((r, i) => ['-f', `coverage/${i}-${path.basename(r)}`]);
      const base = (sha: string) => ['-t', token, '--git-service', 'github', '-r', repo, '-C', sha];
      const meta = ['-B', 'feature/drop-in', '-P', '17', '-F', 'unit', '-F', 'py,js', '-n', 'ci-run', '-b', '77', '--job-code', 'job-3', '--build-url', 'https://ci.example/b/77'];
      const shas = new Map<string, string>();
      for (const variant of VARIANTS) {
        const sha = randomBytes(20).toString('hex');
        shas.set(variant, sha);
        const upload = [...base(sha), ...meta, ...files, '--disable-search', '-Z'];
        const runs: string[][] =
          variant === 'upload-process'
            ? [['upload-process', ...upload]]
            : variant === 'upload-coverage'
              ? [['upload-coverage', ...upload]]
              : variant === 'legacy'
                ? [['upload-process', ...upload, '--legacy']]
                : [
                    ['create-commit', ...base(sha), '-B', 'feature/drop-in', '-P', '17', '-Z'],
                    ['create-report', ...base(sha), '-Z'],
                    ['do-upload', ...upload],
                  ];
        for (const args of runs) {
          const r = await codecov(args);
          assert.equal(r.code, 0, `${variant} ${args[0]}:\n${r.output}`);
        }
      }
      for (const variant of VARIANTS) {
        const sha = shas.get(variant)!;
        const commit = await awaitComplete(repo, sha);
        assert.equal(commit.uploads.length, 2, `${variant}: one upload per coverage file`);
        assert.ok(commit.uploads.every((u) => u.state === 'merged'), `${variant}: ${JSON.stringify(commit.uploads)}`);
        if (mode === 'experiment') assert.equal(commit.experimentOutcome, 'match', variant);
        assert.equal(commit.metadata.branch, 'feature/drop-in', variant);
        assert.equal(commit.metadata.pullRequest, 17, variant);
        assert.equal(commit.metadata.build, '77', variant);
        assert.equal(commit.metadata.job, 'job-3', variant);
        assert.equal(commit.metadata.ciUrl, 'https://ci.example/b/77', variant);
        const report = await api<{ files: unknown; totals: unknown }>(`/api/v1/repos/${repo}/commits/${sha}/report`);
        assert.equal(filesAndTotals(report), expected, `${mode} ${variant}: the report equals tributary parse --json`);
        const upload = await p.store.getUpload(commit.uploads[0]!.uploadId);
        assert.deepEqual(upload?.flags, ['unit', 'py', 'js'], variant);
        assert.equal(upload?.name, 'ci-run', variant);
        const desc = await env.client.workflow.getHandle(commitWorkflowId(repo, sha)).describe();
        assert.equal(desc.typedSearchAttributes.get(Branch), 'feature/drop-in', variant);
        assert.equal(desc.typedSearchAttributes.get(PullRequest), 17, variant);
      }
    });
  }

  test('an unknown token and an unknown repository are refused in words the client prints', async () => {
    const sha = randomBytes(20).toString('hex');
    const bad = await codecov(['upload-coverage', '-t', 'not-a-token', '--git-service', 'github', '-r', 'acme/cc-serial', '-C', sha, '-f', 'coverage/0-lcov.info', '--disable-search', '-Z']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.output, /unknown upload token/);
    const missing = await codecov(['upload-coverage', '-t', ADMIN, '--git-service', 'github', '-r', 'acme/nothing-here', '-C', sha, '-f', 'coverage/0-lcov.info', '--disable-search', '-Z']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.output, /repository acme\/nothing-here not found/);
  });
});
