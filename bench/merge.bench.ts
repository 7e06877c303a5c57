/**
 * Merge benchmark: 50 intermediate reports (one upload each) of a 200,000-line repository
 * (2,000 files x 100 lines) are merged into one commit report and serialized.
 * Target: <= 2 s and <= 1 GiB peak RSS.
 *
 * Run: npx tsx bench/merge.bench.ts [--sessions 50] [--files 2000] [--lines 100] [--runs 3]
 *
 * The parent builds the intermediates through the session builder (as parsers would), stores
 * them gzipped in a temporary directory, then runs each measurement in a fresh child process so
 * peak RSS (process.resourceUsage().maxRSS) covers exactly one run. Two ways are measured:
 *  - in memory: read all 50 into CoverageReports, mergeReports, serializeReport;
 *  - streaming: mergeSerializedReports over the 50 stored byte arrays, which decodes, merges,
 *    totals and writes one path at a time (what a commit-merge worker does with stored uploads).
 * Values are seeded-random but realistic: mostly hit counts, some misses, branch lines with
 * missing-branch ids, method lines and a few skipped lines, varying per session.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { crc32, gzipSync } from 'node:zlib';
import { createSessionBuilder } from '../src/coverage/builder';
import { mergeReports } from '../src/coverage/merge';
import type { CoverageReport } from '../src/coverage/report';
import { mergeSerializedReports, readReport, serializeReport } from '../src/coverage/report-format';
import { reportTotals } from '../src/coverage/totals';
import { seededLines } from './support/seeded-lines';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const SESSIONS = arg('sessions', 50);
const FILES = arg('files', 2000);
const LINES = arg('lines', 100);
const RUNS = arg('runs', 3);

function buildIntermediate(sessionId: number): CoverageReport {
  const b = createSessionBuilder({ sessionId, session: { format: 'lcov', file: `upload-${sessionId}.info` } });
  seededLines(b.sink, sessionId, FILES, LINES);
  return b.finish();
}

function fmt(n: number): string {
  return n.toFixed(0).padStart(7);
}

interface Step {
  wallMs: number;
  cpuMs: number;
}

interface ChildResult {
  load: Step;
  merge: Step;
  serialize: Step;
  gzip: Step;
  serializedBytes: number;
  crc: number;
  gzipBytes: number;
  maxRssMiB: number;
  lines: number;
  coverage: string;
}

/** Runs fn, measuring wall time and this process's CPU time (user + system). */
function timed<T>(fn: () => T): [T, Step] {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return [value, { wallMs, cpuMs: (c.user + c.system) / 1000 }];
}

function child(dir: string): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.trbr.gz')).sort();
  const [reports, load] = timed(() => files.map((f) => readReport(readFileSync(join(dir, f)))));
  const [merged, merge] = timed(() => mergeReports(reports));
  const [bytes, serialize] = timed(() => serializeReport(merged));
  const [gz, gzip] = timed(() => gzipSync(bytes, { level: 6 }));
  const totals = reportTotals(merged);
  const result: ChildResult = {
    load,
    merge,
    serialize,
    gzip,
    serializedBytes: bytes.length,
    crc: crc32(bytes),
    gzipBytes: gz.length,
    // maxRSS is in KiB.
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    lines: totals.lines,
    coverage: totals.coverage,
  };
  process.stdout.write(JSON.stringify(result));
}

interface StreamResult {
  readMs: Step;
  mergeMs: Step;
  gzip: Step;
  serializedBytes: number;
  crc: number;
  maxRssMiB: number;
  coverage: string;
}

function childStreaming(dir: string): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.trbr.gz')).sort();
  const [inputs, readMs] = timed(() => files.map((f) => readFileSync(join(dir, f))));
  const [merged, mergeMs] = timed(() => mergeSerializedReports(inputs));
  const [, gzip] = timed(() => gzipSync(merged.bytes, { level: 6 }));
  const result: StreamResult = {
    readMs,
    mergeMs,
    gzip,
    serializedBytes: merged.bytes.length,
    crc: crc32(merged.bytes),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    coverage: merged.totals.coverage,
  };
  process.stdout.write(JSON.stringify(result));
}

