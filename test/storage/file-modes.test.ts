/**
 * Owner-only files: blobs 0600 in 0700 folders (whatever the process umask), the PGlite folder
 * 0700, and folders of an older install tightened when a process opens its data folder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openAppContext } from '../../src/app-context';
import { loadConfig } from '../../src/config';
import { keys } from '../../src/storage/blob-store';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { ensurePrivateDir, ensureSecretFile, tightenFile } from '../../src/private-files';
import { ensureAdminToken } from '../../src/api/admin-token';
import { ensureSessionSecret } from '../../src/web/session';

let dir: string;
const modeOf = async (p: string) => (await stat(p)).mode & 0o777;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tributary-modes-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('new blob files are 0600 and their folders 0700, even under a permissive umask', async () => {
  const previous = process.umask(0);
  try {
    const root = path.join(dir, 'fresh', 'blobs');
    const blobs = new FsBlobStore(root);
    const key = keys.commitReport('acme/app', 'abcdef1', 3, 0);
    await blobs.put(key, Buffer.from('report'));
    await blobs.put(keys.raw('up-1'), Buffer.from('raw'));
    assert.equal(await modeOf(path.join(root, key)), 0o600);
    assert.equal(await modeOf(path.join(root, keys.raw('up-1'))), 0o600);
    for (const folder of ['', 'reports', 'reports/acme', 'reports/acme/app', 'reports/acme/app/abcdef1', 'raw']) {
      assert.equal(await modeOf(path.join(root, folder)), 0o700, `${folder || 'the root'} is 0700`);
    }
    // A replaced blob (write-then-rename) stays private too.
    await blobs.put(keys.raw('up-1'), Buffer.from('raw again'));
    assert.equal(await modeOf(path.join(root, keys.raw('up-1'))), 0o600);
  } finally {
    process.umask(previous);
  }
});

test('ensurePrivateDir creates 0700 and tightens an existing folder; tightenFile tightens a file and ignores a missing one', async () => {
  const wide = path.join(dir, 'wide');
  await mkdir(wide);
  await chmod(wide, 0o755);
  await ensurePrivateDir(wide);
  assert.equal(await modeOf(wide), 0o700);
  const file = path.join(wide, 'token');
  await writeFile(file, 'x');
  await chmod(file, 0o644);
  await tightenFile(file);
  assert.equal(await modeOf(file), 0o600);
  await tightenFile(path.join(wide, 'missing'));
});

test('ensureSecretFile writes a new secret 0600 once, reads it back (tightening a wide file), and refuses a file that holds no secret', async () => {
  const folder = path.join(dir, 'secrets');
  await mkdir(folder);
  const file = path.join(folder, 'secret');
  let generated = 0;
  const generate = () => `${++generated}`.padStart(40, 'x');
  // Two starting at once: one writes, the other reads what it wrote.
  const [a, b] = await Promise.all([ensureSecretFile(file, 'test secret', generate), ensureSecretFile(file, 'test secret', generate)]);
  assert.equal(a.secret, b.secret);
  assert.deepEqual([a.created, b.created].sort(), [false, true]);
  assert.equal((await readFile(file, 'utf8')).trim(), a.secret);
  assert.equal(await modeOf(file), 0o600);
  await chmod(file, 0o644);
  assert.deepEqual(await ensureSecretFile(file, 'test secret', generate), { secret: a.secret, created: false });
  assert.equal(await modeOf(file), 0o600);
  await writeFile(file, 'short\n');
  await assert.rejects(ensureSecretFile(file, 'test secret', generate), new RegExp(`${file} holds no valid test secret \\(at least 32 characters\\)`));
});

test('the admin token and the session secret are kept in the data folder, each in its own file', async () => {
  const dataDir = path.join(dir, 'data');
  await mkdir(dataDir);
  const config = loadConfig({ TRIBUTARY_DATA_DIR: dataDir });
  const admin = await ensureAdminToken(config);
  assert.deepEqual(admin.source, { kind: 'file', path: path.join(dataDir, 'admin-token'), created: true });
  assert.deepEqual((await ensureAdminToken(config)).source, { kind: 'file', path: path.join(dataDir, 'admin-token'), created: false });
  assert.equal((await ensureAdminToken(config)).token, admin.token);
  const secret = await ensureSessionSecret(config);
  assert.notEqual(secret, admin.token);
  assert.equal(await ensureSessionSecret(config), secret);
  assert.equal((await readFile(path.join(dataDir, 'session-secret'), 'utf8')).trim(), secret);
  assert.equal(await modeOf(path.join(dataDir, 'admin-token')), 0o600);
});

test("opening an older install's data folder tightens it, its blob folder and PGlite's folder", async () => {
  const dataDir = path.join(dir, 'older');
  for (const sub of ['', 'blobs', 'db']) {
    await mkdir(path.join(dataDir, sub), { recursive: true });
    await chmod(path.join(dataDir, sub), 0o755);
  }
  const config = loadConfig({ TRIBUTARY_DATA_DIR: dataDir });
  const app = await openAppContext(config);
  try {
    assert.equal(await modeOf(dataDir), 0o700);
    assert.equal(await modeOf(config.blobs.dir), 0o700);
    assert.equal(await modeOf(config.database.dir), 0o700);
  } finally {
    await app.close();
  }
});
