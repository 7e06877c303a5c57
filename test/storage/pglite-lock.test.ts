import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { openDatabase } from '../../src/storage/database';
import { DatabaseLockedError } from '../../src/storage/pglite-lock';
import { runNode } from '../support/run-child';

const ROOT = path.resolve(__dirname, '../..');
const HOLDER = path.join(ROOT, 'test/support/pglite-holder.ts');

/** Starts a holder and resolves once it says the database is open. */
async function startHolder(dir: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('open\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the holder exited ${code}: ${err}`)));
  });
  return child;
}

test('a PGlite folder is held by one process; a SIGKILLed holder does not block the next', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tributary-lock-'));
  const db = path.join(dir, 'db');
  let first: ChildProcessWithoutNullStreams | undefined;
  let third: ChildProcessWithoutNullStreams | undefined;
  try {
    first = await startHolder(db);

    const second = await runNode(['--import', 'tsx', HOLDER, db], { cwd: ROOT, env: process.env });
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /already open in another process \(pid \d+\)/);
    assert.match(second.stderr, new RegExp(`pid ${first.pid}\\b`), 'names the holder');
    assert.match(second.stderr, /set DATABASE_URL to a PostgreSQL server/);

    // Another spelling of the same folder reaches the same lock.
    const alias = path.join(dir, 'alias');
    await symlink(db, alias);
    const viaAlias = await runNode(['--import', 'tsx', HOLDER, alias], { cwd: ROOT, env: process.env });
    assert.equal(viaAlias.code, 1, viaAlias.stderr);
    assert.match(viaAlias.stderr, /DATABASE_URL/);

    first.kill('SIGKILL');
    await once(first, 'exit');
    third = await startHolder(db);
  } finally {
    for (const child of [first, third]) {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    await rm(dir, { recursive: true, force: true });
  }
});

test('in one process the folder is free again once the database is closed', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tributary-lock-'));
  try {
    const db = await openDatabase({ dataDir: dir });
    await assert.rejects(openDatabase({ dataDir: dir }), (err: Error) => err instanceof DatabaseLockedError && /DATABASE_URL/.test(err.message));
    await db.close();
    const again = await openDatabase({ dataDir: dir });
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
