import { chmodSync, mkdirSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';

/**
 * The data folder holds other people's source layout, coverage and tokens: everything Tributary
 * writes there is its owner's alone. A folder that is 0700 also hides whatever older, wider files
 * it holds, so tightening the folders of an existing install is enough.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** For child processes (the Temporal dev server): every file they create is owner-only. */
export const PRIVATE_UMASK = 0o077;

/** Creates the folder (missing parents too) owner-only, and tightens it when it already exists. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await tighten(() => chmod(dir, PRIVATE_DIR_MODE));
}

export function ensurePrivateDirSync(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  tightenSync(() => chmodSync(dir, PRIVATE_DIR_MODE));
}

/** Tightens an existing file to owner-only; a file that does not exist (yet) is left alone. */
export async function tightenFile(file: string): Promise<void> {
  await tighten(() => chmod(file, PRIVATE_FILE_MODE));
}

export function tightenFileSync(file: string): void {
  tightenSync(() => chmodSync(file, PRIVATE_FILE_MODE));
}

/**
 * The secret kept in `file` (a token, at least 32 characters), or a new one from `generate`
 * written there owner-only the first time, so local set-ups need no configuration. `what` names
 * it in the error about a file that holds something else.
 */
export async function ensureSecretFile(file: string, what: string, generate: () => string): Promise<{ secret: string; created: boolean }> {
  for (;;) {
    try {
      const existing = (await readFile(file, 'utf8')).trim();
      if (existing.length >= 32) {
        // An older install, or a hand-written file, may be readable by others.
        await tightenFile(file);
        return { secret: existing, created: false };
      }
      throw new Error(`${file} holds no valid ${what} (at least 32 characters); remove it to generate a new one`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const secret = generate();
    try {
      // 'wx': of two processes starting at once on one folder, the second reads the first's
      // secret instead of overwriting it (two admin tokens, or sessions signed with two secrets).
      await writeFile(file, `${secret}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
      return { secret, created: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

// Missing: nothing to protect. EPERM: the path belongs to someone else (a mounted volume, say),
// whose owner chose its modes; refusing to start over it would help no one.
const TOLERATED = new Set(['ENOENT', 'EPERM']);

async function tighten(change: () => Promise<void>): Promise<void> {
  try {
    await change();
  } catch (err) {
    if (!TOLERATED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
}

function tightenSync(change: () => void): void {
  try {
    change();
  } catch (err) {
    if (!TOLERATED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
}
