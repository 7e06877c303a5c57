#!/usr/bin/env node
// Provides the two Temporal servers the project runs on, without internet access:
//   - the Temporal CLI (dev server + Web UI), built from the Go module proxy;
//   - the Java time-skipping test server, fetched from Maven Central, behind an `exec` wrapper.
// Idempotent: results are cached in .tools/ (git-ignored, safe to delete) and recorded in
// .tools/tools.json, which the tests and the main command read. Overrides:
//   TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH   use existing binaries
//   TEMPORAL_ADDRESS                                an existing server: no CLI is needed
// Without Go (or Java + Maven) the entry is left empty and the SDK downloads its own server, which
// works on machines with internet access.
//
// Usage: node scripts/temporal-tools.mjs [--cli] [--test-server] [--quiet]   (default: both)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, chmodSync, rmSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEST_SERVER_VERSION = '1.38.0';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = join(root, '.tools');
const manifestPath = join(toolsDir, 'tools.json');

const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');
const wantCli = args.has('--cli') || !args.has('--test-server');
const wantTestServer = args.has('--test-server') || !args.has('--cli');

function log(msg) {
  if (!quiet) process.stderr.write(`[tools] ${msg}\n`);
}

function secondsSince(t0) {
  return ((performance.now() - t0) / 1000).toFixed(1);
}

function hasCommand(cmd, versionArgs) {
  const r = spawnSync(cmd, versionArgs, { encoding: 'utf8' });
  return r.status === 0 ? `${r.stdout}${r.stderr}`.trim() : null;
}

function readManifest() {
  try {
    return JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return {};
  }
}

/**
 * Runs a long command, printing a progress line with the elapsed time every 10 seconds.
 * `progress(line)` may turn output lines into a short status (e.g. packages compiled so far).
 */
function runWithProgress(label, cmd, cmdArgs, options, progress = (line) => line.slice(0, 100)) {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, cmdArgs, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let status = '';
    let output = '';
    const onData = (buf) => {
      const text = buf.toString();
      output = (output + text).slice(-20_000);
      for (const line of text.split('\n')) {
        if (line.trim()) status = progress(line) ?? status;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setInterval(() => {
      log(`${label}: ${secondsSince(t0)} s${status ? ` (${status})` : ''}`);
    }, 10_000);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearInterval(timer);
      if (code === 0) resolvePromise(secondsSince(t0));
      else reject(new Error(`${label} failed (exit ${code}):\n${output}`));
    });
  });
}

/** Turns `go install -x` output into "N modules fetched, M packages compiled". */
function goProgress() {
  let fetched = 0;
  let compiled = 0;
  return (line) => {
    if (line.startsWith('# get ') && line.includes('200 OK')) fetched++;
    else if (line.includes('/compile -o ')) compiled++;
    else return undefined;
    return `${fetched} module files fetched, ${compiled} packages compiled`;
  };
}

