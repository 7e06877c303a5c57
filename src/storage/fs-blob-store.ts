import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BlobBody, BlobStore } from './blob-store';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private-files';

/** The embedded blob store: one file per key under a root folder, readable by its owner only. */
export class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    const p = path.resolve(this.root, key);
    if (!p.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`blob key escapes the store: ${key}`);
    return p;
  }

  async put(key: string, body: BlobBody): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true, mode: PRIVATE_DIR_MODE });
    // Write-then-rename: a reader never sees half a blob, and a retried put simply replaces it.
    const tmp = `${target}.${randomUUID()}.tmp`;
    try {
      if (body instanceof Uint8Array) await writeFile(tmp, body, { mode: PRIVATE_FILE_MODE });
      else await pipeline(body, createWriteStream(tmp, { mode: PRIVATE_FILE_MODE }));
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.pathOf(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}
