/**
 * Gateway memory under large uploads: the gateway runs as a process of its own (as
 * `node dist/api/gateway.js` would, here through tsx) on a real Temporal dev server, PGlite and a
 * blob folder, on PostgreSQL (a fresh database on BENCH_DATABASE_URL or TEST_DATABASE_URL; a
 * standalone gateway needs one, and PGlite's WASM heap alone is some 800 MiB of RSS) or, without
 * either, PGlite; N clients upload M MiB each at once, and the gateway's RSS is sampled from
 * /proc/<pid>/status every 20 ms, with the kernel's high-water mark (VmHWM) as the peak.
 * No worker runs: uploads are registered and their workflows signalled, nothing is parsed, so
 * the figure is the gateway's alone.
 *
 * Run: npx tsx bench/upload-rss.bench.ts [--uploads 8] [--mib 50] [--root DIR]
 *   --root runs the gateway of another source tree (with node_modules beside src), for a
 *   before/after comparison; the default is this checkout.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateToken } from '../src/api/tokens';
import { freePort } from '../test/support/ports';
import { createDevServerEnv } from '../test/support/temporal';
import { databasesUnderTest } from '../test/support/database';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const UPLOADS = Number(arg('uploads', '8'));
const MIB = Number(arg('mib', '50'));
const ROOT = path.resolve(arg('root', path.resolve(__dirname, '..')));
if (!Number.isInteger(UPLOADS) || UPLOADS < 1 || UPLOADS > 64) throw new Error('--uploads must be 1..64');
if (!Number.isFinite(MIB) || MIB <= 0 || MIB > 256) throw new Error('--mib must be in (0, 256]');

async function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function call(base: string, method: string, p: string, token: string, json?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${p}`, { method, headers: { authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(json === undefined ? undefined : JSON.stringify(json));
  });
}

/** One upload of `bytes` LCOV-looking bytes, written as the socket takes them (the client holds 64 KiB). */
function upload(base: string, p: string, token: string, bytes: number): Promise<number> {
  const line = Buffer.from('DA:1,1\n');
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i += line.length) line.copy(chunk, i);
  return new Promise((resolve, reject) => {
    const req = request(`${base}${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'content-length': bytes } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

async function main(): Promise<void> {
  const env = await createDevServerEnv();
  const serverUrl = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (serverUrl) process.env.TEST_DATABASE_URL = serverUrl;
  const targets = databasesUnderTest();
  const database = await targets[targets.length - 1]!.create();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-rss-bench-'));
  const port = await freePort();
  const adminToken = generateToken();
  const gateway = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/api/gateway.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.connection.options.address,
      TRIBUTARY_DATA_DIR: dataDir,
      TRIBUTARY_API_PORT: String(port),
      TRIBUTARY_ADMIN_TOKEN: adminToken,
      TRIBUTARY_RATE_LIMIT: '100000',
      DATABASE_URL: database.url ?? '',
      TRIBUTARY_BLOB_STORE: 'fs',
    },
  });
  const pid = gateway.pid!;
  const base = `http://127.0.0.1:${port}`;
  try {
    await new Promise<void>((resolve, reject) => {
      gateway.stdout!.on('data', (d: Buffer) => (d.toString().includes('Tributary gateway on') ? resolve() : undefined));
      gateway.once('exit', (code) => reject(new Error(`the gateway exited ${code}`)));
    });
    const repo = await call(base, 'POST', '/api/v1/repos', adminToken, { slug: 'bench/rss' });
    if (repo.status !== 201) throw new Error(`repo create: ${repo.status} ${repo.body}`);
    const token = (JSON.parse(repo.body) as { uploadToken: string }).uploadToken;
    // Warm the route once (JIT, pools), so the idle figure is the gateway at rest, not at birth.
    await upload(base, '/api/v1/repos/bench/rss/commits/' + 'a'.repeat(40) + '/uploads', token, 1024);
    const idle = await statusKiB(pid, 'VmRSS');

    let sampledPeak = idle;
    const sampler = setInterval(() => {
      statusKiB(pid, 'VmRSS').then((kib) => (sampledPeak = Math.max(sampledPeak, kib)), () => undefined);
    }, 20);
    const started = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: UPLOADS }, (_, i) => upload(base, `/api/v1/repos/bench/rss/commits/${i.toString(16).padStart(40, 'b')}/uploads`, token, MIB * 1024 * 1024)),
    );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const hwm = await statusKiB(pid, 'VmHWM');
    const mib = (kib: number) => (kib / 1024).toFixed(0);
    console.log(`gateway RSS under ${UPLOADS} concurrent uploads of ${MIB} MiB; gateway from ${ROOT}; ${database.kind}; node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}`);
    console.log('| uploads | MiB each | answers | idle RSS MiB | peak RSS MiB (sampled) | peak RSS MiB (VmHWM) | seconds | MiB/s in |');
    console.log('|---:|---:|---|---:|---:|---:|---:|---:|');
    const answers = [...new Set(statuses)].map((s) => `${statuses.filter((x) => x === s).length}x${s}`).join(' ');
    console.log(`| ${UPLOADS} | ${MIB} | ${answers} | ${mib(idle)} | ${mib(sampledPeak)} | ${mib(hwm)} | ${seconds.toFixed(1)} | ${((UPLOADS * MIB) / seconds).toFixed(0)} |`);
  } finally {
    gateway.kill('SIGTERM');
    await new Promise((r) => gateway.once('exit', r));
    await env.teardown();
    await database.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
