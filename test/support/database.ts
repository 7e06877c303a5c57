import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openDatabase, type Database } from '../../src/storage/database';

/** One empty database of a test, reachable through any number of handles. */
export interface TestDatabase {
  kind: 'pglite' | 'postgres';
  /** The connection URL (PostgreSQL only), for other processes sharing the database. */
  url?: string;
  /** Opens a handle (migrations run); the caller closes it. PGlite allows one open handle. */
  open(): Promise<Database>;
  /** Removes the database (its folder, or DROP DATABASE). */
  dispose(): Promise<void>;
}

export interface DatabaseUnderTest {
  kind: 'pglite' | 'postgres';
  /**
   * A new, empty database. PGlite lives in memory unless `persistent` (then in a temporary folder,
   * so it can be closed and opened again); PostgreSQL gets a database of its own on the server.
   */
  create(opts?: { persistent?: boolean }): Promise<TestDatabase>;
}

/**
 * The databases every storage test runs against: PGlite always, and the PostgreSQL server of
 * TEST_DATABASE_URL when it is set (scripts/test.sh starts one). Each test database is created
 * fresh, so test files running in parallel never see each other's rows.
 */
export function databasesUnderTest(): DatabaseUnderTest[] {
  const targets: DatabaseUnderTest[] = [{ kind: 'pglite', create: createPglite }];
  const url = process.env.TEST_DATABASE_URL;
  if (url !== undefined && url !== '') targets.push({ kind: 'postgres', create: () => createPostgres(url) });
  return targets;
}

async function createPglite(opts: { persistent?: boolean } = {}): Promise<TestDatabase> {
  const dir = opts.persistent ? await mkdtemp(path.join(os.tmpdir(), 'tributary-pglite-')) : undefined;
  return {
    kind: 'pglite',
    open: () => openDatabase({ dataDir: dir }),
    async dispose() {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function createPostgres(serverUrl: string): Promise<TestDatabase> {
  const name = `tributary_t_${process.pid}_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.toString(),
    open: () => openDatabase({ url: url.toString() }),
    async dispose() {
      // FORCE: a test that failed half-way may have left a pool connected.
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
