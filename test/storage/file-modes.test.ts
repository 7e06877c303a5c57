/**
 * Owner-only files: blobs 0600 in 0700 folders (whatever the process umask), the PGlite folder
 * 0700, and folders of an older install tightened when a process opens its data folder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openAppContext } from '../../src/app-context';
import { loadConfig } from '../../src/config';
import { keys } from '../../src/storage/blob-store';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { ensurePrivateDir, tightenFile } from '../../src/private-files';

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
