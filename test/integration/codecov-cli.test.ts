/**
 * The real, unmodified Codecov uploader (codecov-cli, pinned in scripts/setup.sh, installed into
 * .tools/venv) against the real gateway, a real worker and a Temporal dev server: upload-process,
 * upload-coverage, the three separate steps and --legacy, with flags, name, branch and pull
 * request, on corpus reports in a throwaway git repository. Every commit report must equal
 * `tributary parse --json` of the same files (files and totals), in serial, parallel and
 * experiment; the commit's metadata and the uploads' flags and names are what the client sent.
 * Then the report fixes codecov-cli computes from a checkout's Go and Kotlin sources: the commit
 * report lacks those lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signUploadLocation, uploadLocationSecret } from '../../src/codecov/protocol';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server';
import { commitPath } from '../../src/api/views';
import { hashToken } from '../../src/api/tokens';
import { Branch, PullRequest, RepoSlug } from '../../src/temporal/search-attributes';
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
const MAX_UPLOAD_BYTES = 1024 * 1024;

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
function codecov(args: string[], cwd = gitRepo): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', 'from codecov_cli.main import run; run()', '--disable-telem', '--url', baseUrl, ...args], {
      cwd,
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
    const c = await api<CommitView>(`${commitPath(repo, sha)}?wait=30s`);
    if (c.state === 'complete') return c;
  }
  throw new Error(`${repo}@${sha} did not complete`);
}

before(async () => {
  assert.ok(existsSync(PYTHON), 'codecov-cli is installed by scripts/setup.sh into .tools/venv');
  scratch = mkdtempSync(path.join(tmpdir(), 'tributary-codecov-'));
  const [devEnv, bundle] = await Promise.all([createDevServerEnv(), bundleWorkflows()]);
  env = devEnv;
  p = await Pipeline.open({ client: env.client, connection: env.nativeConnection, bundle, database: await databasesUnderTest().at(-1)!.create(), env: { TRIBUTARY_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) } });
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
        const report = await api<{ files: unknown; totals: unknown }>(`${commitPath(repo, sha)}/report`);
        assert.equal(filesAndTotals(report), expected, `${mode} ${variant}: the report equals tributary parse --json`);
        const upload = await p.store.getUpload(commit.uploads[0]!.uploadId);
        assert.deepEqual(upload?.flags, ['unit', 'py', 'js'], variant);
        assert.equal(upload?.name, 'ci-run', variant);
        const desc = await env.client.workflow.getHandle(commitWorkflowId(repo, sha)).describe();
        assert.equal(desc.typedSearchAttributes.get(Branch), 'feature/drop-in', variant);
        assert.equal(desc.typedSearchAttributes.get(PullRequest), '17', variant);
      }
    });
  }

  test('a GitLab subgroup repository (--git-service gitlab -r group/subgroup/app): upload-process, report equal to parse', async () => {
    const repo = 'group/subgroup/app';
    const token = `tok-${randomBytes(16).toString('hex')}`;
    await p.store.createRepository(repo, hashToken(token));
    const sha = randomBytes(20).toString('hex');
    const files = REPORTS.flatMap((r, i) => ['-f', `coverage/${i}-${path.basename(r)}`]);
    const r = await codecov(['upload-process', '-t', token, '--git-service', 'gitlab', '-r', repo, '-C', sha, '-B', 'main', ...files, '--disable-search', '-Z']);
    assert.equal(r.code, 0, r.output);
    const commit = await awaitComplete(repo, sha);
    assert.equal(commit.uploads.length, 2, 'one upload per coverage file');
    assert.ok(commit.uploads.every((u) => u.state === 'merged'), JSON.stringify(commit.uploads));
    assert.equal(commit.metadata.branch, 'main');
    const report = await api<{ files: unknown; totals: unknown }>(`${commitPath(repo, sha)}/report`);
    assert.equal(filesAndTotals(report), expected, 'the report equals tributary parse --json');
    const desc = await env.client.workflow.getHandle(commitWorkflowId(repo, sha)).describe();
    assert.equal(desc.typedSearchAttributes.get(RepoSlug), repo);
  });

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

describe('the upload location', () => {
  test('a retried PUT or POST creates no second upload; another body, a forged or expired location and an oversized body are refused', async () => {
    const repo = 'acme/cc-locations';
    const token = `tok-${randomBytes(16).toString('hex')}`;
    await p.store.createRepository(repo, hashToken(token));
    const sha = randomBytes(20).toString('hex');
    const announce = async () => {
      const res = await fetch(`${baseUrl}/upload/github/acme::::cc-locations/upload-coverage`, {
        method: 'POST',
        headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ commitid: sha, branch: 'main', flags: ['a,b'], name: 'n', job_code: null, pullid: null }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      return new URL(((await res.json()) as { raw_upload_location: string }).raw_upload_location);
    };
    const payload = readFileSync(path.resolve(__dirname, '../fixtures/codecov/v1-payload.json'));
    const put = (url: URL, body: Uint8Array) => fetch(url, { method: 'PUT', body: new Uint8Array(body) });
    const first = await announce();
    const a = await put(first, payload);
    assert.equal(a.status, 200, await a.clone().text());
    const b = await put(first, payload);
    assert.equal(b.status, 200);
    const idsOf = async (r: Response) => ((await r.json()) as { uploads: { uploadId: string }[] }).uploads.map((u) => u.uploadId);
    assert.deepEqual(await idsOf(b), await idsOf(a), 'the same PUT again answers the same uploads');
    // A retried POST only announces another location: nothing is uploaded until a PUT to it.
    await announce();
    assert.equal((await p.store.listUploads(repo, sha)).length, 2);

    const other = await put(first, Buffer.from('# path=x.info\nSF:a\nDA:1,1\nend_of_record\n<<<<<< EOF\n'));
    assert.equal(other.status, 409, await other.clone().text());

    const forged = new URL(first);
    forged.searchParams.set('signature', '0'.repeat(64));
    assert.equal((await put(forged, payload)).status, 403);
    const id = first.pathname.split('/').at(-1)!;
    const past = Math.floor(Date.now() / 1000) - 10;
    const expired = new URL(first);
    expired.searchParams.set('expires', String(past));
    expired.searchParams.set('signature', signUploadLocation(uploadLocationSecret(undefined, ADMIN), id, past));
    const refused = await put(expired, payload);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /expired/);

    const big = await put(await announce(), Buffer.alloc(MAX_UPLOAD_BYTES + 1, 0x41));
    assert.equal(big.status, 413);
    assert.equal((await p.store.listUploads(repo, sha)).length, 2, 'nothing refused was registered');
    // Every accepted upload ends terminal (the capture's file list resolves only some of its paths).
    const complete = await awaitComplete(repo, sha);
    assert.equal(complete.uploads.length, 2);
    assert.ok(complete.uploads.some((u) => u.state === 'merged'));
  });
});

/**
 * Sources codecov-cli computes fixes for (codecov_cli/services/upload/upload_collector.py): Go
 * blank lines, `//` comments, lone braces and lone `/*` `*\/` lines (not the block's inner lines:
 * the CLI sends only the lines it matched); Kotlin lone braces, and its length (eof). Each line
 * is marked with whether the CLI should send it as a fix: the expectation, written by hand.
 */
