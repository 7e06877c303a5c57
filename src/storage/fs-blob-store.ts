import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEFAULT_LIST_LIMIT, type BlobBody, type BlobPage, type BlobStore, type ListedBlob, type ListPage } from './blob-store';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private-files';

/** The embedded blob store: one file per key under a root folder, readable by its owner only. */
export class FsBlobStore implements BlobStore {
  /**
   * Folders this store made (or found) already: a put into one of them skips its mkdir, one
   * system call of the few a small blob costs. Nothing here removes folders; one removed from
   * outside is made again when a write into it fails.
   */
  private readonly folders = new Set<string>();

  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    const p = path.resolve(this.root, key);
    if (!p.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`blob key escapes the store: ${key}`);
    return p;
  }

  async put(key: string, body: BlobBody): Promise<void> {
    const target = this.pathOf(key);
    // Write-then-rename: a reader never sees half a blob, and a retried put simply replaces it.
    const tmp = `${target}.${randomUUID()}.tmp`;
    const handle = await this.create(tmp);
    try {
      if (body instanceof Uint8Array) await handle.writeFile(body);
      else await pipeline(body, handle.createWriteStream());
      await handle.close();
      await rename(tmp, target);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Opens a new file for writing, making its folder first if this store has not made it yet.
   * Opened before the body is read, so a stream is never consumed by a write that cannot land.
   */
  private async create(file: string): Promise<FileHandle> {
    const folder = path.dirname(file);
    if (this.folders.has(folder)) {
      try {
        return await open(file, 'w', PRIVATE_FILE_MODE);
      } catch (err) {
        // Removed from outside since: made again below.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.folders.delete(folder);
      }
    }
    await mkdir(folder, { recursive: true, mode: PRIVATE_DIR_MODE });
    this.folders.add(folder);
    return open(file, 'w', PRIVATE_FILE_MODE);
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

  /**
   * Walks the prefix's folder on every page: the embedded store holds one machine's blobs, and a
   * walk keeps no cursor state between pages. Half-written `.tmp` files are listed like any blob,
   * so a write that crashed is swept as an orphan.
   */
  async list(prefix: string, page: ListPage = {}): Promise<BlobPage> {
    const limit = Math.max(1, page.limit ?? DEFAULT_LIST_LIMIT);
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    const keys: string[] = [];
    await this.walk(base, keys);
    const wanted = keys
      .filter((k) => k.startsWith(prefix) && (page.after === undefined || k > page.after))
      .sort();
    const chosen = wanted.slice(0, limit);
    const blobs: ListedBlob[] = [];
    for (const key of chosen) {
      try {
        const s = await stat(this.pathOf(key));
        blobs.push({ key, size: s.size, modifiedAt: s.mtime });
      } catch (err) {
        // Deleted since the walk: not listed.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return { blobs, next: wanted.length > limit ? chosen[chosen.length - 1]! : null };
  }

  private async walk(dir: string, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir === '' ? path.resolve(this.root) : this.pathOf(dir), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const key = dir === '' ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory()) await this.walk(key, out);
      else if (e.isFile()) out.push(key);
    }
  }
}
