/**
 * Each folder of ../shared/corpus is one test run of a real project written by its coverage tool
 * in several formats. After parsing (detection, default path normalisation), every pair of
 * formats must name the same files, and every line both report must have the same class
 * (hit / miss / partial), up to what a format cannot express. The exceptions, all checked rather
 * than skipped:
 *
 * 1. (Clover `cond` lines used to be an exception: istanbul writes covered / uncovered branch
 *    counts in `truecount` / `falsecount`, which Codecov reads as OpenClover's "times true / false".
 *    The parser now recognises istanbul's Clover and reads them as branches, so they are compared.)
 * 2. LCOV written by coverage.py 6.x (recognised by the checksum third field of its `DA` records)
 *    puts each `BRDA` record on the *destination* line of the arc instead of the branch's line, so
 *    its branch fractions land on unrelated lines (an executed line can read "0/1"). Its lines with
 *    branch data are not compared; on the others LCOV has no branch information, so only
 *    "executed or not" is compared.
 * 3. Generally, a file for which one format carries no branch data at all is compared as
 *    "executed or not" (a partial line is an executed line).
 * Lines only one format reports (function declaration lines, excluded lines) are not compared, but
 * at least 60% of the smaller side's lines must be compared, so the comparison has teeth.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseReport } from '../../../src/coverage/parse';
import { createPathResolver } from '../../../src/coverage/paths';
import { classifyValue } from '../../../src/coverage/values';
import type { FormatName, LineType } from '../../../src/coverage/types';

const CORPUS = path.resolve(__dirname, '../../../../shared/corpus');

type Class = 'hit' | 'miss' | 'partial' | 'skipped';
interface Line {
  cls: Class;
  type: LineType;
}
interface Parsed {
  name: string;
  format: FormatName;
  /** LCOV with coverage.py's misplaced BRDA records (exception 2). */
  misplacedBranches: boolean;
  files: Map<string, Map<number, Line>>;
}

async function parseCorpusFile(dir: string, name: string): Promise<Parsed> {
  const bytes = readFileSync(path.join(dir, name));
  const { report, format } = await parseReport(bytes, { fileName: name, sessionId: 0, resolver: createPathResolver() });
  const files = new Map<string, Map<number, Line>>();
  for (const f of report) {
    const lines = new Map<number, Line>();
    for (let i = 0; i < f.lineCount; i++) lines.set(f.lines[i]!, { cls: classifyValue(f.value(i)), type: f.type(i) });
    files.set(f.path, lines);
  }
  const misplacedBranches = format === 'lcov' && /^DA:\d+,\d+,[A-Za-z0-9+/=]+$/m.test(bytes.toString('utf8'));
  return { name, format, misplacedBranches, files };
}

const hasBranches = (lines: Map<number, Line>) => [...lines.values()].some((l) => l.type === 'b');
const executed = (c: Class): string => (c === 'partial' ? 'hit' : c);

/** The class pair to compare for one line, or null when the line is not comparable (exception 2). */
function comparable(
  a: Parsed,
  b: Parsed,
  la: Line,
  lb: Line,
  coarseFile: boolean,
): [string, string] | null {
  if ((a.misplacedBranches && la.type === 'b') || (b.misplacedBranches && lb.type === 'b')) return null;
  const coarse = coarseFile || a.misplacedBranches || b.misplacedBranches;
  return coarse ? [executed(la.cls), executed(lb.cls)] : [la.cls, lb.cls];
}

const folders = readdirSync(CORPUS).filter((d) => statSync(path.join(CORPUS, d)).isDirectory());

describe('corpus: one test run, several formats', () => {
  test('the corpus is there', () => {
    assert.ok(folders.length >= 3, `found ${folders.join(', ')}`);
  });

  for (const folder of folders) {
    describe(folder, () => {
      const dir = path.join(CORPUS, folder);
      const names = readdirSync(dir).filter((n) => statSync(path.join(dir, n)).isFile());
      let parsed: Promise<Parsed[]> | undefined;
      const all = () => (parsed ??= Promise.all(names.map((n) => parseCorpusFile(dir, n))));

      test('every file parses, in a distinct format', async () => {
        const list = await all();
        assert.ok(list.length >= 3);
        assert.equal(new Set(list.map((p) => p.format)).size, list.length, list.map((p) => `${p.name}=${p.format}`).join(' '));
      });

      for (let i = 0; i < names.length; i++) {
        for (let j = i + 1; j < names.length; j++) {
          test(`${names[i]} vs ${names[j]}`, async () => {
            const list = await all();
            const a = list[i]!;
            const b = list[j]!;
            assert.deepEqual([...a.files.keys()].sort(), [...b.files.keys()].sort(), 'file sets');
            let compared = 0;
            let smaller = 0;
            const mismatches: string[] = [];
            for (const [file, linesA] of a.files) {
              const linesB = b.files.get(file)!;
              smaller += Math.min(linesA.size, linesB.size);
              const coarseFile = hasBranches(linesA) !== hasBranches(linesB);
              for (const [n, la] of linesA) {
                const lb = linesB.get(n);
                if (lb === undefined) continue;
                const pair = comparable(a, b, la, lb, coarseFile);
                if (pair) compared++;
                if (pair && pair[0] !== pair[1]) mismatches.push(`${file}:${n} ${a.format}=${la.cls} ${b.format}=${lb.cls}`);
              }
            }
            assert.deepEqual(mismatches, []);
            assert.ok(compared >= 0.6 * smaller, `only ${compared} of ${smaller} lines compared`);
          });
        }
      }
    });
  }
});