function runChild<T>(mode: string, dir: string): T {
  const out = spawnSync(process.execPath, [...process.execArgv, __filename, mode, dir], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (out.status !== 0) throw new Error(`child failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as T;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-merge-bench-'));
  try {
    const tb = performance.now();
    let stored = 0;
    for (let s = 0; s < SESSIONS; s++) {
      const gz = gzipSync(serializeReport(buildIntermediate(s)));
      stored += gz.length;
      writeFileSync(join(dir, `${String(s).padStart(4, '0')}.trbr.gz`), gz);
    }
    const buildMs = performance.now() - tb;

    const results: ChildResult[] = [];
    const streamed: StreamResult[] = [];
    for (let i = 0; i < RUNS; i++) {
      results.push(runChild<ChildResult>('--child', dir));
      streamed.push(runChild<StreamResult>('--child-streaming', dir));
    }
    type StepName = 'load' | 'merge' | 'serialize' | 'gzip';
    const best = (steps: StepName[], k: keyof Step) =>
      Math.min(...results.map((r) => steps.reduce((sum, s) => sum + r[s][k], 0)));
    const row = (label: string, steps: StepName[]) =>
      console.log(`| ${label.padEnd(38)} | ${fmt(best(steps, 'wallMs'))} | ${fmt(best(steps, 'cpuMs'))} |`);
    const r0 = results[0]!;
    const rss = Math.max(...results.map((r) => r.maxRssMiB));
    const mergeSerializeCpu = best(['merge', 'serialize'], 'cpuMs');
    const mergeSerializeWall = best(['merge', 'serialize'], 'wallMs');

    console.log(`merge benchmark: ${SESSIONS} intermediate reports x ${FILES} files x ${LINES} lines`);
    console.log(`(${SESSIONS * FILES * LINES} session entries; ${r0.lines} counted lines, coverage ${r0.coverage})`);
    console.log(`build + store intermediates (not timed below): ${buildMs.toFixed(0)} ms, ${(stored / 1048576).toFixed(1)} MiB gzip`);
    console.log(`best of ${RUNS} child runs; CPU = user + system time of the child (JS is single-threaded;`);
    console.log('V8 helper threads for GC can make CPU exceed wall time):');
    console.log(`| step                                   | wall ms |  CPU ms |`);
    console.log(`|----------------------------------------|--------:|--------:|`);
    row(`load ${SESSIONS} intermediates (gunzip + read)`, ['load']);
    row('merge', ['merge']);
    row('serialize', ['serialize']);
    row('merge + serialize', ['merge', 'serialize']);
    row('gzip (level 6)', ['gzip']);
    row('merge + serialize + gzip', ['merge', 'serialize', 'gzip']);
    row('load + merge + serialize + gzip', ['load', 'merge', 'serialize', 'gzip']);
    console.log(`serialized: ${(r0.serializedBytes / 1048576).toFixed(1)} MiB, gzip ${(r0.gzipBytes / 1048576).toFixed(1)} MiB`);
    console.log(`peak RSS of an in-memory child (load + merge + serialize + gzip): ${rss.toFixed(0)} MiB`);

    const sBest = (pick: (r: StreamResult) => number) => Math.min(...streamed.map(pick));
    const sRss = Math.max(...streamed.map((r) => r.maxRssMiB));
    const sRow = (label: string, pick: (r: StreamResult, k: keyof Step) => number) =>
      console.log(`| ${label.padEnd(38)} | ${fmt(sBest((r) => pick(r, 'wallMs')))} | ${fmt(sBest((r) => pick(r, 'cpuMs')))} |`);
    console.log('');
    console.log(`streaming: mergeSerializedReports over the ${SESSIONS} stored (gzip) intermediates, best of ${RUNS}:`);
    console.log(`| step                                   | wall ms |  CPU ms |`);
    console.log(`|----------------------------------------|--------:|--------:|`);
    sRow(`read ${SESSIONS} files`, (r, k) => r.readMs[k]);
    sRow('gunzip + decode + merge + serialize', (r, k) => r.mergeMs[k]);
    sRow('gzip (level 6)', (r, k) => r.gzip[k]);
    const same = streamed[0]!.serializedBytes === r0.serializedBytes && streamed[0]!.crc === r0.crc;
    console.log(`output byte-identical to the in-memory path (size + CRC-32): ${same}, coverage ${streamed[0]!.coverage}`);
    console.log(`peak RSS of a streaming child (read + merge + serialize + gzip): ${sRss.toFixed(0)} MiB`);
    const sCpu = sBest((r) => r.mergeMs.cpuMs);
    const sWall = sBest((r) => r.mergeMs.wallMs);

    console.log('');
    console.log(
      `target merge + serialize <= 2000 ms: in memory CPU ${mergeSerializeCpu <= 2000 ? 'met' : 'MISSED'}, ` +
        `wall ${mergeSerializeWall <= 2000 ? 'met' : 'MISSED'}; streaming (incl. gunzip + decode) CPU ` +
        `${sCpu <= 2000 ? 'met' : 'MISSED'}, wall ${sWall <= 2000 ? 'met' : 'MISSED'}`,
    );
    console.log(
      `target peak RSS <= 1024 MiB: in memory ${rss <= 1024 ? 'met' : 'MISSED'}, streaming ${sRss <= 1024 ? 'met' : 'MISSED'}`,
    );
    console.log(`load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') child(process.argv[3]!);
else if (process.argv[2] === '--child-streaming') childStreaming(process.argv[3]!);
else main();
