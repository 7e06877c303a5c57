import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * Upload tokens saved by `tributary repo create`, so later uploads from the same user need no
 * token flag. One JSON file per user, readable by that user only, keyed by server URL then slug.
 */
const CredentialsSchema = z.object({
  version: z.literal(1),
  servers: z.record(z.string(), z.record(z.string(), z.object({ uploadToken: z.string().min(1) }))),
});
type Credentials = z.infer<typeof CredentialsSchema>;

type Env = Readonly<Record<string, string | undefined>>;

export function credentialsDir(env: Env): string {
  if (env.TRIBUTARY_CONFIG_DIR) return env.TRIBUTARY_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), '.config');
  return path.join(base, 'tributary');
}

export function credentialsFile(env: Env): string {
  return path.join(credentialsDir(env), 'credentials.json');
}

function load(file: string): Credentials {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, servers: {} };
    throw err;
  }
  const parsed = CredentialsSchema.safeParse(safeJson(text));
  if (!parsed.success) throw new Error(`${file} is not a valid credentials file; fix or remove it`);
  return parsed.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function loadUploadToken(env: Env, serverUrl: string, slug: string): string | undefined {
  return load(credentialsFile(env)).servers[serverUrl]?.[slug]?.uploadToken;
}

export function saveUploadToken(env: Env, serverUrl: string, slug: string, uploadToken: string): string {
  const file = credentialsFile(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const creds = load(file);
  creds.servers[serverUrl] = { ...creds.servers[serverUrl], [slug]: { uploadToken } };
  // Written to a private temporary file and renamed, so the token is never world-readable and a
  // crash never leaves half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}