async function ensureCli(manifest) {
  if (process.env.TEMPORAL_CLI_PATH) {
    const p = resolve(process.env.TEMPORAL_CLI_PATH);
    if (!existsSync(p)) throw new Error(`TEMPORAL_CLI_PATH points to ${p}, which does not exist`);
    log(`Temporal CLI: using TEMPORAL_CLI_PATH=${p}`);
    return p;
  }
  const target = join(toolsDir, 'bin', 'temporal');
  if (existsSync(target) && manifest.temporalCliVersion === TEMPORAL_CLI_VERSION) {
    log(`Temporal CLI ${TEMPORAL_CLI_VERSION}: cached at ${target}`);
    return target;
  }
  const go = hasCommand('go', ['version']);
  if (!go) {
    log(
      'Temporal CLI: Go is not installed, so the CLI cannot be built from the Go module proxy.\n' +
        '  Install Go >= 1.25 (https://go.dev/doc/install, or `apt-get install golang` on a recent Debian),\n' +
        '  or set TEMPORAL_CLI_PATH to an existing `temporal` binary. Falling back to the SDK download\n' +
        '  (needs internet access).',
    );
    return null;
  }
  log(`Temporal CLI ${TEMPORAL_CLI_VERSION}: building with ${go} (first time: a few minutes)`);
  mkdirSync(join(toolsDir, 'bin'), { recursive: true });
  const seconds = await runWithProgress(
    'go install temporal',
    'go',
    ['install', '-x', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`],
    { env: { ...process.env, CGO_ENABLED: '0', GOBIN: join(toolsDir, 'bin'), GOFLAGS: '-buildvcs=false' } },
    goProgress(),
  );
  log(`Temporal CLI built in ${seconds} s`);
  return target;
}

function writeTestServerWrapper(dir) {
  // `exec` is required: the SDK kills its child on teardown and then waits for the child's output
  // pipes to close; a JVM left behind a shell keeps them open and teardown never returns.
  // The JVM flags keep start-up well inside the SDK's fixed 5-second readiness window on 2 cores.
  const wrapper = join(dir, 'temporal-test-server');
  writeFileSync(
    wrapper,
    `#!/bin/sh
here="$(cd "$(dirname "$0")" && pwd)"
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Xss1m \\
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \\
  -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
`,
  );
  chmodSync(wrapper, 0o755);
  return wrapper;
}

async function ensureTestServer(manifest) {
  if (process.env.TEMPORAL_TEST_SERVER_PATH) {
    const p = resolve(process.env.TEMPORAL_TEST_SERVER_PATH);
    if (!existsSync(p)) throw new Error(`TEMPORAL_TEST_SERVER_PATH points to ${p}, which does not exist`);
    log(`Test server: using TEMPORAL_TEST_SERVER_PATH=${p}`);
    return p;
  }
  const dir = join(toolsDir, 'test-server');
  const libDir = join(dir, 'lib');
  const jar = `temporal-test-server-${TEST_SERVER_VERSION}.jar`;
  if (existsSync(libDir) && readdirSync(libDir).includes(jar) && manifest.testServerVersion === TEST_SERVER_VERSION) {
    log(`Test server ${TEST_SERVER_VERSION}: cached in ${dir}`);
    return writeTestServerWrapper(dir);
  }
  const java = hasCommand('java', ['-version']);
  const mvn = hasCommand('mvn', ['-v']);
  if (!java || !mvn) {
    log(
      `Test server: ${!java ? 'Java (8 or later)' : 'Maven'} is not installed, so the time-skipping server cannot be\n` +
        '  fetched from Maven Central. Install it (`apt-get install default-jre-headless maven` on Debian),\n' +
        '  or set TEMPORAL_TEST_SERVER_PATH. Falling back to the SDK download (needs internet access).',
    );
    return null;
  }
  log(`Test server ${TEST_SERVER_VERSION}: fetching io.temporal:temporal-test-server and its runtime dependencies with Maven`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tributary.tools</groupId>
  <artifactId>temporal-test-server-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEST_SERVER_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`,
  );
  // Fetch into a fresh folder and swap it in, so an interrupted run never leaves a half library.
  const staging = join(dir, 'lib.partial');
  rmSync(staging, { recursive: true, force: true });
  const seconds = await runWithProgress(
    'mvn dependency:copy-dependencies',
    'mvn',
    ['-B', '-q', '-f', join(dir, 'pom.xml'), 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`],
    {},
  );
  rmSync(libDir, { recursive: true, force: true });
  renameSync(staging, libDir);
  log(`Test server fetched in ${seconds} s`);
  return writeTestServerWrapper(dir);
}

export async function ensureTemporalTools({ cli = true, testServer = true } = {}) {
  const t0 = performance.now();
  mkdirSync(toolsDir, { recursive: true });
  const manifest = readManifest();
  const next = { ...manifest };
  if (cli) {
    if (process.env.TEMPORAL_ADDRESS && !process.env.TEMPORAL_CLI_PATH) {
      log(`Temporal CLI: not needed, TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS}`);
    } else {
      next.temporalCli = await ensureCli(manifest);
      if (next.temporalCli && !process.env.TEMPORAL_CLI_PATH) next.temporalCliVersion = TEMPORAL_CLI_VERSION;
    }
  }
  if (testServer) {
    next.testServer = await ensureTestServer(manifest);
    if (next.testServer && !process.env.TEMPORAL_TEST_SERVER_PATH) next.testServerVersion = TEST_SERVER_VERSION;
  }
  // Paths inside the project are stored relative to it, so the folder can move.
  const rel = (p) => (p && p.startsWith(root + '/') ? p.slice(root.length + 1) : p);
  writeFileSync(manifestPath, `${JSON.stringify({ ...next, temporalCli: rel(next.temporalCli), testServer: rel(next.testServer) }, null, 2)}\n`);
  log(`tools ready in ${secondsSince(t0)} s`);
  return next;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureTemporalTools({ cli: wantCli, testServer: wantTestServer }).catch((err) => {
    process.stderr.write(`[tools] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
