/**
 * Throughput of the line-based parsers against the npm LCOV parsers, on the same ~60 MB inputs,
 * in one run; then peak RSS of our LCOV parser in a child process that streams the input from
 * disk, and the CPU time of whole processes (start-up included) that parse the LCOV file:
 * `tributary parse FILE --summary` as `bin/tributary.js` runs it and as compiled JavaScript, and
 * `lcov-parse` reading the same file. `--process-only` runs just that last table.
 *
 *   npx tsx bench/parsers-text.bench.ts [--mb 60] [--runs 5] [--process-only]
 *
 * Every parser gets the whole input once per run (ours in 64 KiB chunks, as a stream delivers
 * them; lcov-parse needs a string, so its time includes decoding the bytes); the best run counts,
 * by wall time and by CPU time (the latter is steadier when other work shares the machine).
 * "ours (sink)" feeds a sink that only counts lines, which measures the parser itself;
 * "ours + builder" feeds the real session builder up to its finished report (`finish()`), which
 * is what `parseReport` does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSessionBuilder } from '../src/coverage/builder';
import { resolveLimits } from '../src/coverage/limits';
import { createGoParser } from '../src/coverage/parsers/go';
import { createLcovParser } from '../src/coverage/parsers/lcov';
import type { CoverageSink, FileSink, LineValue, ParserFactory } from '../src/coverage/types';
import { makeGoInput, makeLcovInput } from './make-text-inputs';
import { lcovParser as friedemannsommerLcov } from '@friedemannsommer/lcov-parser/sync';

// lcov-parse ships no type declarations; this is the shape of its synchronous `source` export.
const lcovParse = require('lcov-parse') as { source(text: string, cb: (err: unknown, data?: unknown[]) => void): void };

const CHUNK = 64 * 1024;
const limits = resolveLimits();

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Counts what it receives, so the work cannot be optimised away. */
class CountingSink implements CoverageSink {
  files = 0;
  lines = 0;
  checksum = 0;
  file(): FileSink {
    this.files++;
    return {
      line: (n: number, value: LineValue) => {
        this.lines++;
        this.checksum += n + (typeof value === 'number' ? value : 1);
      },
    };
  }
}

function runOurs(factory: ParserFactory, input: Buffer, sink: CoverageSink): void {
  const parser = factory(sink, { fileName: 'bench', limits });
  for (let i = 0; i < input.length; i += CHUNK) parser.write(input.subarray(i, i + CHUNK));
  parser.end();
}

/** Parser into the session builder, up to the finished report (what `parseReport` does). */
function runBuilder(factory: ParserFactory, input: Buffer, format: string): void {
  const builder = createSessionBuilder({ sessionId: 0, session: { format } });
  runOurs(factory, input, builder.sink);
  builder.finish();
}

/**
 * Best wall time and best CPU time (user + system of the whole process, so GC threads count) over
 * `runs` runs after a warm-up. On a shared machine CPU time is the steadier "one core" figure.
 */
function best(runs: number, fn: () => void): { wallMs: number; cpuMs: number } {
  fn(); // warm-up
  let wallMs = Infinity;
  let cpuMs = Infinity;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    wallMs = Math.min(wallMs, wall);
    cpuMs = Math.min(cpuMs, (c.user + c.system) / 1000);
  }
  return { wallMs, cpuMs };
}

interface Row {
  input: string;
  parser: string;
  wallMs: number;
  cpuMs: number;
  wallMbps: number;
  cpuMbps: number;
}

function measure(rows: Row[], input: string, parser: string, bytes: number, runs: number, fn: () => void): void {
  const { wallMs, cpuMs } = best(runs, fn);
  const mb = bytes / 1e6;
  rows.push({ input, parser, wallMs, cpuMs, wallMbps: mb / (wallMs / 1000), cpuMbps: mb / (cpuMs / 1000) });
  process.stderr.write(`  ${input} ${parser}: ${wallMs.toFixed(0)} ms\n`);
}

/** Child mode: stream the file through our LCOV parser, print peak RSS (KiB) as JSON. */
function childRss(file: string, withBuilder: boolean): void {
  const builder = withBuilder ? createSessionBuilder({ sessionId: 0, session: { format: 'lcov', file } }) : undefined;
  const sink = builder?.sink ?? new CountingSink();
  const parser = createLcovParser(sink, { fileName: file, limits });
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  let total = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, CHUNK, null);
    if (n === 0) break;
    total += n;
    parser.write(buf.subarray(0, n));
  }
  closeSync(fd);
  parser.end();
  // The report exists only once finish() has grouped the lines by file: measure up to there.
  builder?.finish();
  process.stdout.write(JSON.stringify({ bytes: total, ...peakRss() }));
}

