/**
 * The gateway's settings and secrets without a server: its configuration variables, the admin
 * token file of the embedded default, and token hashing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { ensureAdminToken } from '../../src/api/admin-token';
import { generateToken, hashesEqual, hashToken } from '../../src/api/tokens';

describe('gateway configuration', () => {
  test('defaults: 127.0.0.1:8080, 256 MiB, 600 requests a minute, no admin token, no public URL', () => {
    const c = loadConfig({}, '/srv');
    assert.deepEqual(c.api, {
      host: '127.0.0.1',
      port: 8080,
      adminToken: undefined,
      maxUploadBytes: 256 * 1024 * 1024,
      maxDiffBytes: 16 * 1024 * 1024,
      rateLimitPerMinute: 600,
      publicUrl: undefined,
      uploadUrlSecret: undefined,
      uploadUrlTtlMs: 15 * 60_000,
      sessionSecret: undefined,
      sessionTtlMs: 7 * 86_400_000,
      maxSourcesBytes: 32 * 1024 * 1024,
      requestTimeoutMs: 600_000,
      bodyIdleTimeoutMs: 30_000,
      headersTimeoutMs: 30_000,
    });
  });

  test('every variable is read; the public URL loses its trailing slash', () => {
    const c = loadConfig({
      TRIBUTARY_API_HOST: '0.0.0.0',
      TRIBUTARY_API_PORT: '9090',
      TRIBUTARY_ADMIN_TOKEN: 'a'.repeat(40),
      TRIBUTARY_MAX_UPLOAD_BYTES: '1048576',
      TRIBUTARY_MAX_DIFF_BYTES: '65536',
      TRIBUTARY_RATE_LIMIT: '30',
      TRIBUTARY_PUBLIC_URL: 'https://coverage.example.com/',
      TRIBUTARY_API_REQUEST_TIMEOUT: '30m',
      TRIBUTARY_API_BODY_IDLE_TIMEOUT: '1m',
      TRIBUTARY_API_HEADERS_TIMEOUT: '20s',
      TRIBUTARY_UPLOAD_URL_SECRET: 's'.repeat(32),
      TRIBUTARY_UPLOAD_URL_TTL: '2m',
      TRIBUTARY_SESSION_SECRET: 'k'.repeat(32),
      TRIBUTARY_SESSION_TTL: '12h',
      TRIBUTARY_MAX_SOURCES_BYTES: '2048',
    });
    assert.deepEqual(c.api, {
      host: '0.0.0.0',
      port: 9090,
      adminToken: 'a'.repeat(40),
      maxUploadBytes: 1048576,
      maxDiffBytes: 65536,
      rateLimitPerMinute: 30,
      publicUrl: 'https://coverage.example.com',
      uploadUrlSecret: 's'.repeat(32),
      uploadUrlTtlMs: 120_000,
      sessionSecret: 'k'.repeat(32),
      sessionTtlMs: 12 * 3_600_000,
      maxSourcesBytes: 2048,
      requestTimeoutMs: 1_800_000,
      bodyIdleTimeoutMs: 60_000,
      headersTimeoutMs: 20_000,
    });
  });

  test('invalid values name their variable', () => {
    for (const [name, value] of [
      ['TRIBUTARY_API_PORT', '70000'],
      ['TRIBUTARY_ADMIN_TOKEN', 'short'],
      ['TRIBUTARY_MAX_UPLOAD_BYTES', '0'],
      ['TRIBUTARY_RATE_LIMIT', 'many'],
      ['TRIBUTARY_PUBLIC_URL', 'ftp://x'],
    ]) {
      assert.throws(
        () => loadConfig({ [name as string]: value as string }),
        (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.startsWith(`${name}:`)),
        name,
      );
    }
  });
});

describe('admin token', () => {
  test('generated once into <data>/admin-token, readable by its owner only, then reused', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tributary-admin-'));
    try {
      const config = loadConfig({ TRIBUTARY_DATA_DIR: dir });
      const first = await ensureAdminToken(config);
      assert.deepEqual(first.source, { kind: 'file', path: path.join(dir, 'admin-token'), created: true });
      assert.equal(Buffer.from(first.token, 'base64url').length, 32);
      assert.equal((await stat(path.join(dir, 'admin-token'))).mode & 0o777, 0o600);
      assert.equal((await readFile(path.join(dir, 'admin-token'), 'utf8')).trim(), first.token);
      const second = await ensureAdminToken(config);
      assert.equal(second.token, first.token);
      assert.equal(second.source.kind === 'file' && second.source.created, false);

      const fromEnv = await ensureAdminToken(loadConfig({ TRIBUTARY_DATA_DIR: dir, TRIBUTARY_ADMIN_TOKEN: 'e'.repeat(32) }));
      assert.deepEqual(fromEnv, { token: 'e'.repeat(32), source: { kind: 'env' } });

      await writeFile(path.join(dir, 'admin-token'), 'too short\n');
      await assert.rejects(ensureAdminToken(config), /no valid admin token/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('tokens are random, stored as sha256 hex, compared by hash', () => {
    const a = generateToken();
    const b = generateToken();
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.match(hashToken(a), /^[0-9a-f]{64}$/);
    assert.ok(hashesEqual(hashToken(a), hashToken(a)));
    assert.ok(!hashesEqual(hashToken(a), hashToken(b)));
    assert.ok(!hashesEqual(hashToken(a), 'short'));
  });
});
