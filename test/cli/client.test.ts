/**
 * The server commands of the CLI against a stand-in gateway on 127.0.0.1 that implements the
 * HTTP contract: output formats, exit codes, retries with the same Idempotency-Key, long-poll
 * parameters and backoff, saved credentials, and plain versus terminal output.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main';
import { readFileChunks, type CliIo } from '../../src/cli/io';
import { Backoff, HttpClient, retryAfterMs } from '../../src/cli/http-client';
import { followUpload } from '../../src/cli/follow';
import { ADMIN_TOKEN, REPORT_TEXT, StandInGateway } from './stand-in-gateway';
import { runNode, type ChildResult } from '../support/run-child';

const REPO_ROOT = path.resolve(__dirname, '../..');
const SHA = 'abcdef0123456789abcdef0123456789abcdef01';

let gw: StandInGateway;
let dir: string;
let reportFile: string;
let garbageFile: string;

before(async () => {
  gw = await new StandInGateway().start();
  dir = mkdtempSync(path.join(tmpdir(), 'tributary-cli-'));
  reportFile = path.join(dir, 'lcov.info');
  writeFileSync(reportFile, 'SF:a.ts\nDA:1,1\nDA:2,0\nend_of_record\n'.repeat(2000));
  garbageFile = path.join(dir, 'garbage.txt');
  writeFileSync(garbageFile, 'this is not a coverage report\n');
});
after(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  terminal: string;
}

/** A stand-in terminal: what cli-progress and the live lines need from a TTY stream. */
function fakeTerminal(): { stream: NonNullable<CliIo['terminal']>; text: () => string } {
  let text = '';
  const stream = {
    isTTY: true,
    columns: 100,
    write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
      text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    },
    on() {
      return stream;
    },
    once() {
      return stream;
    },
    removeListener() {
      return stream;
    },
  };
  // The fake implements only what a TTY writer is asked for here; the cast states that.
  return { stream: stream as unknown as NonNullable<CliIo['terminal']>, text: () => text };
}

async function run(args: string[], opts: { env?: Record<string, string>; tty?: boolean; configDir?: string } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const terminal = opts.tty ? fakeTerminal() : undefined;
  const io: CliIo = {
    stdout: (s) => {
      stdout += s;
      terminal?.stream.write(s);
    },
    stderr: (s) => void (stderr += s),
    open: readFileChunks,
    setExitCode: () => undefined,
    env: {
      TRIBUTARY_URL: gw.url,
      TRIBUTARY_CONFIG_DIR: opts.configDir ?? path.join(dir, 'config-default'),
      TRIBUTARY_DATA_DIR: path.join(dir, 'no-data'),
      ...opts.env,
    },
    terminal: terminal?.stream,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr, terminal: terminal?.text() ?? '' };
}

function slugFor(name: string): string {
  return `cli-test/${name}`;
}