/** Peak RSS of a child that does nothing but start up (the runtime's own share). */
function childBaseline(): void {
  process.stdout.write(JSON.stringify({ bytes: 0, ...peakRss() }));
}

/**
 * maxRSS from getrusage, and VmHWM from /proc as a cross-check: Linux carries ru_maxrss over
 * fork+exec, so a child's maxRSS is at least its parent's RSS at spawn time. The parent spawns the
 * RSS children before it allocates any input for that reason.
 */
function peakRss(): { maxRssKiB: number; hwmKiB: number | null } {
  let hwmKiB: number | null = null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) hwmKiB = Number(m[1]);
  } catch {
    // not Linux
  }
  return { maxRssKiB: process.resourceUsage().maxRSS, hwmKiB };
}

/** Child mode: write the LCOV input to a file, so the parent never holds it before the RSS runs. */
function childWriteInput(file: string, mb: number): void {
  writeFileSync(file, makeLcovInput(mb * 1e6));
}

interface RssResult {
  bytes: number;
  maxRssKiB: number;
  hwmKiB: number | null;
}

function spawnChild(args: string[]): RssResult {
  const r = spawnSync(process.execPath, [...process.execArgv, __filename, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout || '{}') as RssResult;
}

/**
 * Transpiles bench/xml-rss-child.ts and the sources it imports into `dir` (as the XML benchmark
 * does), so the same LCOV measurement can run on plain node: production runs compiled JavaScript,
 * and tsx alone adds ~30 MiB of RSS. Returns the child's path.
 */
function transpileChild(dir: string): string {
  return transpileTree(path.join(__dirname, 'xml-rss-child.ts'), dir);
}

/** Transpiles `entry` and the sources it imports (relative imports) into `dir`; returns its path there. */
function transpileTree(entry: string, dir: string): string {
  // Loaded here, not at the top: the compiler module costs ~65 MiB of RSS, which the tsx RSS
  // children (this file run with --child-rss) must not pay.
  const ts = require('typescript') as typeof import('typescript');
  const root = path.resolve(__dirname, '..');
  const pending = [entry];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    const out = path.join(dir, path.relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, js);
    // Static imports, and the CLI's lazily required commands (`require('./…')`, `import('./….js')`).
    for (const m of source.matchAll(/(?:from |require\(|import\()'(\.{1,2}\/[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, ''));
      pending.push(existsSync(`${target}.ts`) ? `${target}.ts` : path.join(target, 'index.ts'));
    }
  }
  return path.join(dir, path.relative(root, entry)).replace(/\.ts$/, '.js');
}

/**
 * CPU time (user + system, every thread) and peak RSS of one whole child process, from the
 * child's own rusage: a preloaded module writes `process.resourceUsage()` to a file as the
 * process exits, after start-up, parsing and output.
 */
function processCost(preload: string, args: string[], env: NodeJS.ProcessEnv): { cpuMs: number; wallMs: number; maxRssKiB: number } {
  const out = path.join(path.dirname(preload), 'rusage.json');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--require', preload, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, BENCH_RUSAGE_FILE: out },
    maxBuffer: 1 << 26,
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed (${String(r.status)}): ${r.stderr}`);
  const u = JSON.parse(readFileSync(out, 'utf8')) as { userCPUTime: number; systemCPUTime: number; maxRSS: number };
  return { cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, wallMs, maxRssKiB: u.maxRSS };
}

interface ProcessRow {
  label: string;
  cpuMs: number;
  wallMs: number;
  maxRssKiB: number;
}

/** Best of `runs` whole processes for each command, run in turn so load changes hit all alike. */
function wholeProcesses(file: string, dir: string, runs: number): ProcessRow[] {
  const root = path.resolve(__dirname, '..');
  const preload = path.join(dir, 'rusage-preload.js');
  writeFileSync(
    preload,
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.BENCH_RUSAGE_FILE, JSON.stringify(process.resourceUsage())));\n",
  );
  const lcovParseChild = path.join(dir, 'lcov-parse-child.js');
  writeFileSync(
    lcovParseChild,
    [
      "const lcovParse = require('lcov-parse');",
      "const text = require('node:fs').readFileSync(process.argv[2], 'utf8');",
      'lcovParse.source(text, (err, data) => {',
      '  if (err) throw new Error(String(err));',
      "  process.stdout.write(JSON.stringify({ records: data.length }) + '\\n');",
      '});',
      '',
    ].join('\n'),
  );
  const compiled = transpileTree(path.join(root, 'src', 'cli', 'main.ts'), path.join(dir, 'cli-js'));
  // The CLI reads its version from package.json two folders above src/cli, as dist/cli does.
  copyFileSync(path.join(root, 'package.json'), path.join(dir, 'cli-js', 'package.json'));
  const nodePath = { ...process.env, NODE_PATH: path.join(root, 'node_modules') };
  const bin = path.join(root, 'bin', 'tributary.js');
  // What the command costs before it parses anything: loading, option parsing, output.
  const small = path.join(dir, 'small.lcov');
  writeFileSync(small, 'SF:a.js\nDA:1,1\nend_of_record\n');
  const binLabel = existsSync(path.join(root, 'dist', 'cli', 'main.js')) ? 'compiled dist/' : 'tsx, no dist/';
  const commands: Array<[string, string[]]> = [
    [`tributary parse --summary (bin/tributary.js: ${binLabel})`, [bin, 'parse', file, '--summary']],
    ['tributary parse --summary (compiled JavaScript)', [compiled, 'parse', file, '--summary']],
    ['lcov-parse (read file, parse)', [lcovParseChild, file]],
    ['start-up: tributary parse --summary (compiled JavaScript) of a 3-line file', [compiled, 'parse', small, '--summary']],
    ['runtime baseline: node, nothing loaded', ['-e', '0']],
  ];
  const bestOf = commands.map(([label]) => ({ label, cpuMs: Infinity, wallMs: Infinity, maxRssKiB: 0 }));
  for (let r = 0; r < runs; r++) {
    commands.forEach(([, args], k) => {
      const c = processCost(preload, args, nodePath);
      const b = bestOf[k]!;
      if (c.cpuMs < b.cpuMs) {
        b.cpuMs = c.cpuMs;
        b.maxRssKiB = c.maxRssKiB;
      }
      b.wallMs = Math.min(b.wallMs, c.wallMs);
    });
  }
  return bestOf;
}

function printProcessRows(rows: ProcessRow[], bytes: number, runs: number): void {
  const mb = bytes / 1e6;
  const peer = rows.find((r) => r.label.startsWith('lcov-parse'))!;
  console.log('');
  console.log(`Whole processes on the ${mb.toFixed(1)} MB LCOV file: CPU time from the child's rusage (user + system), best of ${runs}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('| process | best CPU ms | MB/s (CPU) | x lcov-parse (CPU) | best wall ms | maxRSS MiB |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const parses = !r.label.startsWith('runtime') && !r.label.startsWith('start-up');
    const mbps = parses ? (mb / (r.cpuMs / 1000)).toFixed(0) : '';
    const x = parses ? `${(peer.cpuMs / r.cpuMs).toFixed(1)}x` : '';
    console.log(`| ${r.label} | ${r.cpuMs.toFixed(0)} | ${mbps} | ${x} | ${r.wallMs.toFixed(0)} | ${(r.maxRssKiB / 1024).toFixed(0)} |`);
  }
}

/** Peak RSS (VmHWM) of the plain-node child streaming `file`; format 'none' parses nothing. */
function plainNodeRss(child: string, format: string, mode: string, file: string): RssResult {
  const out = execFileSync(process.execPath, [child, format, mode, file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_PATH: path.resolve(__dirname, '../node_modules') },
  });
  const kib = (JSON.parse(out) as { maxRss: number }).maxRss / 1024;
  return { bytes: 0, maxRssKiB: kib, hwmKiB: kib };
}

function main(): void {
  const mb = arg('mb', 60);
  const runs = arg('runs', 5);

  // Peak RSS first, while this process is still small (see peakRss).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-bench-'));
  const rssRows: [string, RssResult][] = [];
  let processRows: ProcessRow[];
  let inputBytes: number;
  try {
    const file = path.join(dir, 'bench.lcov');
    spawnChild(['--child-write', file, String(mb)]);
    inputBytes = statSync(file).size;
    processRows = wholeProcesses(file, dir, Math.min(runs, 3));
    if (process.argv.includes('--process-only')) {
      printProcessRows(processRows, inputBytes, Math.min(runs, 3));
      return;
    }
    rssRows.push(['runtime baseline (no parsing)', spawnChild(['--child-baseline'])]);
    rssRows.push(['ours (sink)', spawnChild(['--child-rss', file])]);
    rssRows.push(['ours + builder', spawnChild(['--child-rss', file, '--builder'])]);
    const child = transpileChild(path.join(dir, 'js'));
    rssRows.push(['plain node: runtime baseline (no parsing)', plainNodeRss(child, 'none', 'none', '-')]);
    rssRows.push(['plain node: ours (sink)', plainNodeRss(child, 'lcov', 'sink', file)]);
    rssRows.push(['plain node: ours + builder', plainNodeRss(child, 'lcov', 'builder', file)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const lcov = makeLcovInput(mb * 1e6);
  const go = makeGoInput(mb * 1e6);
  const rows: Row[] = [];

  measure(rows, 'LCOV', 'ours (sink)', lcov.length, runs, () => runOurs(createLcovParser, lcov, new CountingSink()));
  measure(rows, 'LCOV', 'ours + builder', lcov.length, runs, () =>
    runBuilder(createLcovParser, lcov, 'lcov'),
  );
  measure(rows, 'LCOV', 'lcov-parse', lcov.length, runs, () =>
    lcovParse.source(lcov.toString('utf8'), (err) => {
      if (err) throw new Error(String(err));
    }),
  );
  measure(rows, 'LCOV', '@friedemannsommer/lcov-parser', lcov.length, runs, () => {
    friedemannsommerLcov({ from: lcov });
  });
  measure(rows, 'Go', 'ours (sink)', go.length, runs, () => runOurs(createGoParser, go, new CountingSink()));
  measure(rows, 'Go', 'ours + builder', go.length, runs, () =>
    runBuilder(createGoParser, go, 'go'),
  );

  // Same input for everyone: the number of SF records each parser found.
  const counted = new CountingSink();
  runOurs(createLcovParser, lcov, counted);
  let lcovParseRecords = 0;
  lcovParse.source(lcov.toString('utf8'), (_err, data) => {
    lcovParseRecords = data?.length ?? 0;
  });
  const friedemannsommerRecords = friedemannsommerLcov({ from: lcov }).length;
  console.log(`records found: ours ${counted.files}, lcov-parse ${lcovParseRecords}, @friedemannsommer/lcov-parser ${friedemannsommerRecords}`);

  const peers = rows.filter((r) => r.input === 'LCOV' && !r.parser.startsWith('ours'));
  const fastestWall = Math.max(...peers.map((r) => r.wallMbps));
  const fastestCpu = Math.max(...peers.map((r) => r.cpuMbps));
  console.log(`inputs: LCOV ${(lcov.length / 1e6).toFixed(1)} MB, Go ${(go.length / 1e6).toFixed(1)} MB; best of ${runs} runs; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
  console.log('| input | parser | best wall ms | MB/s (wall) | x fastest peer (wall) | best CPU ms | MB/s (CPU) | x fastest peer (CPU) |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const lcovRow = r.input === 'LCOV';
    const xw = lcovRow ? `${(r.wallMbps / fastestWall).toFixed(1)}x` : '';
    const xc = lcovRow ? `${(r.cpuMbps / fastestCpu).toFixed(1)}x` : '';
    console.log(
      `| ${r.input} | ${r.parser} | ${r.wallMs.toFixed(0)} | ${r.wallMbps.toFixed(0)} | ${xw} | ${r.cpuMs.toFixed(0)} | ${r.cpuMbps.toFixed(0)} | ${xc} |`,
    );
  }

  const inputMiB = inputBytes / 1048576;
  console.log('');
  console.log(`LCOV peak RSS: child processes streaming the ${inputMiB.toFixed(1)} MiB input from disk in 64 KiB reads`);
  console.log('| process | maxRSS MiB | x input | VmHWM MiB | x input |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [label, r] of rssRows) {
    const mib = r.maxRssKiB / 1024;
    const hwm = r.hwmKiB === null ? null : r.hwmKiB / 1024;
    const hwmCells = hwm === null ? '| n/a | n/a' : `| ${hwm.toFixed(0)} | ${(hwm / inputMiB).toFixed(2)}`;
    console.log(`| ${label} | ${mib.toFixed(0)} | ${(mib / inputMiB).toFixed(2)} ${hwmCells} |`);
  }
  printProcessRows(processRows, inputBytes, Math.min(runs, 3));
}

if (process.argv.includes('--child-rss')) {
  const i = process.argv.indexOf('--child-rss');
  childRss(process.argv[i + 1]!, process.argv.includes('--builder'));
} else if (process.argv.includes('--child-write')) {
  const i = process.argv.indexOf('--child-write');
  childWriteInput(process.argv[i + 1]!, Number(process.argv[i + 2]));
} else if (process.argv.includes('--child-baseline')) {
  childBaseline();
} else {
  main();
}
