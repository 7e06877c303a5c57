/**
 * The built `tributary` binary against the real gateway, a real worker and a Temporal dev server,
 * all on 127.0.0.1: create a repository (token saved, admin token read from the data folder),
 * upload the negotiator-nyc corpus and await the merged totals, and check that the report the
 * server sends has the same files and totals, byte for byte, as `tributary parse` of the same
 * files, in every mode (the experiment's outcome being `match`). Exit codes 1, 2 and 3 too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { ensureAdminToken } from '../../src/api/admin-token';
import { buildServer } from '../../src/api/server';
import { databasesUnderTest } from '../support/database';
import { CORPUS, newSha, Pipeline } from '../support/pipeline';
import { bundleWorkflows, createDevServerEnv } from '../support/temporal';
import { runNode } from '../support/run-child';

const REPO_ROOT = path.resolve(__dirname, '../..');
const FILES = readdirSync(path.join(CORPUS, 'negotiator-nyc'))
  .sort()
  .map((f) => path.join(CORPUS, 'negotiator-nyc', f));

const MAX_UPLOAD_BYTES = 4 * 1024 * 1024;

let env: TestWorkflowEnvironment;
let p: Pipeline;
let worker: Worker;
let running: Promise<void>;
let gateway: FastifyInstance;
let cliEnv: NodeJS.ProcessEnv;
let scratch: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built binary as a child process with stdout on a pipe (so: plain output). */
function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
  return runNode(['bin/tributary.js', ...args], { cwd: REPO_ROOT, env: { ...cliEnv, ...extraEnv } });
}

/** `{"files":…,"totals":…` exactly as printed, without the sessions that follow. */
function filesAndTotals(jsonText: string): string {
  const parsed = JSON.parse(jsonText) as { files: unknown; totals: unknown };
  const canonical = JSON.stringify({ files: parsed.files, totals: parsed.totals });
  const prefix = canonical.slice(0, -1);
  assert.ok(jsonText.startsWith(prefix), 'the text is compact JSON with files then totals');
  return prefix;
}

before(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'tributary-cli-e2e-'));
  // The binary runs the compiled CLI; build it (`npm run build`) unless dist/ is newer than src/.
  const build = distIsCurrent()
    ? Promise.resolve()
    : promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT }).catch(
        (err: { stdout?: string }) => {
          // tsc emits despite type errors (reported by `npm run typecheck`, part of `npm test`);
          // this test is about the CLI's behaviour, so it goes on when the output exists.
          if (!existsSync(path.join(REPO_ROOT, 'dist/cli/main.js'))) throw err;
          console.warn(`npm run build reported type errors:\n${err.stdout ?? ''}`);
        },
      );
  const [devEnv, bundle] = await Promise.all([createDevServerEnv(), bundleWorkflows(), build]);
  env = devEnv;
  const target = databasesUnderTest().at(-1)!;
  p = await Pipeline.open({
    client: env.client,
    connection: env.nativeConnection,
    bundle,
    database: await target.create(),
    // Small, so the size limit can be tested with a sparse file; the corpus files are far smaller.
    env: { TRIBUTARY_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) },
  });
  worker = await p.worker();
  running = worker.run();
  // No admin token in the environment: the CLI finds the one the gateway keeps in the data folder.
  const admin = await ensureAdminToken(p.config);
  gateway = await buildServer({ config: p.config, store: p.store, blobs: p.blobs, db: p.db, client: env.client, adminToken: admin.token, logLevel: false });
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  const port = (gateway.server.address() as { port: number }).port;
  cliEnv = {
    PATH: process.env.PATH,
    HOME: scratch,
    TRIBUTARY_URL: `http://127.0.0.1:${port}`,
    TRIBUTARY_DATA_DIR: p.config.dataDir,
    TRIBUTARY_CONFIG_DIR: path.join(scratch, 'config'),
  };
});

