/**
 * Reports of many small files: the session builder's per-file cost (allocations, objects, GC).
 *
 *   npx tsx bench/many-files.bench.ts [--files 200000] [--lines 1] [--runs 5]
 *
 * "builder" feeds the session builder directly (one `file()` and `--lines` `line()` calls per
 * file, then `finish()`); "lcov + builder" parses an LCOV text of the same files (one SF record
 * each) into the builder, which is what `parseReport` does. Best of `--runs` after a warm-up, by
 * wall and by CPU time (user + system of the process, GC threads included). The last column is
 * the JS heap plus typed-array memory still held by the finished report after a full GC, per
 * file, when node runs with --expose-gc (otherwise "n/a").
 */
import os from 'node:os';
import { createSessionBuilder } from '../src/coverage/builder';
import { resolveLimits } from '../src/coverage/limits';
import { createLcovParser } from '../src/coverage/parsers/lcov';
import type { CoverageReport } from '../src/coverage/report';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const limits = resolveLimits();
const CHUNK = 64 * 1024;

function direct(files: number, lines: number): CoverageReport {
  const b = createSessionBuilder({ sessionId: 0, session: { format: 'lcov' } });
  for (let f = 0; f < files; f++) {
    const sink = b.sink.file(`src/pkg${f % 97}/file${f}.ts`)!;
    for (let l = 1; l <= lines; l++) sink.line(l, (f + l) % 3);
  }
  return b.finish();
}

function lcovText(files: number, lines: number): Buffer {
  const parts: string[] = [];
  for (let f = 0; f < files; f++) {
    let rec = `SF:src/pkg${f % 97}/file${f}.ts\n`;
    for (let l = 1; l <= lines; l++) rec += `DA:${l},${(f + l) % 3}\n`;
    parts.push(`${rec}end_of_record\n`);
  }
  return Buffer.from(parts.join(''), 'utf8');
}

function viaLcov(input: Buffer): CoverageReport {
  const b = createSessionBuilder({ sessionId: 0, session: { format: 'lcov' } });
  const parser = createLcovParser(b.sink, { fileName: 'bench', limits });
  for (let i = 0; i < input.length; i += CHUNK) parser.write(input.subarray(i, i + CHUNK));
  parser.end();
  return b.finish();
}

interface Row {
  name: string;
  files: number;
  wallMs: number;
  cpuMs: number;
  retainedPerFile: number | null;
}

const gc = (globalThis as { gc?: () => void }).gc;

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function measure(name: string, runs: number, fn: () => CoverageReport): Row {
  let files = fn().fileCount; // warm-up
  let wallMs = Infinity;
  let cpuMs = Infinity;
  for (let r = 0; r < runs; r++) {
    gc?.();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    files = fn().fileCount;
    wallMs = Math.min(wallMs, Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpuMs = Math.min(cpuMs, (c.user + c.system) / 1000);
  }
  let retainedPerFile: number | null = null;
  if (gc !== undefined) {
    gc();
    const before = used();
    const report = fn();
    gc();
    retainedPerFile = (used() - before) / report.fileCount;
  }
  process.stderr.write(`  ${name}: ${wallMs.toFixed(0)} ms\n`);
  return { name, files, wallMs, cpuMs, retainedPerFile };
}

function main(): void {
  const files = arg('files', 200_000);
  const lines = arg('lines', 1);
  const runs = arg('runs', 5);
  const input = lcovText(files, lines);
  const rows = [
    measure('builder', runs, () => direct(files, lines)),
    measure('lcov + builder', runs, () => viaLcov(input)),
  ];
  console.log(
    `${files} files x ${lines} line(s); LCOV text ${(input.length / 1e6).toFixed(1)} MB; best of ${runs}; node ${process.version}; ` +
      `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores`,
  );
  console.log('| case | files | best wall ms | best CPU ms | us per file (CPU) | retained bytes per file |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const kept = r.retainedPerFile === null ? 'n/a' : r.retainedPerFile.toFixed(0);
    console.log(
      `| ${r.name} | ${r.files} | ${r.wallMs.toFixed(0)} | ${r.cpuMs.toFixed(0)} | ${((r.cpuMs * 1000) / r.files).toFixed(2)} | ${kept} |`,
    );
  }
}

main();
