/**
 * The cost of Codecov's report fixes in the session builder: an LCOV report parsed by
 * `parseReport` without fixes, with fixes for files the report does not have (a map lookup per
 * new file only), and with fixes for every file (a Set lookup per line of those files, a tenth
 * of their lines dropped).
 *
 *   npx tsx bench/report-fixes.bench.ts [--files 2000] [--lines 500] [--runs 5]
 *
 * Best of `--runs` after a warm-up, wall time and MB/s of the report text.
 */
import { parseReport } from '../src/coverage/parse';
import type { LineExclusion } from '../src/coverage/types';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const files = arg('files', 2000);
const lines = arg('lines', 500);
const runs = arg('runs', 5);

const path = (f: number) => `src/pkg${f % 97}/file${f}.c`;
const parts: string[] = [];
for (let f = 0; f < files; f++) {
  let rec = `SF:${path(f)}\n`;
  for (let l = 1; l <= lines; l++) rec += `DA:${l},${(f + l) % 3}\n`;
  parts.push(`${rec}end_of_record\n`);
}
const input = Buffer.from(parts.join(''));

const fixesFor = (name: (f: number) => string) => {
  const m = new Map<string, LineExclusion>();
  for (let f = 0; f < files; f++) {
    const set = new Set<number>();
    for (let l = 7; l <= lines; l += 10) set.add(l);
    m.set(name(f), { lines: set, eof: lines });
  }
  return m;
};

const cases: [string, Map<string, LineExclusion> | undefined][] = [
  ['no fixes', undefined],
  ['fixes, none of the report files', fixesFor((f) => `other/file${f}.c`)],
  ['fixes for every file (10% of lines dropped)', fixesFor(path)],
];

async function main(): Promise<void> {
  console.log(`LCOV, ${files} files x ${lines} lines, ${(input.byteLength / 1e6).toFixed(1)} MB, best of ${runs}`);
  console.log('| case | best ms | MB/s | lines kept |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, exclusions] of cases) {
    let best = Infinity;
    let kept = 0;
    for (let r = 0; r <= runs; r++) {
      const t = process.hrtime.bigint();
      const { report } = await parseReport(input, { fileName: 'lcov.info', format: 'lcov', sessionId: 0, exclusions });
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (r > 0) best = Math.min(best, ms);
      kept = 0;
      for (const file of report.files.values()) kept += file.lineCount;
    }
    console.log(`| ${name} | ${best.toFixed(0)} | ${(input.byteLength / 1e6 / (best / 1000)).toFixed(0)} | ${kept} |`);
  }
}

void main();
