import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig, loadParseLimits } from '../../src/config';
import { CONFIG_ENV_VARS } from '../../src/config-schema';
import { parseDuration } from '../../src/duration';

describe('config', () => {
  test('gateway timeouts and the start-up wait have defaults, read durations and refuse nonsense', () => {
    const d = loadConfig({});
    assert.equal(d.api.requestTimeoutMs, 600_000);
    assert.equal(d.api.bodyIdleTimeoutMs, 30_000);
    assert.equal(d.api.headersTimeoutMs, 30_000);
    assert.equal(d.dependencyTimeoutMs, 5_000);
    assert.equal(d.startupTimeoutMs, 300_000);
    const c = loadConfig({
      TRIBUTARY_API_REQUEST_TIMEOUT: '20m',
      TRIBUTARY_API_BODY_IDLE_TIMEOUT: '5s',
      TRIBUTARY_API_HEADERS_TIMEOUT: '10s',
      TRIBUTARY_DEPENDENCY_TIMEOUT: '2s',
      TRIBUTARY_STARTUP_TIMEOUT: '0',
    });
    assert.deepEqual(
      [c.api.requestTimeoutMs, c.api.bodyIdleTimeoutMs, c.api.headersTimeoutMs, c.dependencyTimeoutMs, c.startupTimeoutMs],
      [1_200_000, 5_000, 10_000, 2_000, 0],
    );
    assert.throws(() => loadConfig({ TRIBUTARY_API_BODY_IDLE_TIMEOUT: '0' }), /TRIBUTARY_API_BODY_IDLE_TIMEOUT: expected a duration above zero/);
    assert.throws(() => loadConfig({ TRIBUTARY_API_REQUEST_TIMEOUT: 'soon' }), /TRIBUTARY_API_REQUEST_TIMEOUT/);
    assert.throws(
      () => loadConfig({ TRIBUTARY_API_REQUEST_TIMEOUT: '10s', TRIBUTARY_API_HEADERS_TIMEOUT: '1m' }),
      /TRIBUTARY_API_HEADERS_TIMEOUT must not exceed TRIBUTARY_API_REQUEST_TIMEOUT/,
    );
  });

  test('an empty environment gives the embedded defaults', () => {
    const c = loadConfig({}, '/srv/app');
    assert.equal(c.dataDir, path.resolve('/srv/app', '.data'));
    assert.equal(c.blobDir, path.resolve('/srv/app', '.data', 'blobs'));
    assert.equal(c.temporal.address, undefined, 'no address means the embedded dev server');
    assert.equal(c.temporal.namespace, 'default');
    assert.equal(c.temporal.taskQueue, 'tributary');
    assert.equal(c.temporal.devPort, 7233);
    assert.equal(c.temporal.uiPort, 8233);
    assert.equal(c.temporal.tls, false);
    assert.equal(c.pipeline.defaultMode, 'parallel');
    assert.equal(c.pipeline.debounceMs, 0);
    assert.equal(c.pipeline.idleTimeoutMs, 3_600_000);
  });

  test('production settings are read and converted', () => {
    const c = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'coverage',
      TEMPORAL_TLS: 'true',
      TEMPORAL_API_KEY: 'k',
      TRIBUTARY_DEFAULT_MODE: 'experiment',
      TRIBUTARY_DEBOUNCE: '2s',
      TRIBUTARY_MAX_DEBOUNCE: '1m',
      TRIBUTARY_IDLE_TIMEOUT: '1d',
      TRIBUTARY_MAX_PARALLEL: '64',
      TEMPORAL_UI_PORT: '9000',
    });
    assert.equal(c.temporal.address, 'temporal.internal:7233');
    assert.equal(c.temporal.namespace, 'coverage');
    assert.equal(c.temporal.tls, true);
    assert.equal(c.temporal.apiKey, 'k');
    assert.equal(c.pipeline.defaultMode, 'experiment');
    assert.equal(c.pipeline.debounceMs, 2000);
    assert.equal(c.pipeline.maxDebounceMs, 60_000);
    assert.equal(c.pipeline.idleTimeoutMs, 86_400_000);
    assert.equal(c.pipeline.maxParallel, 64);
    assert.equal(c.temporal.uiPort, 9000);
  });

  test('empty variables count as unset', () => {
    assert.equal(loadConfig({ TEMPORAL_ADDRESS: '' }).temporal.address, undefined);
  });

  const invalid: [string, Record<string, string>, RegExp][] = [
    ['a mode that does not exist', { TRIBUTARY_DEFAULT_MODE: 'fast' }, /TRIBUTARY_DEFAULT_MODE/],
    ['an address without a port', { TEMPORAL_ADDRESS: 'temporal.internal' }, /TEMPORAL_ADDRESS: expected host:port/],
    ['a duration without a unit it knows', { TRIBUTARY_DEBOUNCE: '5 fortnights' }, /TRIBUTARY_DEBOUNCE: "5 fortnights" is not a duration/],
    ['a port out of range', { TEMPORAL_UI_PORT: '70000' }, /TEMPORAL_UI_PORT/],
    ['a non-numeric window', { TRIBUTARY_MAX_PARALLEL: 'lots' }, /TRIBUTARY_MAX_PARALLEL/],
    ['a boolean that is not one', { TEMPORAL_TLS: 'maybe' }, /TEMPORAL_TLS/],
    ['a max debounce below the debounce', { TRIBUTARY_DEBOUNCE: '10s', TRIBUTARY_MAX_DEBOUNCE: '5s' }, /TRIBUTARY_MAX_DEBOUNCE must be at least/],
  ];
  for (const [what, env, message] of invalid) {
    test(`rejects ${what}, naming the variable`, () => {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }

  test('reports every invalid variable at once', () => {
    assert.throws(
      () => loadConfig({ TRIBUTARY_DEFAULT_MODE: 'x', TEMPORAL_DEV_PORT: '0' }),
      (err: unknown) => err instanceof ConfigError && err.issues.length === 2,
    );
  });

  test('parse limits and activity slots: defaults, overrides, and the same variables for the CLI', () => {
    const d = loadConfig({});
    assert.deepEqual(d.parseLimits, { maxMemoryBytes: 96 * 1024 * 1024, maxDecompressedBytes: 1024 ** 3, maxCompressionRatio: 100 });
    assert.equal(d.pipeline.activitySlots, 8);
    const env = { TRIBUTARY_PARSE_MEMORY_BYTES: '268435456', TRIBUTARY_MAX_COMPRESSION_RATIO: '250', TRIBUTARY_WORKER_ACTIVITY_SLOTS: '3' };
    const c = loadConfig(env);
    assert.equal(c.parseLimits.maxMemoryBytes, 268435456);
    assert.equal(c.parseLimits.maxCompressionRatio, 250);
    assert.equal(c.pipeline.activitySlots, 3);
    assert.deepEqual(loadParseLimits(env), c.parseLimits);
    assert.throws(() => loadParseLimits({ TRIBUTARY_PARSE_MEMORY_BYTES: '1000' }), (err: unknown) => err instanceof ConfigError && /TRIBUTARY_PARSE_MEMORY_BYTES/.test(err.message));
    assert.throws(() => loadConfig({ TRIBUTARY_MAX_COMPRESSION_RATIO: '0' }), (err: unknown) => err instanceof ConfigError && /TRIBUTARY_MAX_COMPRESSION_RATIO/.test(err.message));
    assert.throws(() => loadConfig({ TRIBUTARY_WORKER_ACTIVITY_SLOTS: 'x' }), (err: unknown) => err instanceof ConfigError && /TRIBUTARY_WORKER_ACTIVITY_SLOTS/.test(err.message));
  });

  test('lists the variables it reads', () => {
    assert.ok(CONFIG_ENV_VARS.includes('TEMPORAL_ADDRESS'));
    assert.ok(CONFIG_ENV_VARS.includes('TRIBUTARY_DATA_DIR'));
  });

  test('durations', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('42'), 42);
    assert.equal(parseDuration('-1s'), undefined);
    assert.equal(parseDuration('1w'), undefined);
    assert.equal(parseDuration(''), undefined);
  });
});
