/**
 * The main command as a process on a fresh data folder: it starts the gateway after the worker,
 * says where the API, its docs and the admin token are, serves uploads end to end, and on SIGTERM
 * stops the gateway first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newSha } from '../support/pipeline';
import { freePort } from '../support/ports';

const root = path.resolve(__dirname, '../..');
let dataDir: string;
let child: ChildProcess | undefined;
let output = '';

/** Resolves once the output matches, or rejects when the process ends first or `ms` pass. */
function waitForOutput(pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = output.match(pattern);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`the main command ended before printing ${pattern}:\n${output}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within ${ms} ms:\n${output}`));
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      child?.stdout?.removeListener('data', check);
      child?.removeListener('exit', onExit);
    };
    child?.stdout?.on('data', check);
    child?.once('exit', onExit);
    check();
  });
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tributary-main-'));
  // As an older install left them: folders readable by everyone. The start tightens them.
  await chmod(dataDir, 0o755);
  await mkdir(path.join(dataDir, 'blobs'), { mode: 0o755 });
  await chmod(path.join(dataDir, 'blobs'), 0o755);
  const [devPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      TRIBUTARY_DATA_DIR: dataDir,
      TEMPORAL_DEV_PORT: String(devPort),
      TEMPORAL_UI_PORT: String(uiPort),
      TRIBUTARY_API_PORT: String(apiPort),
      TRIBUTARY_DEBOUNCE: '200ms',
      TRIBUTARY_ADMIN_TOKEN: '',
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
      TRIBUTARY_BLOB_STORE: '',
      LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (output += d));
  child.stderr?.on('data', (d: string) => (output += d));
});

after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  await rm(dataDir, { recursive: true, force: true });
});

const modeOf = async (p: string) => (await stat(p)).mode & 0o777;

test('the main command serves the API, says where the admin token is, and stops the gateway first', async () => {
  await waitForOutput(/Press Ctrl-C to stop\./, 90_000);
  const api = /API:\s+(http:\/\/\S+)\/api\/v1/.exec(output)?.[1];
  assert.ok(api, output);
  assert.match(output, new RegExp(`API docs:\\s+${api.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/docs`));
  const tokenFile = path.join(dataDir, 'admin-token');
  assert.match(output, new RegExp(`Admin token:\\s+in ${tokenFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
  // Owner-only: the data folder and what the start tightened or created in it.
  assert.equal(await modeOf(dataDir), 0o700, 'the data folder is tightened');
  assert.equal(await modeOf(path.join(dataDir, 'blobs')), 0o700, 'the blob folder is tightened');
  assert.equal(await modeOf(path.join(dataDir, 'db')), 0o700, "PGlite's folder");
  assert.equal(await modeOf(path.join(dataDir, 'temporal.sqlite')), 0o600, "the dev server's database");
  assert.equal(await modeOf(path.join(dataDir, 'temporal-server.log')), 0o600, "the dev server's log");
  const admin = (await readFile(tokenFile, 'utf8')).trim();

  const ready = await fetch(`${api}/readyz`);
  assert.equal(ready.status, 200);
  const created = await fetch(`${api}/api/v1/repos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ slug: 'demo/app' }),
  });
  assert.equal(created.status, 201);
  const { uploadToken } = (await created.json()) as { uploadToken: string };
  const sha = newSha();
  const lcov = await readFile(path.join(root, '../shared/corpus/negotiator-nyc/lcov.info'));
  const posted = await fetch(`${api}/api/v1/repos/demo/app/commits/${sha}/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${uploadToken}`, 'content-type': 'text/plain' },
    body: lcov,
  });
  assert.equal(posted.status, 202);
  const { uploads } = (await posted.json()) as { uploads: { uploadId: string }[] };
  assert.equal(await modeOf(path.join(dataDir, 'blobs', 'raw', uploads[0]!.uploadId)), 0o600, 'a new blob file');
  assert.equal(await modeOf(path.join(dataDir, 'blobs', 'raw')), 0o700, 'a new blob folder');
  const commit = await fetch(`${api}/api/v1/repos/demo/app/commits/${sha}?wait=30s`, { headers: { authorization: `Bearer ${uploadToken}` } });
  const body = (await commit.json()) as { state: string; totals: { sessions: number } | null };
  assert.equal(body.state, 'complete', JSON.stringify(body));
  assert.equal(body.totals?.sessions, 1);

  const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));
  child?.kill('SIGTERM');
  assert.equal(await exited, 0, output);
  const stops = [...output.matchAll(/stopped (.+)/g)].map((m) => m[1]);
  assert.equal(stops[0], 'gateway', output);
  assert.ok(stops.indexOf('worker') > 0, output);
  assert.equal(stops[stops.length - 1], 'Temporal dev server', output);
});
