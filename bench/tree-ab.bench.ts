/**
 * Two source trees of this repository, A and B (say, two commits checked out with
 * `git worktree add`), measured against each other in one process: the same inputs, the two
 * trees' modules alternating run by run (A B, then B A, ...), best CPU time of each step. For
 * changes that move code without meaning to change its speed, where separate runs of the other
 * benchmarks drift with the machine's load more than the change could move them.
 *
 *   git worktree add /tmp/before <commit>   (node_modules: symlink or npm install)
 *   npx tsx bench/tree-ab.bench.ts /tmp/before . [--runs 10]
 *
 * Steps: read 20 stored intermediates (20 sessions x 1,000 files x 100 lines, seeded as in
 * bench/merge.bench.ts: bench/support/seeded-lines.ts), merge them, serialize the result, the streaming merge of the stored
 * bytes, one session through the builder, and parseReport of 30 MB of Cobertura, Clover and
 * JaCoCo (bench/xml-inputs.ts). Run it twice with A and B swapped: a tree's place in the
 * alternation can move its figures by a few percent, and the change's effect is the geometric
 * mean of the two runs' ratios.
 */
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type * as BuilderModule from '../src/coverage/builder';
import type * as MergeModule from '../src/coverage/merge';
import type * as FormatModule from '../src/coverage/report-format';
import type * as ParseModule from '../src/coverage/parse';
import type { FormatName } from '../src/coverage/types';
import { buildClover, buildCobertura, buildJacoco } from './xml-inputs';
import { seededLines } from './support/seeded-lines';

interface Tree {
  label: string;
  builder: typeof BuilderModule;
  merge: typeof MergeModule;
  format: typeof FormatModule;
  parse: typeof ParseModule;
}

function loadTree(root: string, label: string): Tree {
  // Each tree's own modules, by absolute path: two separate module graphs in one process.
  const at = (m: string) => path.resolve(root, 'src', 'coverage', m);
  return {
    label,
    builder: require(at('builder')) as typeof BuilderModule,
    merge: require(at('merge')) as typeof MergeModule,
    format: require(at('report-format')) as typeof FormatModule,
    parse: require(at('parse')) as typeof ParseModule,
  };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function buildSession(tree: Tree, sessionId: number): ReturnType<ReturnType<typeof BuilderModule.createSessionBuilder>['finish']> {
  const b = tree.builder.createSessionBuilder({ sessionId, session: { format: 'lcov' } });
  seededLines(b.sink, sessionId, 1000, 100);
  return b.finish();
}

function cpuMs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

async function cpuMsAsync(fn: () => Promise<unknown>): Promise<number> {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

async function main(): Promise<void> {
  const [rootA, rootB] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (rootA === undefined || rootB === undefined) throw new Error('usage: npx tsx bench/tree-ab.bench.ts TREE_A TREE_B [--runs 10]');
  const runs = arg('runs', 10);
  const trees = [loadTree(rootA, 'A'), loadTree(rootB, 'B')];
  const stored = Array.from({ length: 20 }, (_, i) => gzipSync(trees[0]!.format.serializeReport(buildSession(trees[0]!, i + 1)), { level: 1 }));
  const xml: Array<[FormatName, Buffer]> = [
    ['cobertura', buildCobertura(30e6)],
    ['clover', buildClover(30e6)],
    ['jacoco', buildJacoco(30e6)],
  ];
  const best = new Map<string, [number, number]>();
  const keep = (step: string, which: number, ms: number) => {
    const b = best.get(step) ?? [Infinity, Infinity];
    b[which] = Math.min(b[which]!, ms);
    best.set(step, b);
  };
  const sizes = new Set<number>();
  for (let r = 0; r < runs; r++) {
    for (const which of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const t = trees[which]!;
      let reports: ReturnType<typeof t.format.readReport>[] = [];
      keep('read 20 stored intermediates', which, cpuMs(() => (reports = stored.map((s) => t.format.readReport(s)))));
      let merged: ReturnType<typeof t.merge.mergeReports> | undefined;
      keep('merge', which, cpuMs(() => (merged = t.merge.mergeReports(reports))));
      keep('serialize', which, cpuMs(() => sizes.add(t.format.serializeReport(merged!).length)));
      keep('streaming merge of the stored bytes', which, cpuMs(() => t.format.mergeSerializedReports(stored)));
      keep('one session through the builder', which, cpuMs(() => buildSession(t, 99)));
      for (const [format, bytes] of xml) {
        keep(`parseReport, ${format} 30 MB`, which, await cpuMsAsync(() => t.parse.parseReport(bytes, { fileName: `bench.${format}.xml`, format, sessionId: 1 })));
      }
    }
  }
  if (sizes.size !== 1) throw new Error(`the trees serialize the merged report to different sizes: ${[...sizes].join(', ')}`);
  console.log(`A = ${rootA}, B = ${rootB}; best CPU ms of ${runs} alternating runs; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('| step | A | B | B / A |');
  console.log('|---|---:|---:|---:|');
  for (const [step, [a, b]] of best) console.log(`| ${step} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(3)} |`);
}

void main();
