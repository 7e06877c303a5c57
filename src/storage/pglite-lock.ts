import { createHash } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * PGlite is PostgreSQL in one process: two processes on the same folder each run their own copy
 * of the database over the same files and corrupt them. The folder is therefore held by the
 * process that opens it, and a second one refuses to start.
 *
 * The lock is a listening Unix-domain socket, not a lock file. Node has no flock() without a
 * native module, and lock-file packages (proper-lockfile: mkdir plus an mtime kept fresh) call a
 * lock stale only after a timeout, so a SIGKILLed holder blocks the next start for that long, and
 * a live holder whose event loop stalls past it loses its lock. A socket is the kernel's: it goes
 * away with its process however that process dies. On Linux the name is in the abstract
 * namespace (no file; binding is atomic, and the name vanishes on SIGKILL). Elsewhere it is a
 * socket file in the temporary folder, and a file nobody answers on is a dead holder's, removed.
 * Abstract names are per network namespace: processes in separate containers sharing a volume do
 * not see each other's lock (such a deployment needs PostgreSQL anyway).
 */
export interface FolderLock {
  release(): Promise<void>;
}

export class DatabaseLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holderPid: number | undefined,
  ) {
    super(
      `the PGlite database in ${dir} is already open in another process${holderPid === undefined ? '' : ` (pid ${holderPid})`}: ` +
        'PGlite serves one process only. Stop that process, or, to run several processes (a worker or gateway next to `npm start`), ' +
        'set DATABASE_URL to a PostgreSQL server for all of them',
    );
    this.name = 'DatabaseLockedError';
  }
}

/** Holds `dir` (an existing folder) for this process until release() or the process's end. */
export async function lockFolder(dir: string): Promise<FolderLock> {
  // The folder's identity, not its spelling: a symlink or a relative path reaches the same lock.
  const { dev, ino } = await stat(dir);
  const id = `${dev}:${ino}`;
  const linux = process.platform === 'linux';
  const address = linux
    ? `\0tributary-pglite-${id}`
    : path.join(os.tmpdir(), `tributary-pglite-${createHash('sha256').update(id).digest('hex').slice(0, 24)}.sock`);
  try {
    return await listenOn(address, linux);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
  }
  const holder = await askHolder(address);
  if (holder === 'gone' && !linux) {
    await rm(address, { force: true });
    return listenOn(address, linux);
  }
  throw new DatabaseLockedError(path.resolve(dir), typeof holder === 'number' ? holder : undefined);
}

function listenOn(address: string, abstract: boolean): Promise<FolderLock> {
  return new Promise((resolve, reject) => {
    // Whoever connects learns the holder's pid, for the refusal's message.
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(`${process.pid}\n`);
    });
    server.once('error', reject);
    server.listen(address, () => {
      server.removeListener('error', reject);
      server.on('error', () => undefined);
      // The lock must not keep a process alive that has nothing else to do.
      server.unref();
      let released = false;
      resolve({
        async release() {
          if (released) return;
          released = true;
          await new Promise<void>((done) => server.close(() => done()));
          if (!abstract) await rm(address, { force: true });
        },
      });
    });
  });
}

/** The holder's pid, 'alive' when it answers without one, or 'gone' when nobody listens. */
function askHolder(address: string): Promise<number | 'alive' | 'gone'> {
  return new Promise((resolve) => {
    let text = '';
    const socket = net.connect(address);
    socket.setTimeout(2_000, () => socket.destroy());
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'gone' : 'alive');
    });
    socket.on('close', () => {
      const pid = Number.parseInt(text, 10);
      resolve(Number.isSafeInteger(pid) && pid > 0 ? pid : 'alive');
    });
  });
}
