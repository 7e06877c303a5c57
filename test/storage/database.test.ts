import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MIGRATIONS, runMigrations } from '../../src/storage/migrations';
import { NestedQueryError, type Database } from '../../src/storage/database';
import { databasesUnderTest, type TestDatabase } from '../support/database';

for (const target of databasesUnderTest()) {
  describe(`database on ${target.kind}`, () => {
    // One database for the tests that can share it (each uses tables of its own): starting PGlite
    // costs seconds.
    let shared: TestDatabase;
    let db: Database;
    before(async () => {
      shared = await target.create();
      db = await shared.open();
    });
    after(async () => {
      await db?.close();
      await shared?.dispose();
    });

    test('migrations apply once, are recorded, and opening again changes nothing', async () => {
      const testDb = await target.create({ persistent: true });
      try {
        const first = await testDb.open();
        assert.equal(first.kind, target.kind);
        const recorded = await first.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
        assert.deepEqual(recorded.map((r) => r.id), MIGRATIONS.map((m) => m.id));
        await first.query(`INSERT INTO repositories (slug, upload_token_hash) VALUES ('acme/app', 'h')`);
        assert.deepEqual(await runMigrations(first), [], 'nothing left to apply');
        await first.close();

        const second = await testDb.open();
        const again = await second.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
        assert.equal(again[0]?.n, MIGRATIONS.length);
        const kept = await second.query<{ slug: string }>('SELECT slug FROM repositories');
        assert.deepEqual(kept, [{ slug: 'acme/app' }], 'the data survived the reopen');
        await second.close();
        await second.close(); // closing twice is harmless
        await assert.rejects(second.query('SELECT 1'), 'a closed database refuses queries');
      } finally {
        await testDb.dispose();
      }
    });

    test('a new migration is applied after the recorded ones, and only it', async () => {
      const extra = [...MIGRATIONS, { id: '9999_test_extra', statements: ['CREATE TABLE test_extra (x integer)'] }];
      assert.deepEqual(await runMigrations(db, extra), ['9999_test_extra']);
      assert.deepEqual(await runMigrations(db, extra), []);
      await db.query('INSERT INTO test_extra (x) VALUES (1)');
    });

    test('a failing migration leaves nothing behind', async () => {
      const broken = [
        ...MIGRATIONS,
        { id: '9998_broken', statements: ['CREATE TABLE half_done (x integer)', 'SELECT * FROM no_such_table'] },
      ];
      await assert.rejects(runMigrations(db, broken));
      const tables = await db.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'`);
      assert.equal(tables.length, 0);
      const recorded = await db.query(`SELECT 1 FROM schema_migrations WHERE id = '9998_broken'`);
      assert.equal(recorded.length, 0);
    });

    test('int8 values come back as numbers, exact ones only', async () => {
      const [row] = await db.query<{ a: unknown; b: unknown; c: unknown; n: unknown }>(
        `SELECT 5000000000::bigint AS a, 9007199254740991::bigint AS b, 9007199254740993::bigint AS c,
                (SELECT count(*) FROM generate_series(1, 3)) AS n`,
      );
      assert.equal(row?.a, 5_000_000_000);
      assert.equal(row?.b, Number.MAX_SAFE_INTEGER);
      assert.equal(row?.c, '9007199254740993', 'beyond 2^53 the exact decimal string, never a rounded number');
      assert.equal(row?.n, 3);
    });

    test('a transaction commits on success and rolls back on a throw', async () => {
      await db.query('CREATE TABLE t (x integer)');
      const value = await db.transaction(async (tx) => {
        await tx.query('INSERT INTO t (x) VALUES ($1)', [1]);
        return 'done';
      });
      assert.equal(value, 'done');
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO t (x) VALUES ($1)', [2]);
          throw new Error('boom');
        }),
        /boom/,
      );
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO t (x) VALUES ($1)', [3]);
          await tx.query('INSERT INTO t (x) VALUES ($1)', ['not a number']);
        }),
      );
      assert.deepEqual(await db.query('SELECT x FROM t ORDER BY x'), [{ x: 1 }]);
      // The database is still usable after the failed transactions.
      await db.transaction((tx) => tx.query('INSERT INTO t (x) VALUES (4)'));
      assert.equal((await db.query('SELECT x FROM t')).length, 2);
    });

    test('concurrent transactions never interleave (read-modify-write under row locks)', async () => {
      await db.query('CREATE TABLE counter (id integer PRIMARY KEY, v integer NOT NULL)');
      await db.query('INSERT INTO counter VALUES (1, 0)');
      // FOR UPDATE orders PostgreSQL's connections; on PGlite the transaction queue does.
      await Promise.all(
        Array.from({ length: 25 }, () =>
          db.transaction(async (tx) => {
            const [row] = await tx.query<{ v: number }>('SELECT v FROM counter WHERE id = 1 FOR UPDATE');
            await new Promise((resolve) => setImmediate(resolve));
            await tx.query('UPDATE counter SET v = $1 WHERE id = 1', [(row?.v ?? 0) + 1]);
          }),
        ),
      );
      assert.deepEqual(await db.query('SELECT v FROM counter'), [{ v: 25 }]);
    });

    test('the database itself is refused inside its own transaction (tx is the handle to use)', async () => {
      await db.query('CREATE TABLE nested (x integer)');
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO nested (x) VALUES (1)');
          await db.query('INSERT INTO nested (x) VALUES (2)');
        }),
        NestedQueryError,
      );
      await assert.rejects(db.transaction(() => db.transaction(async () => 1)), NestedQueryError);
      assert.deepEqual(await db.query('SELECT x FROM nested'), [], 'the transaction rolled back');
      assert.equal(await db.transaction(async (tx) => (await tx.query<{ one: number }>('SELECT 1 AS one'))[0]?.one), 1);
    });

    if (target.kind === 'pglite') {
      test('PGlite: a query outside a transaction waits for it instead of running inside it', async () => {
        await db.query('CREATE TABLE queued (x integer)');
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let inserted!: () => void;
        const insertedP = new Promise<void>((resolve) => (inserted = resolve));
        const tx = db.transaction(async (q) => {
          await q.query('INSERT INTO queued (x) VALUES (1)');
          inserted();
          await gate;
          throw new Error('roll back');
        });
        await insertedP;
        // Sent while the transaction is open: on a bare single connection it would run inside
        // it and see (or be rolled back with) the uncommitted row.
        const outside = db.query('INSERT INTO queued (x) VALUES (2)');
        release();
        await assert.rejects(tx, /roll back/);
        await outside;
        assert.deepEqual(await db.query('SELECT x FROM queued'), [{ x: 2 }]);
      });
    }

    if (target.kind === 'postgres') {
      test('PostgreSQL: processes opening a new database at once migrate it exactly once', async () => {
        const testDb = await target.create();
        try {
          const handles = await Promise.all(Array.from({ length: 5 }, () => testDb.open()));
          const [count] = await handles[0]!.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
          assert.equal(count?.n, MIGRATIONS.length);
          await Promise.all(handles.map((h) => h.close()));
        } finally {
          await testDb.dispose();
        }
      });
    }
  });
}
