/**
 * XML parser benchmark: Cobertura, JaCoCo and Clover throughput on ~60 MB inputs, our Cobertura
 * parser against the npm peer `cobertura-parse` on the same bytes, and the peak RSS of our parser
 * streaming the Cobertura input in a child process.
 *
 *   npx tsx bench/parsers-xml.bench.ts [--mb 60] [--runs 5]
 *
 * Throughput is input MB (10^6 bytes) per second, best of `runs`, of wall time and of process CPU
 * time (user + system, all threads, so V8's GC helpers count too); on a shared machine the CPU
 * figure is the steadier one. The parser itself is single-threaded. "sink" counts the parser alone
 * (a sink that only counts calls); "builder" parses into the real session builder
 * (`createSessionBuilder`), i.e. the whole way to an in-memory report.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { createSessionBuilder } from '../src/coverage/builder';
import { DEFAULT_LIMITS } from '../src/coverage/limits';
import { createCloverParser } from '../src/coverage/parsers/clover';
import { createCoberturaParser } from '../src/coverage/parsers/cobertura';
import { createJacocoParser } from '../src/coverage/parsers/jacoco';
import type { CoverageSink, ParserFactory } from '../src/coverage/types';
import { buildClover, buildCobertura, buildJacoco } from './xml-inputs';

const CHUNK = 64 * 1024;
const FACTORIES: Record<string, ParserFactory> = {
  cobertura: createCoberturaParser,
  jacoco: createJacocoParser,
  clover: createCloverParser,
};

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function countingSink(): { sink: CoverageSink; count: () => number } {
  let lines = 0;
  const file = {
    line(): void {
      lines++;
    },
  };
  return { sink: { file: () => file, sourceBases: () => undefined }, count: () => lines };
}

function feed(factory: ParserFactory, sink: CoverageSink, input: Buffer): void {
  const parser = factory(sink, { fileName: 'bench.xml', limits: DEFAULT_LIMITS });
  for (let i = 0; i < input.length; i += CHUNK) parser.write(input.subarray(i, i + CHUNK));
  parser.end();
}

/** Wall and CPU (user + system) seconds of one call. */
interface Timing {
  wall: number;
  cpu: number;
}

function time(fn: () => void): Timing {
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** The fastest of `runs` calls, wall and CPU time taken separately. */
function best(runs: number, fn: () => void): Timing {
  const fastest = { wall: Infinity, cpu: Infinity };
  for (let r = 0; r < runs; r++) {
    const t = time(fn);
    fastest.wall = Math.min(fastest.wall, t.wall);
    fastest.cpu = Math.min(fastest.cpu, t.cpu);
  }
  return fastest;
}

interface Row {
  case: string;
  mb: number;
  t: Timing;
  note: string;
}

/**
 * Child mode for the peer: cobertura-parse (xml2js underneath) builds a DOM of the whole document,
 * so it runs in its own process with a large heap, keeping its garbage out of our timings. Its
 * callback is called synchronously. The peer needs a string; decoding the bytes is part of its cost.
 */
function peerChild(file: string, runs: number): void {
  // require(): the peer ships no type declarations.
  const peer = require('cobertura-parse') as {
    parseContent(xml: string, cb: (err: unknown, result: unknown[]) => void): void;
  };
  const input = readFileSync(file);
  let classes = -1;
  const fastest = best(runs, () => {
    peer.parseContent(input.toString('utf8'), (err, result) => {
      if (err) throw err;
      classes = result.length;
    });
  });
  process.stdout.write(JSON.stringify({ t: fastest, classes }));
}

function runPeer(file: string, runs: number): { t: Timing; classes: number } {
  const out = execFileSync(
    process.execPath,
    ['--max-old-space-size=12288', '--import', 'tsx', __filename, '--peer', file, String(runs)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out) as { t: Timing; classes: number };
}

/**
 * Transpiles bench/xml-rss-child.ts and the sources it imports into `dir` as CommonJS, so the RSS
 * child runs on plain node (tsx alone adds ~35 MB of RSS). Returns the child's path.
 */
function transpileChild(dir: string): string {
  const root = path.resolve(__dirname, '..');
  const pending = [path.join(__dirname, 'xml-rss-child.ts')];
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
    for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), m[1]);
      pending.push(existsSync(`${target}.ts`) ? `${target}.ts` : path.join(target, 'index.ts'));
    }
  }
  return path.join(dir, 'bench', 'xml-rss-child.js');
}

