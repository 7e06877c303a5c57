/**
 * A process that opens the PGlite folder given as its argument, says `open` and stays until it is
 * killed: the other process of the PGlite lock tests. A refused open exits 1 with the message.
 */
import { openDatabase } from '../../src/storage/database';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: pglite-holder.ts DIR');
openDatabase({ dataDir: dir }).then(
  async (db) => {
    await db.query('SELECT 1');
    process.stdout.write('open\n');
    setInterval(() => undefined, 60_000);
  },
  (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  },
);
