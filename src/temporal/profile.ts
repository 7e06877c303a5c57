/**
 * Temporal connection settings through `@temporalio/envconfig`: a profile of a TOML file (the
 * format the Temporal CLI and the other SDKs read) under our environment variables, and the TLS
 * material (client certificate pair, server CA, server name) read at start.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import { z } from 'zod';

/** Our Temporal variables, already validated; undefined is unset. */
export interface TemporalEnv {
  TEMPORAL_ADDRESS?: string;
  TEMPORAL_NAMESPACE?: string;
  TEMPORAL_API_KEY?: string;
  TEMPORAL_TLS: boolean;
  TEMPORAL_PROFILE?: string;
  TEMPORAL_CONFIG_FILE?: string;
  TEMPORAL_TLS_CLIENT_CERT_PATH?: string;
  TEMPORAL_TLS_CLIENT_CERT_DATA?: string;
  TEMPORAL_TLS_CLIENT_KEY_PATH?: string;
  TEMPORAL_TLS_CLIENT_KEY_DATA?: string;
  TEMPORAL_TLS_SERVER_CA_CERT_PATH?: string;
  TEMPORAL_TLS_SERVER_CA_CERT_DATA?: string;
  TEMPORAL_TLS_SERVER_NAME?: string;
}

/** The TLS variables envconfig reads, passed to it as we validated them. */
export const TEMPORAL_TLS_ENV_VARS = [
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
] as const;

export interface TemporalConnectionSettings {
  /** An existing server; undefined means the embedded dev server. */
  address?: string;
  namespace: string;
  apiKey?: string;
  /** Connect with TLS: asked for, implied by an API key, or by TLS material. */
  tls: boolean;
  /** Client certificate pair, server CA and server name, when any is given. */
  tlsConfig?: TLSConfig;
  /** gRPC metadata of the profile, sent with every call. */
  metadata?: Record<string, string>;
  /** The profile that was read, if a file was. */
  profile?: string;
}

export type Resolved = { ok: true; settings: TemporalConnectionSettings } | { ok: false; issues: string[] };

export const TEMPORAL_ADDRESS_PATTERN = /^[^\s:]+:\d+$/;
const ADDRESS_MESSAGE = 'expected host:port, e.g. temporal.example.com:7233';

// What a profile may hold, checked as strictly as our own variables.
const ProfileSchema = z.object({
  address: z.string().regex(TEMPORAL_ADDRESS_PATTERN, ADDRESS_MESSAGE).optional(),
  namespace: z.string().min(1).optional(),
  apiKey: z.string().min(1).optional(),
  grpcMeta: z.record(z.string(), z.string()).optional(),
});

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Our variables over the selected profile. A file is read only when TEMPORAL_CONFIG_FILE or
 * TEMPORAL_PROFILE says so: a profile the Temporal CLI left in the home folder must not turn the
 * embedded default into a connection to someone's cluster. Our TEMPORAL_TLS is passed only when
 * true, so an API key implies TLS whatever it says, as it always has; a profile's
 * `tls.disabled = true` (written on purpose) turns TLS off.
 */
export function resolveTemporalConnection(env: TemporalEnv, processEnv: Record<string, string | undefined>, cwd: string): Resolved {
  const issues: string[] = [];
  const fileVar = env.TEMPORAL_CONFIG_FILE !== undefined ? 'TEMPORAL_CONFIG_FILE' : 'TEMPORAL_PROFILE';
  const wantsFile = env.TEMPORAL_CONFIG_FILE !== undefined || env.TEMPORAL_PROFILE !== undefined;
  let configSource: ConfigDataSource | undefined;
  if (env.TEMPORAL_CONFIG_FILE !== undefined) {
    // envconfig treats a missing file as an empty one; a named file that is not there is a mistake.
    const file = path.resolve(cwd, env.TEMPORAL_CONFIG_FILE);
    try {
      configSource = { data: readFileSync(file, 'utf8') };
    } catch (err) {
      return { ok: false, issues: [`TEMPORAL_CONFIG_FILE: cannot read ${file}: ${messageOf(err)}`] };
    }
  }
  const overrides: Record<string, string> = {};
  const pass = (name: string, value: string | undefined) => {
    if (value !== undefined) overrides[name] = value;
  };
  pass('TEMPORAL_ADDRESS', env.TEMPORAL_ADDRESS);
  pass('TEMPORAL_NAMESPACE', env.TEMPORAL_NAMESPACE);
  pass('TEMPORAL_API_KEY', env.TEMPORAL_API_KEY);
  pass('TEMPORAL_TLS', env.TEMPORAL_TLS ? 'true' : undefined);
  // Relative paths are relative to where Tributary runs, as TEMPORAL_CONFIG_FILE and the data folder are.
  for (const name of TEMPORAL_TLS_ENV_VARS) pass(name, name.endsWith('_PATH') && env[name] !== undefined ? path.resolve(cwd, env[name]) : env[name]);
  // Only for the default file location (with TEMPORAL_PROFILE alone).
  for (const name of ['HOME', 'XDG_CONFIG_HOME', 'APPDATA']) pass(name, processEnv[name]);

  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ profile: env.TEMPORAL_PROFILE, configSource, disableFile: !wantsFile, overrideEnvVars: overrides });
  } catch (err) {
    const message = messageOf(err);
    const where = env.TEMPORAL_CONFIG_FILE === undefined ? ' (TEMPORAL_CONFIG_FILE unset: the default file, ~/.config/temporalio/temporal.toml)' : '';
    return { ok: false, issues: [`${/^Profile '/.test(message) ? 'TEMPORAL_PROFILE' : fileVar}: ${message}${where}`] };
  }

  const checked = ProfileSchema.safeParse(profile);
  if (!checked.success) {
    const name = env.TEMPORAL_PROFILE ?? 'default';
    return { ok: false, issues: checked.error.issues.map((i) => `${fileVar}: profile ${name}: ${i.path.join('.')}: ${i.message}`) };
  }
  // envconfig drops a certificate without its key (or the reverse) without a word.
  if ((profile.tls?.clientCert === undefined) !== (profile.tls?.clientKey === undefined)) {
    issues.push('TEMPORAL_TLS_CLIENT_CERT_PATH: a client certificate and its key go together (TEMPORAL_TLS_CLIENT_KEY_PATH, or the _DATA variables)');
  }
  for (const [what, source] of [
    ['client certificate', profile.tls?.clientCert],
    ['client key', profile.tls?.clientKey],
    ['server CA certificate', profile.tls?.serverCACert],
  ] as const) {
    if (source !== undefined && 'path' in source) {
      try {
        readFileSync(source.path);
      } catch (err) {
        issues.push(`TEMPORAL_TLS_*: cannot read the ${what} ${source.path}: ${messageOf(err)}`);
      }
    }
  }
  if (issues.length > 0) return { ok: false, issues };

  const options = toClientOptions(profile);
  const tls = options.connectionOptions.tls;
  const tlsConfig = typeof tls === 'object' && tls !== null ? definedOnly(tls) : undefined;
  return {
    ok: true,
    settings: {
      address: options.connectionOptions.address,
      namespace: options.namespace ?? 'default',
      apiKey: options.connectionOptions.apiKey,
      tls: tls !== undefined && tls !== null && tls !== false,
      tlsConfig: tlsConfig && Object.keys(tlsConfig).length > 0 ? tlsConfig : undefined,
      metadata: profile.grpcMeta,
      profile: wantsFile ? (env.TEMPORAL_PROFILE ?? 'default') : undefined,
    },
  };
}

function definedOnly(tls: TLSConfig): TLSConfig {
  return Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) as TLSConfig;
}