const FIXED_SOURCES: Record<string, { lines: [string, boolean][]; eof?: boolean }> = {
  'pkg/calc/calc.go': {
    lines: [
      ['package calc', false],
      ['', true],
      ['/*', true],
      ['Package calc adds.', false],
      ['*/', true],
      ['func Add(a, b int) int {', false],
      ['\tif a > b {', false],
      ['\t\treturn a + b', false],
      ['\t}', true],
      ['\t// both orders', true],
      ['\treturn b + a', false],
      ['}', true],
      ['', true],
      ['func Sub(a, b int) int {', false],
      ['\treturn a - b', false],
      ['}', true],
    ],
  },
  'app/src/Main.kt': {
    lines: [
      ['fun main() {', false],
      ['    println("hi")', false],
      ['}', true],
    ],
    eof: true,
  },
};
/** Lines the report covers past the Kotlin file's end (a stale report): dropped by its eof. */
const PAST_EOF = 2;

describe("codecov-cli's report fixes", () => {
  test('the commit report lacks the lines the fixes name, in serial and in the shadow; --legacy sends none', async () => {
    const checkout = path.join(scratch, 'fixes-checkout');
    mkdirSync(checkout);
    const covered: Record<string, number> = { 'src/index.js': 6 };
    for (const [file, src] of Object.entries(FIXED_SOURCES)) {
      mkdirSync(path.dirname(path.join(checkout, file)), { recursive: true });
      writeFileSync(path.join(checkout, file), src.lines.map(([text]) => `${text}\n`).join(''));
      covered[file] = src.lines.length + (src.eof ? PAST_EOF : 0);
    }
    mkdirSync(path.join(checkout, 'src'), { recursive: true });
    writeFileSync(path.join(checkout, 'src/index.js'), '\n'.repeat(6));
    // Every line of every file is in the report, so each fix shows as a missing line.
    const hitsOf = (n: number) => (n % 3 === 0 ? 0 : n);
    const lcovOf = (drop: (file: string, line: number) => boolean) =>
      Object.entries(covered)
        .map(([file, count]) => {
          const da = [];
          for (let n = 1; n <= count; n++) if (!drop(file, n)) da.push(`DA:${n},${hitsOf(n)}`);
          return [`SF:${file}`, ...da, 'end_of_record'].join('\n');
        })
        .join('\n') + '\n';
    mkdirSync(path.join(checkout, 'coverage'));
    writeFileSync(path.join(checkout, 'coverage/lcov.info'), lcovOf(() => false));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: checkout, env: { PATH: process.env.PATH, HOME: scratch } });
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-qm', 'fixture');

    // The expectation, from the marks above: the same report with those lines taken out, parsed locally.
    const fixed = (file: string, n: number) => {
      const src = FIXED_SOURCES[file];
      if (src === undefined) return false;
      return n > src.lines.length ? src.eof === true : src.lines[n - 1]![1];
    };
    const parseJson = async (lcov: string) => {
      const file = path.join(scratch, `expected-${randomBytes(4).toString('hex')}.info`);
      writeFileSync(file, lcov);
      const r = await runNode(['bin/tributary.js', 'parse', '--json', file], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, HOME: scratch } });
      assert.equal(r.code, 0, r.stderr);
      return filesAndTotals(JSON.parse(r.stdout) as { files: unknown; totals: unknown });
    };
    const withFixes = await parseJson(lcovOf(fixed));
    const withoutFixes = await parseJson(lcovOf(() => false));
    assert.notEqual(withFixes, withoutFixes, 'the fixes change the report');

    const repo = 'acme/cc-fixes';
    const token = `tok-${randomBytes(16).toString('hex')}`;
    await p.store.createRepository(repo, hashToken(token));
    await p.store.setModeOverride(repo, 'experiment');
    const upload = async (extra: string[]) => {
      const sha = randomBytes(20).toString('hex');
      const r = await codecov(['upload-coverage', '-t', token, '--git-service', 'github', '-r', repo, '-C', sha, '-f', 'coverage/lcov.info', '--disable-search', '-Z', ...extra], checkout);
      assert.equal(r.code, 0, r.output);
      return sha;
    };
    const v1 = await upload([]);
    const legacy = await upload(['--legacy']);
    for (const [sha, expectedReport, what] of [
      [v1, withFixes, 'v1 JSON (fixes applied)'],
      [legacy, withoutFixes, '--legacy (codecov-cli sends no fixes there)'],
    ] as const) {
      const commit = await awaitComplete(repo, sha);
      assert.equal(commit.uploads.length, 1, what);
      assert.equal(commit.uploads[0]!.state, 'merged', what);
      assert.equal(commit.experimentOutcome, 'match', `${what}: the parallel shadow applies the same fixes`);
      const report = await api<{ files: unknown; totals: unknown }>(`/api/v1/repos/${repo}/commits/${sha}/report`);
      assert.equal(filesAndTotals(report), expectedReport, what);
      const stored = await p.store.getUpload(commit.uploads[0]!.uploadId);
      assert.deepEqual(stored?.warnings, [], what);
      assert.equal(stored?.reportFixesKey !== null, sha === v1, `${what}: a fixes blob only when fixes were sent`);
    }
  });
});