function peakRss(child: string, format: string, mode: string, file: string): { maxRss: number; files: number } {
  const out = execFileSync(process.execPath, [child, format, mode, file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_PATH: path.resolve(__dirname, '../node_modules') },
  });
  return JSON.parse(out) as { maxRss: number; files: number };
}

function main(): void {
  const targetMb = argValue('--mb', 60);
  const runs = argValue('--runs', 5);
  const target = targetMb * 1e6;
  // One input at a time, so earlier inputs do not weigh on later timings.
  const builders: [string, (bytes: number) => Buffer][] = [
    ['cobertura', buildCobertura],
    ['jacoco', buildJacoco],
    ['clover', buildClover],
  ];
  const rows: Row[] = [];
  const rssRows: string[] = [];
  let peerTime: Timing = { wall: NaN, cpu: NaN };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xml-bench-'));
  try {
    const child = transpileChild(path.join(dir, 'js'));
    const baseline = peakRss(child, 'none', 'none', '-');
    rssRows.push(`| node baseline (modules loaded, no parsing) | - | ${(baseline.maxRss / 1e6).toFixed(0)} MB | - | - |`);

    for (const [format, build] of builders) {
      const input = build(target);
      const mb = input.length / 1e6;
      const factory = FACTORIES[format];
      const counter = countingSink();
      feed(factory, counter.sink, input); // warm-up, and the line count for the note
      const lines = counter.count();
      const sinkTime = best(runs, () => feed(factory, countingSink().sink, input));
      rows.push({ case: `${format} (ours, sink)`, mb, t: sinkTime, note: `${lines} line records` });
      const builderTime = best(runs, () => {
        const builder = createSessionBuilder({ sessionId: 0, session: { format } });
        feed(factory, builder.sink, input);
        builder.finish();
      });
      rows.push({ case: `${format} (ours, builder)`, mb, t: builderTime, note: 'into the report model' });

      const file = path.join(dir, `${format}.xml`);
      writeFileSync(file, input);
      if (format === 'cobertura') {
        const peer = runPeer(file, 2);
        peerTime = peer.t;
        rows.push({
          case: 'cobertura (cobertura-parse 1.0.5)',
          mb,
          t: peer.t,
          note: `same bytes; xml2js DOM, ${peer.classes} classes, best of 2`,
        });
      }
      for (const mode of ['sink', 'builder']) {
        const r = peakRss(child, format, mode, file);
        rssRows.push(
          `| ${format} (${mode}) | ${mb.toFixed(1)} MB | ${(r.maxRss / 1e6).toFixed(0)} MB | ${(r.maxRss / input.length).toFixed(
            2,
          )}x | ${((r.maxRss - baseline.maxRss) / 1e6).toFixed(0)} MB |`,
        );
      }
      rmSync(file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const lines = [
    `node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores; chunks of ${CHUNK / 1024} KiB; best of ${runs}; ` +
      `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    '',
    '| case | input | wall | MB/s (wall) | CPU | MB/s (CPU) | vs peer (CPU) | note |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const vsPeer = r.case.startsWith('cobertura (ours')
        ? `${(peerTime.cpu / r.t.cpu).toFixed(1)}x`
        : r.case.includes('cobertura-parse')
          ? '1.0x'
          : '-';
      return `| ${r.case} | ${r.mb.toFixed(1)} MB | ${(r.t.wall * 1000).toFixed(0)} ms | ${(r.mb / r.t.wall).toFixed(1)} | ${(
        r.t.cpu * 1000
      ).toFixed(0)} ms | ${(r.mb / r.t.cpu).toFixed(1)} | ${vsPeer} | ${r.note} |`;
    }),
    '',
    'Peak RSS of a child process streaming the file from disk in 64 KiB reads (VmHWM):',
    '',
    '| case | input | peak RSS | RSS / input | above baseline |',
    '|---|---|---|---|---|',
    ...rssRows,
  ];
  console.log(lines.join('\n'));
}

const peerAt = process.argv.indexOf('--peer');
if (peerAt >= 0) peerChild(process.argv[peerAt + 1], Number(process.argv[peerAt + 2]));
else main();