after(async () => {
  await gateway?.close();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await p?.close();
  await env?.teardown();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the tributary binary against the real gateway', () => {
  let parsed: string;

  test('repo create, upload of the corpus (awaited, merged totals), report equal to parse', async () => {
    const created = await cli(['repo', 'create', 'demo/app']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout.trim(), /^\S{32,}$/);
    assert.match(created.stderr, /saved in .*credentials\.json/);

    const sha = newSha();
    const uploaded = await cli(['upload', ...FILES, '--repo', 'demo/app', '--commit', sha]);
    assert.equal(uploaded.code, 0, `${uploaded.stdout}\n${uploaded.stderr}`);
    assert.doesNotMatch(uploaded.stdout, /\x1b/);
    for (const f of FILES) assert.match(uploaded.stdout, new RegExp(`^${path.basename(f).replace('.', '\\.')} +upload \\S+ +session \\d+ +merged$`, 'm'));
    assert.match(uploaded.stdout, /^coverage +lines +hits +misses +partials +files +sessions$/m);
    assert.match(uploaded.stdout, new RegExp(`^\\d+\\.\\d{2}% +\\d+ +\\d+ +\\d+ +\\d+ +\\d+ +${FILES.length}$`, 'm'));

    const parse = await cli(['parse', ...FILES, '--json']);
    assert.equal(parse.code, 0, parse.stderr);
    parsed = filesAndTotals(parse.stdout);

    const report = await cli(['report', 'demo/app', sha, '--json']);
    assert.equal(report.code, 0, report.stderr);
    assert.equal(filesAndTotals(report.stdout), parsed);

    const table = await cli(['report', 'demo/app', sha]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^coverage +lines +hits +misses +partials +file$/m);
  });

  test('repo flags declares the flags and which are carried forward, keeping the other settings; bad names are usage errors', async () => {
    const created = await cli(['repo', 'create', 'demo/flags', '--fixes', 'a::b']);
    assert.equal(created.code, 0, created.stderr);
    const set = await cli(['repo', 'flags', 'demo/flags', '--flag', 'e2e', '--carryforward', 'unit', '--carryforward', 'integration', '--depth', '5']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^flag +carried forward$/m);
    assert.match(set.stdout, /^e2e +no$/m);
    assert.match(set.stdout, /^integration +yes$/m);
    assert.match(set.stdout, /^carryforward depth: 5$/m);
    const stored = await p.store.getRepository('demo/flags');
    assert.deepEqual(stored?.settings, {
      fixes: ['a::b'],
      ignore: [],
      flags: [
        { name: 'e2e', carryforward: false },
        { name: 'unit', carryforward: true },
        { name: 'integration', carryforward: true },
      ],
      carryforwardDepth: 5,
    });

    const shown = await cli(['repo', 'flags', 'demo/flags', '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(JSON.parse(shown.stdout), { slug: 'demo/flags', flags: stored?.settings.flags, carryforwardDepth: 5 });

    for (const bad of [
      ['--carryforward', 'has space'],
      ['--flag', 'unit', '--carryforward', 'unit'],
      ['--depth', '0'],
    ]) {
      const refused = await cli(['repo', 'flags', 'demo/flags', ...bad]);
      assert.equal(refused.code, 2, `${bad.join(' ')}: ${refused.stderr}`);
    }
    assert.deepEqual((await p.store.getRepository('demo/flags'))?.settings, stored?.settings, 'a refused declaration changes nothing');
  });

  test('on GitHub Actions with no metadata flags, the commit gets the branch, PR, run, job and URL from the environment', async () => {
    const sha = newSha();
    // What a pull_request job of GitHub Actions exports (GITHUB_SHA is the merge commit: --commit names the commit).
    const github = {
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: 'refs/pull/73/merge',
      GITHUB_REF_NAME: '73/merge',
      GITHUB_REF_TYPE: 'branch',
      GITHUB_HEAD_REF: 'feature/metadata',
      GITHUB_BASE_REF: 'main',
      GITHUB_REPOSITORY: 'demo/app',
      GITHUB_RUN_ID: '9876543210',
      GITHUB_RUN_NUMBER: '12',
      GITHUB_JOB: 'coverage',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_SHA: newSha(),
    };
    const uploaded = await cli(['upload', FILES[0]!, '--repo', 'demo/app', '--commit', sha], github);
    assert.equal(uploaded.code, 0, `${uploaded.stdout}\n${uploaded.stderr}`);

    const report = await cli(['report', 'demo/app', sha, '--json']);
    assert.equal(report.code, 0, report.stderr);
    const { metadata } = JSON.parse(report.stdout) as { metadata: unknown };
    assert.deepEqual(metadata, {
      branch: 'feature/metadata',
      pullRequest: 73,
      ciService: 'github-actions',
      build: '9876543210',
      job: 'coverage',
      ciUrl: 'https://github.com/demo/app/actions/runs/9876543210',
    });
    const table = await cli(['report', 'demo/app', sha]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^branch +feature\/metadata\npr +73\nci +github-actions\nbuild +9876543210\njob +coverage\nurl +https:\/\/github\.com\/demo\/app\/actions\/runs\/9876543210\n\ncoverage +lines/);
    // The merge commit GITHUB_SHA names got nothing.
    const other = await fetch(`${cliEnv.TRIBUTARY_URL}/api/v1/repos/demo/app/commits/${github.GITHUB_SHA}`, {
      headers: { authorization: `Bearer ${(await ensureAdminToken(p.config)).token}` },
    });
    assert.equal(other.status, 404);
  });

  test('serial, parallel and experiment give the same report; the experiment matches', async () => {
    assert.ok(parsed, 'the first test ran');
    for (const mode of ['serial', 'parallel', 'experiment'] as const) {
      const set = await cli(['mode', 'set', 'demo/app', mode]);
      assert.equal(set.code, 0, set.stderr);
      const sha = newSha();
      if (mode === 'experiment') {
        // The text output names the mode and the experiment's outcome.
        const uploaded = await cli(['upload', ...FILES, '--repo', 'demo/app', '--commit', sha]);
        assert.equal(uploaded.code, 0, `${mode}: ${uploaded.stdout}\n${uploaded.stderr}`);
        assert.equal(uploaded.stdout.split('\n').filter((l) => / +merged$/.test(l)).length, FILES.length);
        assert.match(uploaded.stdout, /^mode experiment, experiment match$/m);
      } else {
        const uploaded = await cli(['upload', ...FILES, '--repo', 'demo/app', '--commit', sha, '--json']);
        assert.equal(uploaded.code, 0, `${mode}: ${uploaded.stdout}\n${uploaded.stderr}`);
        const out = JSON.parse(uploaded.stdout) as { uploads: { id: string; state: string }[]; commit: { state: string; totals: { sessions: number } } };
        assert.deepEqual(out.uploads.map((u) => u.state), FILES.map(() => 'merged'));
        assert.equal(out.commit.state, 'complete');
        assert.equal(out.commit.totals.sessions, FILES.length);
        assert.match(uploaded.stdout, new RegExp(`^\\{"uploads":\\[\\{"id":"[^"]+","session":\\d+,"state":"merged","error":null,"warnings":\\[\\]\\}`));
      }
      const report = await cli(['report', 'demo/app', sha, '--json']);
      assert.equal(filesAndTotals(report.stdout), parsed, mode);
      const status = await fetch(`${cliEnv.TRIBUTARY_URL}/api/v1/repos/demo/app/commits/${sha}`, {
        headers: { authorization: `Bearer ${(await ensureAdminToken(p.config)).token}` },
      });
      const commit = (await status.json()) as { mode: string; experimentOutcome: string | null };
      assert.equal(commit.mode, mode);
      assert.equal(commit.experimentOutcome, mode === 'experiment' ? 'match' : null);
    }
    const cleared = await cli(['mode', 'set', 'demo/app', 'default', '--json']);
    assert.deepEqual(JSON.parse(cleared.stdout), { slug: 'demo/app', mode: null });
  });

  test('a repository with a nested owner (a GitLab subgroup): repo create, mode set, upload, report, tasks, cancel', async () => {
    assert.ok(parsed, 'the first test ran');
    const slug = 'group/sub/app';
    const created = await cli(['repo', 'create', slug]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    const set = await cli(['mode', 'set', slug, 'serial', '--json']);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(JSON.parse(set.stdout), { slug, mode: 'serial' });

    const sha = newSha();
    // The saved upload token only (no admin token reachable), as a CI job has it.
    const asCi = { TRIBUTARY_DATA_DIR: path.join(scratch, 'no-data-here') };
    const uploaded = await cli(['upload', ...FILES, '--repo', slug, '--commit', sha], asCi);
    assert.equal(uploaded.code, 0, `${uploaded.stdout}\n${uploaded.stderr}`);
    assert.equal(uploaded.stdout.split('\n').filter((l) => / +merged$/.test(l)).length, FILES.length);
    assert.match(uploaded.stdout, /^mode serial$/m);

    const report = await cli(['report', slug, sha, '--json'], { ...asCi, TRIBUTARY_TOKEN: token });
    assert.equal(report.code, 0, report.stderr);
    assert.equal(filesAndTotals(report.stdout), parsed);
    const table = await cli(['report', slug, sha], asCi);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^coverage +lines +hits +misses +partials +file$/m);
    // Its name alone is another repository, which does not exist.
    const other = await cli(['report', 'sub/app', sha]);
    assert.equal(other.code, 1, other.stderr);

    await eventually(async () => {
      const tasks = await cli(['tasks', '--repo', slug, '--json']);
      assert.equal(tasks.code, 0, tasks.stderr);
      const list = (JSON.parse(tasks.stdout) as { tasks: { sha: string; repo: string; workflowId: string }[] }).tasks;
      assert.deepEqual(list.map((t) => [t.repo, t.sha, t.workflowId]), [[slug, sha, `commit:${slug}:${sha}`]]);
    });
    const cancelled = await cli(['cancel', `commit:${slug}:${sha}`, '--json']);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal((JSON.parse(cancelled.stdout) as { workflowId: string }).workflowId, `commit:${slug}:${sha}`);
  });

  test('status, tasks and cancel of an unknown workflow', async () => {
    const sha = newSha();
    const detached = await cli(['upload', FILES[0]!, '--repo', 'demo/app', '--commit', sha, '--detach', '--json']);
    assert.equal(detached.code, 0, detached.stderr);
    const id = (JSON.parse(detached.stdout) as { uploads: { id: string }[] }).uploads[0]!.id;
    const awaited = await cli(['status', id, '--await', '--json']);
    assert.equal(awaited.code, 0, awaited.stderr);
    assert.equal((JSON.parse(awaited.stdout) as { state: string }).state, 'merged');

    await eventually(async () => {
      const tasks = await cli(['tasks', '--repo', 'demo/app', '--commit', sha, '--json']);
      assert.equal(tasks.code, 0, tasks.stderr);
      const list = (JSON.parse(tasks.stdout) as { tasks: { sha: string; repo: string }[] }).tasks;
      assert.deepEqual(list.map((t) => [t.repo, t.sha]), [['demo/app', sha]]);
    });
    // The experiment of the previous test, as Temporal's search attributes record it.
    await eventually(async () => {
      const tasks = await cli(['tasks', '--repo', 'demo/app', '--mode', 'experiment', '--status', 'completed']);
      assert.equal(tasks.code, 0, tasks.stderr);
      assert.match(tasks.stdout, /^completed +demo\/app +[0-9a-f]{12} +experiment +\S+ +match +4 /m);
    });

    const unknown = await cli(['cancel', 'no-such-workflow']);
    assert.equal(unknown.code, 1, unknown.stderr);
  });

  test('cancel: a commit workflow listed by tasks is cancelled, and its upload ends cancelled', async () => {
    // With no worker, the workflow is started but cannot progress, so the cancellation surely
    // arrives while it runs.
    worker.shutdown();
    await running;
    const sha = newSha();
    const detached = await cli(['upload', FILES[0]!, '--repo', 'demo/app', '--commit', sha, '--detach', '--json']);
    assert.equal(detached.code, 0, detached.stderr);
    const id = (JSON.parse(detached.stdout) as { uploads: { id: string }[] }).uploads[0]!.id;

    const runningTask = await eventually(async () => {
      const r = await cli(['tasks', '--commit', sha, '--status', 'running', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const tasks = (JSON.parse(r.stdout) as { tasks: { workflowId: string; repo: string }[] }).tasks;
      assert.equal(tasks.length, 1);
      return tasks[0]!;
    });
    assert.equal(runningTask.repo, 'demo/app');
    const table = await cli(['tasks', '--commit', sha]);
    assert.match(table.stdout, new RegExp(`^running +demo/app +${sha.slice(0, 12)} .* ${runningTask.workflowId.replace(/[/.]/g, '\\$&')}$`, 'm'));

    const cancelled = await cli(['cancel', runningTask.workflowId]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout, `cancellation requested for ${runningTask.workflowId}\n`);

    worker = await p.worker();
    running = worker.run();
    const status = await cli(['status', id, '--await', '--json']);
    assert.equal(status.code, 1, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { state: string }).state, 'cancelled');
    await eventually(async () => {
      const r = await cli(['tasks', '--commit', sha, '--status', 'cancelled', '--json']);
      assert.deepEqual((JSON.parse(r.stdout) as { tasks: { workflowId: string }[] }).tasks.map((t) => t.workflowId), [runningTask.workflowId]);
    });
  });

  test('an upload to a cancelled commit is merged, and the CLI says the commit was cancelled earlier', async () => {
    const sha = newSha();
    worker.shutdown();
    await running;
    const detached = await cli(['upload', FILES[0]!, '--repo', 'demo/app', '--commit', sha, '--detach', '--json']);
    assert.equal(detached.code, 0, detached.stderr);
    const cancelled = await cli(['cancel', `commit:demo/app:${sha}`]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    worker = await p.worker();
    running = worker.run();
    const first = (JSON.parse(detached.stdout) as { uploads: { id: string }[] }).uploads[0]!.id;
    assert.equal((await cli(['status', first, '--await'])).code, 1);

    const again = await cli(['upload', FILES[1]!, '--repo', 'demo/app', '--commit', sha]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /^note: this commit was cancelled earlier \(1 earlier upload\(s\) ended cancelled\); these 1 upload\(s\) were merged into its report$/m);
  });

  test('--version, the server port from TRIBUTARY_API_PORT, and --since as a duration', async () => {
    const version = await cli(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version);

    const port = new URL(cliEnv.TRIBUTARY_URL!).port;
    const viaPort = await cli(['tasks', '--since', '1h', '--json'], { TRIBUTARY_URL: '', TRIBUTARY_API_PORT: port });
    assert.equal(viaPort.code, 0, viaPort.stderr);
    const recent = (JSON.parse(viaPort.stdout) as { tasks: unknown[] }).tasks;
    assert.ok(recent.length > 0, 'this file started workflows within the hour');
    const future = await cli(['tasks', '--until', '1d', '--json']);
    assert.equal(future.code, 0, future.stderr);
    assert.deepEqual((JSON.parse(future.stdout) as { tasks: unknown[] }).tasks, [], 'nothing started before a day ago');

    const bad = await cli(['tasks', '--since', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid --since "yesterday": expected an ISO 8601 time .* or a duration back from now/);
    const badPort = await cli(['tasks'], { TRIBUTARY_URL: '', TRIBUTARY_API_PORT: 'eighty' });
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /TRIBUTARY_API_PORT/);
  });

  test('exit codes: 1 an invalid report, 2 usage, 3 unreachable or a wrong token', async () => {
    const garbage = path.join(scratch, 'garbage.txt');
    writeFileSync(garbage, 'this is not a coverage report\n');
    const failedSha = newSha();
    const invalid = await cli(['upload', garbage, '--repo', 'demo/app', '--commit', failedSha]);
    assert.equal(invalid.code, 1, `${invalid.stdout}\n${invalid.stderr}`);
    assert.match(invalid.stdout, /garbage\.txt +upload \S+ +session \d+ +error +\S+: /);
    // Its commit has no report: the report command says why, with each upload's error.
    const noReport = await cli(['report', 'demo/app', failedSha]);
    assert.equal(noReport.code, 1, noReport.stderr);
    assert.match(noReport.stderr, /none of the commit's 1 uploads was merged \(session 0: \S+: /);
    assert.match(noReport.stderr, /0 +error +[0-9a-f-]{36} +\S+: /);
    assert.match(noReport.stderr, /tributary status UPLOAD_ID/);

    // A key already used for another file on this commit: refused, named, nothing changed.
    const keyed = newSha();
    const sent = await cli(['upload', FILES[0]!, '--repo', 'demo/app', '--commit', keyed, '--idempotency-key', 'e2e-key', '--detach']);
    assert.equal(sent.code, 0, sent.stderr);
    const reused = await cli(['upload', FILES[1]!, '--repo', 'demo/app', '--commit', keyed, '--idempotency-key', 'e2e-key']);
    assert.equal(reused.code, 1, `${reused.stdout}\n${reused.stderr}`);
    assert.match(reused.stderr, new RegExp(`${path.basename(FILES[1]!).replace('.', '\\.')}: Idempotency-Key "e2e-key" was already used`));
    assert.equal((await p.store.listUploads('demo/app', keyed)).length, 1);

    const usage = await cli(['upload', path.join(scratch, 'missing.info'), '--repo', 'demo/app', '--commit', newSha()]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /no such file/);

    const huge = path.join(scratch, 'huge.info');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_UPLOAD_BYTES + 1);
    const tooLarge = await cli(['upload', huge, '--repo', 'demo/app', '--commit', newSha(), '--json']);
    assert.equal(tooLarge.code, 2, tooLarge.stderr);
    // The gateway may close the connection while the body is still being written (EPIPE, then
    // a retry) or answer first; either way the 413 is what the user gets.
    assert.equal((JSON.parse(tooLarge.stdout) as { error: { code: string } }).error.code, 'payload_too_large');

    const closed = await closedPort();
    const unreachable = await cli(['report', 'demo/app', newSha(), '--retries', '0'], { TRIBUTARY_URL: `http://127.0.0.1:${closed}` });
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, /cannot reach/);

    const wrong = await cli(['upload', FILES[0]!, '--repo', 'demo/app', '--commit', newSha(), '--token', 'wrong-token']);
    assert.equal(wrong.code, 3, wrong.stderr);
    const notAdmin = await cli(['repo', 'create', 'demo/other', '--admin-token', 'wrong-token']);
    assert.equal(notAdmin.code, 3, notAdmin.stderr);
  });
});

/** Retries `check` (visibility is eventually consistent) with backoff, up to 20 s. */
async function eventually<T>(check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

function distIsCurrent(): boolean {
  let built: number;
  try {
    built = statSync(path.join(REPO_ROOT, 'dist/cli/main.js')).mtimeMs;
  } catch {
    return false;
  }
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(path.join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(path.join(dir, e.name)).mtimeMs : 0,
      ),
    );
  return newest(path.join(REPO_ROOT, 'src')) < built;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
