import { AsyncLocalStorage } from 'node:async_hooks';
import { ensurePrivateDir } from '../private-files';
import { z } from 'zod';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Pool, types as pgTypes, type CustomTypesConfig, type PoolClient } from 'pg';
import { runMigrations } from './migrations';
import { lockFolder, type FolderLock } from './pglite-lock';

/** Anything SQL can be sent to: the database itself or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * One database API over two drivers: PGlite (PostgreSQL compiled to WASM, in-process, the embedded
 * default) and a `pg` pool on a PostgreSQL server. Both speak the same SQL (PostgreSQL dialect,
 * `$1` parameters), so nothing above this module knows which one it has.
 */
export interface Database extends Queryable {
  kind: 'pglite' | 'postgres';
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. Inside
   * `fn` use only `tx`: a query on the database itself is refused (NestedQueryError), because on
   * PGlite it would wait for this very transaction and on PostgreSQL run outside it.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const OpenDatabaseOptions = z.object({
  /** A PostgreSQL server (postgres://…); undefined means PGlite. */
  url: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// URL')
    .optional(),
  /** PGlite's folder; undefined means in memory (gone at close). Ignored with a url. */
  dataDir: z.string().min(1).optional(),
  /** Connections of the PostgreSQL pool. */
  maxConnections: z.number().int().min(1).max(1000).optional(),
  /** How long the PostgreSQL pool waits for a new connection (pg's default is for ever). */
  connectTimeoutMs: z.number().int().min(1).optional(),
});
export type OpenDatabaseOptions = z.input<typeof OpenDatabaseOptions>;

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Opens the database and brings its schema up to date (see ./migrations). */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  const o = OpenDatabaseOptions.parse(opts);
  const db = guardNesting(o.url !== undefined ? openPostgres(o.url, o.maxConnections ?? 10, o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) : await openPglite(o.dataDir));
  try {
    await runMigrations(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

/**
 * int8 (bigserial ids, counts, byte sizes) as a JS number when it is exact, and as its decimal
 * string otherwise, so a value is never silently rounded. Every int8 the schema holds is far
 * below 2^53.
 */
export function parseInt8(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/** SQLSTATE of a driver error (both drivers put it on `code`), or undefined. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = '23505';

/** A query or transaction on the database from inside one of its transactions. */
export class NestedQueryError extends Error {
  constructor() {
    super('query on the database inside one of its transactions: use the transaction handle (tx) instead');
    this.name = 'NestedQueryError';
  }
}

/** Makes both drivers refuse the same mistake, instead of one deadlocking and one committing apart. */
function guardNesting(db: Database): Database {
  const inTransaction = new AsyncLocalStorage<true>();
  const refuse = () => inTransaction.getStore() === true;
  return {
    kind: db.kind,
    query<T>(sql: string, params?: unknown[]) {
      if (refuse()) return Promise.reject(new NestedQueryError());
      return db.query<T>(sql, params);
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      if (refuse()) return Promise.reject(new NestedQueryError());
      return db.transaction((tx) => inTransaction.run(true, () => fn(tx)));
    },
    close: () => db.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL through `pg`

/**
 * The pool's own type parsers: int8 through parseInt8, everything else as pg does by default.
 * Per pool rather than pg's process-wide setTypeParser, so other pg users keep their behaviour.
 */
const pgTypeParsers: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pgTypes.builtins.INT8 && format !== 'binary'
      ? parseInt8
      : pgTypes.getTypeParser(oid, format)) as typeof pgTypes.getTypeParser,
};

function openPostgres(url: string, max: number, connectTimeoutMs: number): Database {
  // A server that does not answer fails the query after connectTimeoutMs, not after the kernel's
  // TCP timeout: callers (the gateway's 503, activity retries) learn it soon.
  const pool = new Pool({ connectionString: url, max, types: pgTypeParsers, connectionTimeoutMillis: connectTimeoutMs });
  // An idle client that loses its connection (server restart) emits 'error' on the pool; without
  // a listener that would crash the process. The next query simply gets a fresh connection.
  pool.on('error', () => undefined);
  let poolEnded = false;

  const onClient = (client: PoolClient): Queryable => ({
    async query<T>(sql: string, params?: unknown[]) {
      // Rows are typed by the caller, who knows the SELECT list; pg cannot check them either way.
      const result = await client.query(sql, params);
      return result.rows as T[];
    },
  });

  return {
    kind: 'postgres',
    async query<T>(sql: string, params?: unknown[]) {
      const result = await pool.query(sql, params);
      return result.rows as T[];
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const value = await fn(onClient(client));
        await client.query('COMMIT');
        return value;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          // A connection that cannot even roll back must not go back to the pool.
          broken = true;
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      if (poolEnded) return;
      poolEnded = true;
      await pool.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PGlite

async function openPglite(dataDir: string | undefined): Promise<Database> {
  let lock: FolderLock | undefined;
  if (dataDir !== undefined) {
    await ensurePrivateDir(dataDir);
    // Before PGlite touches the files: a second process must not even start recovery on them.
    lock = await lockFolder(dataDir);
  }
  let pg: PGlite;
  try {
    pg = await PGlite.create({
      dataDir,
      parsers: { [pgliteTypes.INT8]: parseInt8 },
    });
  } catch (err) {
    await lock?.release();
    throw err;
  }

  // PGlite is one connection: a statement sent while another caller's transaction is open would
  // run inside it. Every top-level query and every transaction therefore waits its turn here.
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(() => {
      if (closed) throw new Error('the database is closed');
      return work();
    });
    tail = run.catch(() => undefined);
    return run;
  };

  return {
    kind: 'pglite',
    query<T>(sql: string, params?: unknown[]) {
      return exclusive(async () => (await pg.query<T>(sql, params)).rows);
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return exclusive(() =>
        pg.transaction(async (tx) =>
          fn({
            async query<R>(sql: string, params?: unknown[]) {
              return (await tx.query<R>(sql, params)).rows;
            },
          }),
        ),
      );
    },
    async close() {
      if (closed) return;
      // Let queued work finish first: closing under a running statement would fail it.
      await exclusive(async () => {
        closed = true;
        try {
          await pg.close();
        } finally {
          await lock?.release();
        }
      });
    },
  };
}
