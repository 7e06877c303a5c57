import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import { generateToken } from './tokens';
import { tightenFile } from '../private-files';

export interface AdminToken {
  token: string;
  /** Where it came from: the environment, or the file it was read from or written to. */
  source: { kind: 'env' } | { kind: 'file'; path: string; created: boolean };
}

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * TRIBUTARY_ADMIN_TOKEN when set; otherwise the token in `<dataDir>/admin-token`, generated (mode
 * 0600, readable by its owner only) the first time, so local set-ups need no configuration.
 */
export async function ensureAdminToken(config: Config): Promise<AdminToken> {
  if (config.api.adminToken !== undefined) return { token: config.api.adminToken, source: { kind: 'env' } };
  const file = path.join(config.dataDir, ADMIN_TOKEN_FILE);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) {
      // An older install, or a hand-written file, may be readable by others.
      await tightenFile(file);
      return { token: existing, source: { kind: 'file', path: file, created: false } };
    }
    throw new Error(`${file} holds no valid admin token (at least 32 characters); remove it to generate a new one`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = generateToken();
  try {
    // 'wx': two processes starting at once must not overwrite each other's token.
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return ensureAdminToken(config);
    throw err;
  }
  return { token, source: { kind: 'file', path: file, created: true } };
}

export function describeAdminToken(t: AdminToken): string {
  return t.source.kind === 'env' ? 'from TRIBUTARY_ADMIN_TOKEN' : `in ${t.source.path}`;
}