describe('repo create and saved credentials', () => {
  test('prints the token, saves it 0600 by server and slug, and a later upload uses it', async () => {
    const configDir = path.join(dir, 'config-creds');
    const slug = slugFor('creds');
    const created = await run(['repo', 'create', slug, '--admin-token', ADMIN_TOKEN], { configDir });
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.equal(token, gw.repos.get(slug)?.token);

    const file = path.join(configDir, 'credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { servers: Record<string, Record<string, { uploadToken: string }>> };
    assert.equal(saved.servers[gw.url]?.[slug]?.uploadToken, token);

    const uploaded = await run(['upload', reportFile, '--repo', slug, '--commit', SHA], { configDir });
    assert.equal(uploaded.code, 0, uploaded.stderr);
    const post = gw.uploadRequests().at(-1)!;
    assert.equal(post.headers.authorization, `Bearer ${token}`);
  });

  test('--json prints {slug, uploadToken}; a second create is a conflict (exit 1)', async () => {
    const slug = slugFor('json');
    const r = await run(['repo', 'create', slug, '--json'], { env: { TRIBUTARY_ADMIN_TOKEN: ADMIN_TOKEN } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { slug, uploadToken: gw.repos.get(slug)?.token });
    const again = await run(['repo', 'create', slug], { env: { TRIBUTARY_ADMIN_TOKEN: ADMIN_TOKEN } });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists/);
  });

  test('the admin token is read from <data folder>/admin-token when not given', async () => {
    const dataDir = path.join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path.join(dataDir, 'admin-token'), `${ADMIN_TOKEN}\n`, { mode: 0o600 });
    const r = await run(['repo', 'create', slugFor('datadir')], { env: { TRIBUTARY_DATA_DIR: dataDir } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(gw.repos.has(slugFor('datadir')));
  });

  test('no admin token at all is a usage error (2); a wrong one is an auth failure (3)', async () => {
    const none = await run(['repo', 'create', slugFor('none')]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no admin token/);
    const wrong = await run(['repo', 'create', slugFor('wrong'), '--admin-token', 'nope']);
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /token/);
    assert.ok(!gw.repos.has(slugFor('wrong')));
  });
});

describe('upload', () => {
  test('plain output: one line per state change, no escape codes, then the commit totals', async () => {
    const slug = slugFor('plain');
    const token = gw.addRepo(slug);
    const before = gw.requests.length;
    const r = await run(['upload', reportFile, reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--flag', 'unit', '--flag', 'linux', '--name', 'ci', '--build', '7', '--job', 'j1', '--branch', 'main', '--format', 'lcov', '--fixes', 'src/::']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /\x1b/);
    const lines = r.stdout.split('\n');
    assert.equal(lines.filter((l) => /sent \d+ bytes, upload up-\d+/.test(l)).length, 2);
    for (const state of ['processing', 'merged']) {
      assert.equal(lines.filter((l) => l.endsWith(`  ${state}`) && l.includes('upload up-')).length, 2, `${state}:\n${r.stdout}`);
    }
    assert.match(r.stdout, /commit abcdef012345 {2}complete/);
    assert.match(r.stdout, /coverage +lines +hits +misses +partials +files +sessions\n70\.00% +10 +7 +2 +1 +2 +2/);

    const posts = gw.requests.slice(before).filter((q) => q.method === 'POST');
    assert.equal(posts.length, 2);
    const size = statSync(reportFile).size;
    for (const p of posts) {
      assert.equal(p.bodyBytes, size);
      assert.equal(p.headers['content-length'], String(size));
      assert.deepEqual(p.query.getAll('flags'), ['unit', 'linux']);
      assert.equal(p.query.get('name'), 'ci');
      assert.equal(p.query.get('build'), '7');
      assert.equal(p.query.get('job'), 'j1');
      assert.equal(p.query.get('branch'), 'main');
      assert.equal(p.query.get('format'), 'lcov');
      assert.deepEqual(p.query.getAll('fixes'), ['src/::']);
    }
    assert.notEqual(posts[0]!.headers['idempotency-key'], posts[1]!.headers['idempotency-key']);
    // Every status request long-polls.
    const polls = gw.requests.slice(before).filter((q) => q.method === 'GET' && q.path.startsWith('/api/v1/uploads/'));
    assert.ok(polls.length >= 4);
    for (const p of polls) assert.equal(p.query.get('wait'), '30s');
  });

  test('commit metadata: flags win over the CI environment field by field; bad flags are usage errors', async () => {
    const slug = slugFor('ci-env');
    const token = gw.addRepo(slug);
    const env = {
      GITHUB_ACTIONS: 'true',
      GITHUB_REF: 'refs/pull/42/merge',
      GITHUB_REF_NAME: '42/merge',
      GITHUB_HEAD_REF: 'feature',
      GITHUB_RUN_ID: '555',
      GITHUB_JOB: 'test',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_SHA: 'ffffffffffffffffffffffffffffffffffffffff',
    };
    const before = gw.requests.length;
    const r = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--branch', 'release', '--job', 'lint', '--parent', 'ABCDEF0123456789', '--detach'], { env });
    assert.equal(r.code, 0, r.stderr);
    const [post] = gw.requests.slice(before).filter((q) => q.method === 'POST');
    assert.ok(post);
    assert.equal(post.path, `/api/v1/repos/${slug}/commits/${SHA}/uploads`, '--commit names the commit, not GITHUB_SHA');
    assert.deepEqual(Object.fromEntries(['branch', 'parent', 'pr', 'ci_service', 'build', 'job', 'ci_url'].map((k) => [k, post.query.get(k)])), {
      branch: 'release',
      parent: 'abcdef0123456789',
      pr: '42',
      ci_service: 'github-actions',
      build: '555',
      job: 'lint',
      ci_url: 'https://github.com/acme/app/actions/runs/555',
    });

    // Outside a CI only the flags are sent.
    const plainBefore = gw.requests.length;
    assert.equal((await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--detach'])).code, 0);
    const plain = gw.requests.slice(plainBefore).find((q) => q.method === 'POST')!;
    for (const k of ['branch', 'parent', 'pr', 'ci_service', 'build', 'job', 'ci_url']) assert.equal(plain.query.get(k), null, k);

    // An unusable CI variable is a note, and the upload goes on without it.
    const noted = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--detach'], { env: { BUILDKITE: 'true', BUILDKITE_PULL_REQUEST: 'maybe', BUILDKITE_BRANCH: 'main' } });
    assert.equal(noted.code, 0, noted.stderr);
    assert.match(noted.stderr, /^note: ignoring BUILDKITE_PULL_REQUEST="maybe": /m);

    const posts = gw.requests.length;
    for (const [args, message] of [
      [['--pr', '#12'], /invalid --pr "#12": expected a pull request number/],
      [['--parent', 'HEAD^'], /invalid --parent "HEAD\^": expected a hex commit sha/],
      [['--ci-url', 'ci.example/1'], /invalid --ci-url "ci.example\/1": expected an http\(s\):\/\/ URL/],
    ] as const) {
      const bad = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, ...args]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, message);
    }
    assert.equal(gw.requests.length, posts, 'nothing is sent for a bad flag');
  });

  test('--json: uploads with id, session, state and error, and the commit; an error upload exits 1', async () => {
    const slug = slugFor('json-error');
    const token = gw.addRepo(slug);
    const r = await run(['upload', reportFile, garbageFile, '--repo', slug, '--commit', SHA, '--token', token, '--json']);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { uploads: { id: string; session: number; state: string; error: { code: string } | null }[]; commit: { state: string; totals: unknown } };
    assert.deepEqual(Object.keys(out), ['uploads', 'commit']);
    assert.deepEqual(out.uploads.map((u) => [u.session, u.state, u.error?.code ?? null]), [
      [0, 'merged', null],
      [1, 'error', 'unrecognized_format'],
    ]);
    assert.equal(out.commit.state, 'complete');
    assert.equal((out.commit.totals as { sessions: number }).sessions, 1);
    assert.match(r.stderr, /1 of 2 upload\(s\) failed/);
  });

  test('--detach prints the ids and status URLs and does not follow', async () => {
    const slug = slugFor('detach');
    const token = gw.addRepo(slug);
    const before = gw.requests.length;
    const r = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--detach']);
    assert.equal(r.code, 0, r.stderr);
    const id = [...gw.uploads.values()].find((u) => u.repo === slug)!.id;
    assert.match(r.stdout, new RegExp(`^${id}  ${gw.url}/api/v1/uploads/${id}$`, 'm'));
    assert.equal(gw.requests.slice(before).filter((q) => q.path.startsWith('/api/v1/uploads/')).length, 0);

    const json = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--detach', '--json']);
    const out = JSON.parse(json.stdout) as { uploads: { id: string; state: string }[]; commit: { state: string } };
    assert.equal(out.uploads[0]!.state, 'uploaded');
    assert.equal(out.commit.state, 'processing');
  });

  test('5xx answers are retried with the same Idempotency-Key: one upload', async () => {
    const slug = slugFor('retry-5xx');
    const token = gw.addRepo(slug);
    gw.failNextPosts = 2;
    const r = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const posts = gw.uploadRequests().filter((q) => q.path.includes(slug));
    assert.equal(posts.length, 3);
    assert.equal(new Set(posts.map((p) => p.headers['idempotency-key'])).size, 1);
    assert.equal([...gw.uploads.values()].filter((u) => u.repo === slug).length, 1);
  });

  test('a dropped answer is retried with the same key and returns the upload already created', async () => {
    const slug = slugFor('retry-drop');
    const token = gw.addRepo(slug);
    gw.dropNextPosts = 1;
    const r = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--idempotency-key', 'ci-run-42', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const posts = gw.uploadRequests().filter((q) => q.path.includes(slug));
    assert.equal(posts.length, 2);
    assert.deepEqual(posts.map((p) => p.headers['idempotency-key']), ['ci-run-42', 'ci-run-42']);
    assert.equal([...gw.uploads.values()].filter((u) => u.repo === slug).length, 1);
    const out = JSON.parse(r.stdout) as { uploads: { session: number }[] };
    assert.equal(out.uploads[0]!.session, 0);
  });

  test('a key already used for other content is a clear error naming the file and key (exit 1), not retried', async () => {
    const slug = slugFor('key-conflict');
    const token = gw.addRepo(slug);
    const first = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--idempotency-key', 'ci-9', '--detach']);
    assert.equal(first.code, 0, first.stderr);
    const before = gw.uploadRequests().length;
    const r = await run(['upload', garbageFile, '--repo', slug, '--commit', SHA, '--token', token, '--idempotency-key', 'ci-9']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(gw.uploadRequests().length, before + 1, 'a 409 is not retried');
    assert.match(r.stderr, /^error: .*garbage\.txt: Idempotency-Key "ci-9" was already used for commit [0-9a-f]+ with different content/m);
    assert.match(r.stderr, /new --idempotency-key/);
    assert.equal([...gw.uploads.values()].filter((u) => u.repo === slug).length, 1);

    const again = await run(['upload', garbageFile, '--repo', slug, '--commit', SHA, '--token', token, '--idempotency-key', 'ci-9', '--json']);
    assert.equal(again.code, 1);
    const error = (JSON.parse(again.stdout) as { error: { code: string; message: string; field: string } }).error;
    assert.equal(error.code, 'idempotency_conflict');
    assert.equal(error.field, 'Idempotency-Key');
    assert.match(error.message, /"ci-9"/);
  });

  test('on a terminal: progress bars and live status lines redrawn in place', async () => {
    const slug = slugFor('tty');
    const token = gw.addRepo(slug);
    const r = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token], { tty: true });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.terminal, /\x1b\[\d*A/, 'cursor moves up to redraw');
    assert.match(r.terminal, /100% \| \d+\/\d+ bytes/);
    assert.match(r.terminal, /merged/);
  });

  test('usage errors exit 2 with a clear message', async () => {
    const cases: [string[], RegExp][] = [
      [['upload', path.join(dir, 'missing.info'), '--repo', 'a/b', '--commit', SHA, '--token', 't'], /cannot read .*missing\.info: no such file/],
      [['upload', reportFile, '--repo', 'not-a-slug', '--commit', SHA, '--token', 't'], /invalid --repo "not-a-slug"/],
      [['upload', reportFile, '--repo', 'a/b', '--commit', 'xyz', '--token', 't'], /invalid --commit "xyz"/],
      [['upload', reportFile, '--repo', 'a/b', '--commit', SHA, '--format', 'word'], /Allowed choices are lcov/],
      [['upload', reportFile, '--repo', 'a/b', '--commit', SHA, '--fixes', 'nope'], /invalid --fixes rule "nope"/],
      [['upload', reportFile, '--repo', 'a/b', '--commit', SHA, '--wait-timeout', 'soon'], /invalid --wait-timeout "soon"/],
      [['upload', reportFile, '--commit', SHA], /required option '--repo/],
      [['mode', 'set', 'a/b', 'fastest', '--admin-token', ADMIN_TOKEN], /invalid mode "fastest": expected one of serial, parallel, experiment, default/],
      [['tasks', '--status', 'sleeping', '--admin-token', ADMIN_TOKEN], /Allowed choices are running/],
      [['tasks', '--since', 'yesterday', '--admin-token', ADMIN_TOKEN], /invalid --since "yesterday"/],
      [['report', 'a/b', 'zz'], /invalid commit "zz"/],
      [['report', 'a/b', 'ABCDEF1'], /invalid commit "ABCDEF1": expected a hex commit sha/],
      [['status', '../etc', '--token', 't'], /invalid upload id "..\/etc"/],
    ];
    const before = gw.requests.length;
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal(gw.requests.length, before, 'nothing reaches the server');
  });

  test('an unreachable server exits 3 after its retries; a wrong token exits 3 at once', async () => {
    const port = await closedPort();
    const r = await run(['upload', reportFile, '--repo', 'a/b', '--commit', SHA, '--token', 't', '--retries', '1'], { env: { TRIBUTARY_URL: `http://127.0.0.1:${port}` } });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /retrying in .*ECONNREFUSED/);
    assert.match(r.stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+/);

    const slug = slugFor('auth');
    gw.addRepo(slug);
    const before = gw.uploadRequests().length;
    const wrong = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', 'not-the-token']);
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /unknown token|token is missing or unknown/);
    assert.equal(gw.uploadRequests().length, before + 1, 'auth failures are not retried');
  });
});

describe('status, report, mode, tasks, cancel', () => {
  test('status prints the state; --await follows to the end; an error exits 1', async () => {
    const slug = slugFor('status');
    const token = gw.addRepo(slug);
    const detached = await run(['upload', garbageFile, '--repo', slug, '--commit', SHA, '--token', token, '--detach', '--json']);
    const id = (JSON.parse(detached.stdout) as { uploads: { id: string }[] }).uploads[0]!.id;

    const once = await run(['status', id, '--token', token]);
    assert.equal(once.code, 0, once.stderr);
    assert.match(once.stdout, /^state +processing$/m);

    const awaited = await run(['status', id, '--await', '--json', '--token', token]);
    assert.equal(awaited.code, 1);
    const out = JSON.parse(awaited.stdout) as { state: string; error: { code: string } };
    assert.equal(out.state, 'error');
    assert.equal(out.error.code, 'unrecognized_format');

    const unknown = await run(['status', 'up-999999', '--token', token]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no such upload/);
  });

  test('report --json prints the body as sent, then the commit metadata; the table lists totals and files', async () => {
    const slug = slugFor('report');
    const token = gw.addRepo(slug);
    const json = await run(['report', slug, SHA, '--json', '--token', token]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout, `${REPORT_TEXT.slice(0, -1)},"metadata":{}}\n`);

    const plain = await run(['report', slug, SHA, '--token', token]);
    assert.equal(
      plain.stdout,
      [
        'coverage  lines  hits  misses  partials  files  sessions',
        '50.00%    2      1     1       0         2      1',
        '',
        'coverage  lines  hits  misses  partials  file',
        '0.00%     1      0     1       0         a.ts',
        '100.00%   1      1     0       0         b.ts',
        '',
      ].join('\n'),
    );
    const one = await run(['report', slug, SHA, '--file', 'b.ts', '--json', '--token', token]);
    assert.deepEqual(Object.keys((JSON.parse(one.stdout) as { files: object }).files), ['b.ts']);
    assert.equal(gw.requests.filter((q) => q.path.endsWith('/report')).at(-1)!.query.get('file'), 'b.ts');
    const missing = await run(['report', slug, SHA, '--file', 'c.ts', '--token', token]);
    assert.equal(missing.code, 1);
  });

  test('report shows the commit metadata above the totals, and in --json', async () => {
    const slug = slugFor('report-meta');
    const token = gw.addRepo(slug);
    const parent = 'fedcba9876543210fedcba9876543210fedcba98';
    const up = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--branch', 'main', '--pr', '8', '--parent', parent, '--build', '31', '--job', 'unit', '--ci-url', 'https://ci.example/31', '--detach']);
    assert.equal(up.code, 0, up.stderr);
    const plain = await run(['report', slug, SHA, '--token', token]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.ok(
      plain.stdout.startsWith(['branch  main', 'pr      8', `parent  ${parent}`, 'build   31', 'job     unit', 'url     https://ci.example/31', '', 'coverage  lines'].join('\n')),
      plain.stdout,
    );
    const json = JSON.parse((await run(['report', slug, SHA, '--json', '--token', token])).stdout) as { files: object; metadata: object };
    assert.deepEqual(json.metadata, { branch: 'main', parentSha: parent, pullRequest: 8, build: '31', job: 'unit', ciUrl: 'https://ci.example/31' });
    assert.deepEqual(Object.keys(json.files).sort(), ['a.ts', 'b.ts']);
  });

  test('mode set sends the mode, and default clears it; mode list shows the overrides', async () => {
    const slug = slugFor('mode');
    gw.addRepo(slug);
    const env = { TRIBUTARY_ADMIN_TOKEN: ADMIN_TOKEN };
    const set = await run(['mode', 'set', slug, 'experiment'], { env });
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, `${slug}: mode experiment\n`);
    assert.equal(gw.repos.get(slug)?.mode, 'experiment');
    const list = await run(['mode', 'list'], { env });
    assert.match(list.stdout, new RegExp(`^${slug} +experiment$`, 'm'));
    const cleared = await run(['mode', 'set', slug, 'default', '--json'], { env });
    assert.deepEqual(JSON.parse(cleared.stdout), { slug, mode: null });
    assert.equal(gw.repos.get(slug)?.mode, null);
    const byUploadToken = await run(['mode', 'set', slug, 'serial', '--admin-token', gw.repos.get(slug)!.token]);
    assert.equal(byUploadToken.code, 3);
  });

  test('tasks passes every filter and prints a table; --json is the server answer', async () => {
    const env = { TRIBUTARY_ADMIN_TOKEN: ADMIN_TOKEN };
    const r = await run(
      ['tasks', '--repo', 'demo/app', '--commit', 'abcdef1', '--mode', 'experiment', '--status', 'completed', '--outcome', 'merged', '--since', '2026-01-01T00:00:00Z', '--until', '2026-02-01T00:00:00Z', '--limit', '5'],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    const q = gw.requests.at(-1)!.query;
    assert.deepEqual(Object.fromEntries(q), {
      repo: 'demo/app',
      commit: 'abcdef1',
      mode: 'experiment',
      status: 'completed',
      outcome: 'merged',
      since: '2026-01-01T00:00:00Z',
      until: '2026-02-01T00:00:00Z',
      limit: '5',
    });
    assert.match(r.stdout, /^status +repo +commit +mode +outcome +experiment +uploads +started +closed +workflow$/m);
    assert.match(r.stdout, /^completed +demo\/app +abcdef123456 +experiment +merged +match +3 +2026-01-01T00:00:00.000Z +2026-01-01T00:00:05.000Z +commit\/demo\/app\/abcdef1$/m);
    const none = await run(['tasks', '--status', 'failed'], { env });
    assert.equal(none.stdout, 'no tasks\n');
    const json = await run(['tasks', '--json'], { env });
    assert.equal((JSON.parse(json.stdout) as { tasks: unknown[] }).tasks.length, 1);
  });

  test('cancel asks for cancellation; an unknown workflow exits 1', async () => {
    const env = { TRIBUTARY_ADMIN_TOKEN: ADMIN_TOKEN };
    const ok = await run(['cancel', 'commit/demo/app/abcdef1', '--json'], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { workflowId: 'commit/demo/app/abcdef1', cancelRequested: true });
    const unknown = await run(['cancel', 'nope'], { env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no such workflow/);
  });
});

describe('503 and Retry-After', () => {
  test('a 503 is retried after the Retry-After the server sent, seconds or date', async () => {
    const { createServer: createHttpServer } = await import('node:http');
    let calls = 0;
    const server = createHttpServer((_req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: { code: 'unavailable', message: 'the database is unreachable; retry in 5 s' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      const delays: number[] = [];
      const client = new HttpClient({ baseUrl: `http://127.0.0.1:${port}`, retries: 2, onRetry: (_what, ms) => delays.push(ms) });
      const res = await client.request('/api/v1/flags');
      assert.equal(res.status, 200);
      assert.equal(calls, 2);
      assert.deepEqual(delays, [1000], 'waited what Retry-After said, not its own backoff');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs('7', now), 7000);
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:03 GMT', now), 3000);
    assert.equal(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs(undefined, now), undefined);
  });
});

describe('polling', () => {
  test('backoff grows to its cap and resets', () => {
    const b = new Backoff(100, 1000, () => 1);
    assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000, 1000]);
    b.reset();
    assert.equal(b.next(), 100);
    const low = new Backoff(100, 1000, () => 0);
    assert.deepEqual([low.next(), low.next()], [50, 100]);
  });

  test('--wait-timeout ends following: the last known state is printed and the exit code is 1', async () => {
    const slug = slugFor('timeout');
    const token = gw.addRepo(slug);
    gw.script = Array.from({ length: 10_000 }, () => 'processing');
    try {
      const r = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--wait-timeout', '1s', '--json']);
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout) as { uploads: { state: string }[]; commit: { state: string; totals: unknown } };
      assert.deepEqual(out.uploads.map((u) => u.state), ['processing']);
      assert.deepEqual(out.commit, { state: 'processing', totals: null });
      assert.match(r.stderr, /gave up waiting after 1s: 1 upload\(s\) not finished/);
      const polls = gw.requests.filter((q) => q.path === `/api/v1/uploads/${[...gw.uploads.values()].find((u) => u.repo === slug)!.id}`);
      assert.ok(polls.length < 20, `backed off instead of spinning: ${polls.length} polls`);
    } finally {
      gw.script = ['processing', 'merged'];
    }
  });

  test('an answer without news that came back early backs off; a change resets the backoff', async () => {
    const slug = slugFor('backoff');
    const token = gw.addRepo(slug);
    gw.script = ['processing', 'processing', 'processing', 'merged'];
    try {
      const detached = await run(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token, '--detach', '--json']);
      const id = (JSON.parse(detached.stdout) as { uploads: { id: string }[] }).uploads[0]!.id;
      const calls: string[] = [];
      class SpyBackoff extends Backoff {
        override next(): number {
          calls.push('next');
          return 1;
        }
        override reset(): void {
          calls.push('reset');
        }
      }
      const states: string[] = [];
      const final = await followUpload(new HttpClient({ baseUrl: gw.url }), token, id, (s) => states.push(s.state), {
        deadline: Date.now() + 60_000,
        backoff: () => new SpyBackoff(),
      });
      assert.equal(final.state, 'merged');
      assert.deepEqual(states, ['processing', 'merged']);
      // processing (new: reset), processing twice without news (back off each time), merged (reset).
      assert.deepEqual(calls, ['reset', 'next', 'next', 'reset']);
    } finally {
      gw.script = ['processing', 'merged'];
    }
  });
});

describe('as a process', () => {
  // From the sources (a dist/ build may lag behind them); test/cli/end-to-end.test.ts runs the
  // built binary against the real gateway.
  test('plain output when stdout is a pipe, and the exit codes', async () => {
    const slug = slugFor('binary');
    const token = gw.addRepo(slug);
    const env = { ...process.env, TRIBUTARY_URL: gw.url, TRIBUTARY_CONFIG_DIR: path.join(dir, 'config-bin'), TRIBUTARY_DATA_DIR: path.join(dir, 'no-data') };
    const ok = await spawnCli(['upload', reportFile, '--repo', slug, '--commit', SHA, '--token', token], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stdout, /\x1b/);
    assert.match(ok.stdout, /merged/);
    const bad = await spawnCli(['upload', garbageFile, '--repo', slug, '--commit', SHA, '--token', token], env);
    assert.equal(bad.code, 1);
    const usage = await spawnCli(['mode', 'set', slug, 'sideways'], env);
    assert.equal(usage.code, 2);
    const auth = await spawnCli(['report', slug, SHA, '--token', 'wrong'], env);
    assert.equal(auth.code, 3);
  });
});

function spawnCli(args: string[], env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return runNode(['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: REPO_ROOT, env });
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
