import { chmodSync, mkdirSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';

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
