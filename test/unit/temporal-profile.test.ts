/**
 * Temporal connection settings: our TEMPORAL_* variables as before, TLS material from the
 * TEMPORAL_TLS_* variables, and profiles of a TOML client-config file (through
 * @temporalio/envconfig), down to the options the client and the worker connect with.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { connectionOptions } from '../../src/temporal/connection';

const CERT = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n';
const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const bytes = (s: string) => new TextEncoder().encode(s);

let dir: string;
const file = (name: string) => path.join(dir, name);

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tributary-profile-'));
  await writeFile(file('client.pem'), CERT);
  await writeFile(file('client.key'), KEY);
  await writeFile(file('ca.pem'), CA);
  await writeFile(
    file('temporal.toml'),
    `[profile.default]
address = "default.example.com:7233"
namespace = "from-file"

[profile.prod]
address = "prod.tmprl.cloud:7233"
namespace = "coverage.acct"
api_key = "file-key"
[profile.prod.tls]
client_cert_path = "${file('client.pem')}"
client_key_path = "${file('client.key')}"
server_ca_cert_path = "${file('ca.pem')}"
server_name = "prod.internal"
[profile.prod.grpc_meta]
x_team = "coverage"

[profile.plain]
address = "plain.internal:7233"
api_key = "k"
[profile.plain.tls]
disabled = true

[profile.broken]
address = "no-port"

[profile.halfpair.tls]
client_cert_path = "${file('client.pem')}"
`,
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const optionsOf = (env: Record<string, string>) => {
  const config = loadConfig(env, dir);
  return { config, options: connectionOptions(config, config.temporal.address ?? '127.0.0.1:7233') };
};

function rejects(env: Record<string, string>, message: RegExp): void {
  assert.throws(
    () => loadConfig(env, dir),
    (err: unknown) => err instanceof ConfigError && message.test(err.message),
  );
}

describe('Temporal connection settings', () => {
  test('our variables alone connect exactly as before', () => {
    assert.deepEqual(optionsOf({}).options, { address: '127.0.0.1:7233', tls: undefined, apiKey: undefined });
    assert.equal(optionsOf({}).config.temporal.namespace, 'default');
    assert.deepEqual(optionsOf({ TEMPORAL_ADDRESS: 't.internal:7233', TEMPORAL_TLS: 'true' }).options, { address: 't.internal:7233', tls: {}, apiKey: undefined });
    // Our booleans, not envconfig's (which reads only "1" and "true").
    assert.deepEqual(optionsOf({ TEMPORAL_ADDRESS: 't.internal:7233', TEMPORAL_TLS: 'yes' }).options.tls, {});
    // An API key implies TLS, even with TEMPORAL_TLS=false.
    const tlsVars: Record<string, string>[] = [{}, { TEMPORAL_TLS: 'false' }];
    for (const tlsVar of tlsVars) {
      assert.deepEqual(optionsOf({ TEMPORAL_ADDRESS: 't.internal:7233', TEMPORAL_API_KEY: 'k', ...tlsVar }).options, { address: 't.internal:7233', tls: {}, apiKey: 'k' });
    }
    assert.deepEqual(optionsOf({ TEMPORAL_TLS: 'false' }).options.tls, undefined);
  });

  test('TEMPORAL_TLS_* give the client certificate pair, the server CA and the server name, as paths or data', () => {
    const fromPaths = optionsOf({
      TEMPORAL_ADDRESS: 't.internal:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: 'client.pem',
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    assert.equal(fromPaths.config.temporal.tls, true, 'TLS material implies TLS');
    assert.deepEqual(fromPaths.options, {
      address: 't.internal:7233',
      tls: { serverNameOverride: 'temporal.internal', serverRootCACertificate: bytes(CA), clientCertPair: { crt: bytes(CERT), key: bytes(KEY) } },
      apiKey: undefined,
    });
    const fromData = optionsOf({ TEMPORAL_ADDRESS: 't.internal:7233', TEMPORAL_TLS_CLIENT_CERT_DATA: CERT, TEMPORAL_TLS_CLIENT_KEY_DATA: KEY });
    assert.deepEqual(fromData.options.tls, { clientCertPair: { crt: bytes(CERT), key: bytes(KEY) } });
  });

  test('a TOML profile gives address, namespace, API key, mTLS and gRPC metadata; our variables win over it', () => {
    const prod = optionsOf({ TEMPORAL_CONFIG_FILE: 'temporal.toml', TEMPORAL_PROFILE: 'prod' });
    assert.equal(prod.config.temporal.address, 'prod.tmprl.cloud:7233', 'an address in the profile means an existing server');
    assert.equal(prod.config.temporal.namespace, 'coverage.acct');
    assert.equal(prod.config.temporal.profile, 'prod');
    assert.deepEqual(prod.options, {
      address: 'prod.tmprl.cloud:7233',
      tls: { serverNameOverride: 'prod.internal', serverRootCACertificate: bytes(CA), clientCertPair: { crt: bytes(CERT), key: bytes(KEY) } },
      apiKey: 'file-key',
      metadata: { 'x-team': 'coverage' },
    });

    const overridden = optionsOf({
      TEMPORAL_CONFIG_FILE: file('temporal.toml'),
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_NAMESPACE: 'other',
      TEMPORAL_API_KEY: 'env-key',
      TEMPORAL_TLS_SERVER_NAME: 'env.internal',
    });
    assert.equal(overridden.config.temporal.namespace, 'other');
    assert.equal(overridden.options.apiKey, 'env-key');
    assert.equal((overridden.options.tls as { serverNameOverride?: string }).serverNameOverride, 'env.internal');

    const byDefault = optionsOf({ TEMPORAL_CONFIG_FILE: file('temporal.toml') });
    assert.equal(byDefault.config.temporal.address, 'default.example.com:7233', 'without TEMPORAL_PROFILE the default profile');
    assert.equal(byDefault.config.temporal.namespace, 'from-file');
    assert.equal(byDefault.options.tls, undefined);
  });

  test("a profile's tls.disabled turns TLS off even with an API key", () => {
    const plain = optionsOf({ TEMPORAL_CONFIG_FILE: file('temporal.toml'), TEMPORAL_PROFILE: 'plain' });
    assert.deepEqual(plain.options, { address: 'plain.internal:7233', tls: undefined, apiKey: 'k' });
  });

  test('the default file location is read only when TEMPORAL_PROFILE asks for a profile', async () => {
    const home = path.join(dir, 'xdg');
    await mkdir(path.join(home, 'temporalio'), { recursive: true });
    await writeFile(path.join(home, 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "cli.example.com:7233"\n');
    assert.equal(loadConfig({ XDG_CONFIG_HOME: home }, dir).temporal.address, undefined, 'the embedded dev server stays the default');
    assert.equal(loadConfig({ XDG_CONFIG_HOME: home, TEMPORAL_PROFILE: 'default' }, dir).temporal.address, 'cli.example.com:7233');
  });

  test('bad profiles and TLS settings are configuration errors naming the variable', () => {
    rejects({ TEMPORAL_CONFIG_FILE: 'missing.toml' }, /TEMPORAL_CONFIG_FILE: cannot read .*missing\.toml/);
    rejects({ TEMPORAL_CONFIG_FILE: file('temporal.toml'), TEMPORAL_PROFILE: 'nope' }, /TEMPORAL_PROFILE: Profile 'nope' not found/);
    rejects({ TEMPORAL_CONFIG_FILE: file('temporal.toml'), TEMPORAL_PROFILE: 'broken' }, /TEMPORAL_CONFIG_FILE: profile broken: address: expected host:port/);
    rejects({ TEMPORAL_CONFIG_FILE: file('temporal.toml'), TEMPORAL_PROFILE: 'halfpair' }, /a client certificate and its key go together/);
    rejects({ TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem') }, /a client certificate and its key go together/);
    rejects({ TEMPORAL_TLS_CLIENT_CERT_PATH: file('gone.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key') }, /cannot read the client certificate .*gone\.pem/);
    rejects({ TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem'), TEMPORAL_TLS_CLIENT_CERT_DATA: CERT }, /TEMPORAL_TLS_CLIENT_CERT_DATA: set TEMPORAL_TLS_CLIENT_CERT_PATH or TEMPORAL_TLS_CLIENT_CERT_DATA, not both/);
    const badToml = file('bad.toml');
    return writeFile(badToml, '[profile.default\naddress = 1').then(() => rejects({ TEMPORAL_CONFIG_FILE: badToml }, /TEMPORAL_CONFIG_FILE: /));
  });
});
