import path from 'node:path';
import type { Config } from '../config';
import { generateToken } from './tokens';
import { ensureSecretFile } from '../private-files';

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
  const { secret, created } = await ensureSecretFile(file, 'admin token', generateToken);
  return { token: secret, source: { kind: 'file', path: file, created } };
}

export function describeAdminToken(t: AdminToken): string {
  return t.source.kind === 'env' ? 'from TRIBUTARY_ADMIN_TOKEN' : `in ${t.source.path}`;
}
