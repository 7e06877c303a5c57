/**
 * No Docker engine runs where the tests run, so the compose file is checked statically against the
 * project: pinned images, Tributary's environment accepted by its own config, services and
 * volumes that exist, and the search attributes the set-up script creates.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../src/temporal/dev-server';
import { z } from 'zod';
import { loadConfig } from '../../src/config';
import { CONFIG_ENV_VARS } from '../../src/config-schema';
import { cliSearchAttributeSpecs, SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';

const root = path.resolve(__dirname, '../..');

const Service = z.object({
  image: z.string().optional(),
  build: z.unknown().optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  healthcheck: z.object({ test: z.union([z.string(), z.array(z.string())]) }).optional(),
  restart: z.string().optional(),
});
const Compose = z.object({
  services: z.record(z.string(), Service),
  volumes: z.record(z.string(), z.unknown().nullable()).optional(),
});
const compose = Compose.parse(parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }));
const services = compose.services;

function envOf(name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(services[name]?.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

describe('docker-compose.yml', () => {
  test('has the production-like stack', () => {
    for (const name of ['postgresql', 'temporal-admin-tools', 'temporal', 'temporal-create-namespace', 'temporal-ui', 'seaweedfs', 'tributary-worker', 'tributary-gateway']) {
      assert.ok(services[name], `service ${name} is missing`);
    }
    assert.match(services.postgresql?.image ?? '', /^postgres:16(\.|$)/);
    assert.match(services['temporal-admin-tools']?.image ?? '', /^temporalio\/admin-tools:/);
    assert.match(services.temporal?.image ?? '', /^temporalio\/server:/);
    assert.match(services['temporal-ui']?.image ?? '', /^temporalio\/ui:/);
    assert.match(services.seaweedfs?.image ?? '', /^chrislusf\/seaweedfs:\d/);
    // Not MinIO (its licence), in any service.
    for (const [name, s] of Object.entries(services)) assert.doesNotMatch(s.image ?? '', /minio/i, name);
  });

  test('pins every image to a version', () => {
    for (const [name, s] of Object.entries(services)) {
      if (!s.image) {
        assert.ok(s.build, `${name} has neither an image nor a build`);
        continue;
      }
      const tag = s.image.split(':')[1];
      assert.ok(tag && tag !== 'latest' && /\d/.test(tag), `${name}: image ${s.image} is not pinned to a version`);
    }
  });

  test("Tributary's services are built here and their environment is a valid configuration", () => {
    const tributary = Object.entries(services).filter(([, s]) => s.build !== undefined);
    assert.ok(tributary.length >= 1);
    for (const [name, s] of tributary) {
      const env = envOf(name);
      for (const key of Object.keys(env)) {
        assert.ok((CONFIG_ENV_VARS as string[]).includes(key), `${name}: ${key} is not a variable src/config.ts reads`);
      }
      const config = loadConfig(env, '/app');
      assert.ok(config.temporal.address, `${name} must use the compose Temporal server, not an embedded one`);
      const [host, port] = (config.temporal.address as string).split(':');
      assert.ok(services[host as string], `${name}: TEMPORAL_ADDRESS names ${host}, which is not a service`);
      assert.equal(port, '7233');
      // The command runs a compiled entry point whose source exists.
      const command = Array.isArray(s.command) ? s.command : (s.command ?? '').split(' ');
      const entry = command.find((c) => c.startsWith('dist/'));
      assert.ok(entry, `${name}: command ${JSON.stringify(s.command)} runs no dist/ entry point`);
      const source = path.join(root, 'src', entry.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
      assert.ok(existsSync(source), `${name}: ${entry} has no source ${path.relative(root, source)}`);
    }
  });

  test('the UI and the server share the namespace and address the config uses', () => {
    assert.equal(envOf('temporal-ui').TEMPORAL_ADDRESS, envOf('tributary-worker').TEMPORAL_ADDRESS);
    assert.equal(envOf('temporal-create-namespace').TEMPORAL_NAMESPACE, envOf('tributary-worker').TEMPORAL_NAMESPACE);
    assert.ok(services['temporal-ui']?.ports?.some((p) => p.endsWith(':8080')));
    assert.ok(services.temporal?.ports?.some((p) => p.endsWith(':7233')));
  });

  test('the gateway is built here, serves the API on 8080 and shares storage with the worker', () => {
    const gateway = services['tributary-gateway'];
    assert.ok(gateway, 'service tributary-gateway is missing');
    assert.ok(gateway.build, 'the gateway is built from the Dockerfile');
    assert.deepEqual(gateway.command, ['node', 'dist/api/gateway.js']);
    assert.ok(gateway.ports?.includes('8080:8080'));
    const config = loadConfig(envOf('tributary-gateway'), '/app');
    assert.equal(config.api.port, 8080);
    assert.equal(config.api.host, '0.0.0.0', 'inside a container the gateway listens on every interface');
    // The worker and the gateway must see the same rows and blobs.
    const worker = loadConfig(envOf('tributary-worker'), '/app');
    assert.deepEqual(config.database, worker.database);
    assert.deepEqual(config.blobs, worker.blobs);
    assert.equal(config.temporal.taskQueue, worker.temporal.taskQueue);
  });

  test("Tributary's storage is the compose PostgreSQL and SeaweedFS, with its database and bucket created", () => {
    const weed = services.seaweedfs;
    assert.ok(weed, 'service seaweedfs is missing');
    const weedEnv = envOf('seaweedfs');
    const command = [weed.command ?? []].flat().join(' ').split(/\s+/);
    assert.equal(command[0], 'mini', 'one process: master, volume server, filer and S3 gateway');
    const flag = (name: string) => command.find((c) => c.startsWith(`-${name}=`))?.slice(name.length + 2);
    assert.equal(flag('master.telemetry'), 'false', 'no anonymous statistics sent out');
    assert.ok(weed.volumes?.includes('seaweedfs-data:/data'), 'objects and filer metadata persist in a volume');
    assert.ok(flag('dir') === undefined || flag('dir') === '/data');
    for (const name of ['tributary-worker', 'tributary-gateway']) {
      const config = loadConfig(envOf(name), '/app');
      const db = new URL(config.database.url ?? 'missing://');
      assert.ok(services[db.hostname], `${name}: DATABASE_URL names ${db.hostname}, which is not a service`);
      assert.equal(db.pathname, '/tributary');
      assert.equal(config.blobs.kind, 's3');
      const s3 = config.blobs.s3;
      const endpoint = new URL(s3?.endpoint ?? 'missing://');
      assert.equal(endpoint.hostname, 'seaweedfs');
      assert.equal(endpoint.port, flag('s3.port') ?? '8333', `${name}: S3_ENDPOINT is not the port the S3 gateway listens on`);
      assert.equal(s3?.forcePathStyle, true);
      // The identity the server creates from its environment is the one Tributary signs with.
      assert.deepEqual(s3?.credentials, { accessKeyId: weedEnv.AWS_ACCESS_KEY_ID, secretAccessKey: weedEnv.AWS_SECRET_ACCESS_KEY });
      // The bucket is created at start (S3_BUCKET, or the -bucket flag, of weed mini).
      assert.equal(flag('bucket') ?? weedEnv.S3_BUCKET, s3?.bucket, `${name}: the bucket the config names is not created`);
      assert.equal(services[name]?.depends_on?.seaweedfs?.condition, 'service_healthy');
    }
    // Healthy means the bucket exists, so Tributary never starts against a bucket still missing.
    const health = [weed.healthcheck?.test ?? []].flat().join(' ');
    assert.match(health, /s3\.bucket\.list/);
    assert.ok(health.includes(weedEnv.S3_BUCKET ?? 'missing'), 'the health check looks for the bucket');
    const setup = readFileSync(path.join(root, 'deploy/temporal/setup-postgres.sh'), 'utf8');
    assert.match(setup, /--db tributary create/);
  });

  test('no two services publish the same host port; the Web UI moved to 8088', () => {
    const hostPorts = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]));
    assert.equal(new Set(hostPorts).size, hostPorts.length, `host ports ${hostPorts.join(', ')}`);
    assert.ok(services['temporal-ui']?.ports?.includes('8088:8080'));
  });

  test('dependencies and volumes refer to things that exist', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) assert.ok(services[dep], `${name} depends on unknown ${dep}`);
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0] as string;
        if (source.startsWith('./')) assert.ok(existsSync(path.join(root, source)), `${name} mounts missing ${source}`);
        else assert.ok(declared.has(source), `${name} uses undeclared volume ${source}`);
      }
    }
    assert.ok(existsSync(path.join(root, 'Dockerfile')));
  });

  test('the set-up script creates exactly the search attributes the workflows use', () => {
    const script = readFileSync(path.join(root, 'deploy/temporal/create-namespace.sh'), 'utf8');
    const line = /for attr in ([^;]+);/.exec(script)?.[1] ?? '';
    const created = line.trim().split(/\s+/).sort();
    assert.deepEqual(created, cliSearchAttributeSpecs().sort());
  });

  test('the custom search attributes fit the columns SQL visibility has (three per type, ten keywords)', () => {
    const perType = new Map<string, number>();
    for (const k of SEARCH_ATTRIBUTES) perType.set(k.type, (perType.get(k.type) ?? 0) + 1);
    for (const [type, n] of perType) assert.ok(n <= (type === 'KEYWORD' ? 10 : 3), `${n} search attributes of type ${type}`);
  });

  test("Tributary's worker and gateway are restarted when they exit", () => {
    for (const name of ['tributary-worker', 'tributary-gateway']) assert.equal(compose.services[name]?.restart, 'unless-stopped', name);
  });

  test("the compose server dispatches by priority, as the dev servers do (commit priorities)", () => {
    const dynamic = parse(readFileSync(path.join(root, 'deploy/temporal/dynamicconfig/development-sql.yaml'), 'utf8')) as Record<string, { value: unknown }[]>;
    assert.equal(DEV_SERVER_DYNAMIC_CONFIG['matching.enableFairness'], true);
    assert.deepEqual(dynamic['matching.enableFairness']?.map((c) => c.value), [true]);
  });
});
