/**
 * One test run uploaded in several formats (Codecov's uploader sends every report it finds) must
 * merge to what each format says alone: formats name branches differently, so their missing-branch
 * ids are never intersected with each other (docs/coverage-semantics.md, "Several formats of one
 * run"). The runs are real: test/fixtures/multi-format (gcovr, c8, nyc, coverage.py; see its README)
 * and the shared corpus folders (nyc, c8, coverage.py 6).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { mergeReports } from '../../../src/coverage/merge';
import { parseReport } from '../../../src/coverage/parse';
import { createPathResolver } from '../../../src/coverage/paths';
import type { CoverageReport } from '../../../src/coverage/report';
import { mergeSerializedReports, serializeReport } from '../../../src/coverage/report-format';
import { fileTotals, reportTotals } from '../../../src/coverage/totals';
import { classifyValue, type LineClass } from '../../../src/coverage/values';
import type { FormatName } from '../../../src/coverage/types';

const FIXTURES = path.resolve(__dirname, '../../fixtures/multi-format');
const CORPUS = path.resolve(__dirname, '../../../../shared/corpus');

interface Run {
  name: string;
  dir: string;
  files: string[];
}

function runsIn(base: string, label: string): Run[] {
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((d) => statSync(path.join(base, d)).isDirectory())
    .map((d) => ({
      name: `${label}/${d}`,
      dir: path.join(base, d),
      files: readdirSync(path.join(base, d)).filter((n) => statSync(path.join(base, d, n)).isFile()).sort(),
    }));
}

const RUNS = [...runsIn(FIXTURES, 'fixtures'), ...runsIn(CORPUS, 'corpus')];

interface Alone {
  file: string;
  format: FormatName;
  report: CoverageReport;
}

async function parseRun(run: Run): Promise<Alone[]> {
  return Promise.all(
    run.files.map(async (file, i) => {
      const bytes = readFileSync(path.join(run.dir, file));
      const r = await parseReport(bytes, { fileName: file, sessionId: i, resolver: createPathResolver() });
      return { file, format: r.format, report: r.report };
    }),
  );
}

function classes(report: CoverageReport): Map<string, Map<number, LineClass>> {
  const out = new Map<string, Map<number, LineClass>>();
  for (const f of report) {
    const m = new Map<number, LineClass>();
    for (let i = 0; i < f.lineCount; i++) m.set(f.lines[i]!, classifyValue(f.value(i)));
    out.set(f.path, m);
  }
  return out;
}

const counts = (t: { hits: number; misses: number; partials: number }): string => `${t.hits}/${t.misses}/${t.partials}`;

describe('several formats of one run merge to what each says alone', () => {
  test('the runs are there', () => {
    assert.deepEqual(
      runsIn(FIXTURES, 'fixtures').map((r) => r.name),
      ['fixtures/c8-js', 'fixtures/coveragepy', 'fixtures/gcovr-c', 'fixtures/nyc-js'],
    );
    assert.ok(RUNS.length >= 7, RUNS.map((r) => r.name).join(', '));
  });

  for (const run of RUNS) {
    test(`${run.name}: ${run.files.join(' + ')}`, async () => {
      const alone = await parseRun(run);
      assert.equal(new Set(alone.map((a) => a.format)).size, alone.length, 'one file per format');
      const merged = mergeReports(alone.map((a) => a.report));
      const mergedClasses = classes(merged);
      const aloneClasses = alone.map((a) => classes(a.report));

      // Every line on which all formats that report it agree (at least two do) keeps that class.
      let agreed = 0;
      let partialsAgreed = 0;
      const wrong: string[] = [];
      for (const [file, lines] of mergedClasses) {
        for (const [n, cls] of lines) {
          const seen = aloneClasses.map((c) => c.get(file)?.get(n)).filter((c): c is LineClass => c !== undefined);
          if (seen.length < 2 || seen.some((c) => c !== seen[0])) continue;
          agreed++;
          if (seen[0] === 'partial') partialsAgreed++;
          if (cls !== seen[0]) wrong.push(`${file}:${n} each alone ${seen[0]}, merged ${cls}`);
        }
      }
      assert.deepEqual(wrong, []);
      assert.ok(agreed >= 25, `only ${agreed} lines compared`);
      // V8's block coverage (c8) has one-armed branches only: no partial lines to keep.
      const minPartials = run.name.endsWith('-c8') || run.name.endsWith('c8-js') ? 0 : 1;
      assert.ok(partialsAgreed >= minPartials, `only ${partialsAgreed} partial lines compared`);

      // Where every format gives a file the same totals, so does the combination; and the report.
      for (const f of merged) {
        const each = alone.map((a) => a.report.file(f.path)).filter((x) => x !== undefined);
        const t = each.map((x) => counts(fileTotals(x)));
        if (each.length === alone.length && t.every((x) => x === t[0])) assert.equal(counts(fileTotals(f)), t[0], f.path);
      }
      const totals = alone.map((a) => counts(reportTotals(a.report)));
      if (totals.every((x) => x === totals[0])) assert.equal(counts(reportTotals(merged)), totals[0]);

      // Serial, tree-shaped and streamed merges give the same bytes.
      const bytes = serializeReport(merged);
      const serial = alone.slice(1).reduce((acc, a) => mergeReports([acc, a.report]), alone[0]!.report);
      assert.deepEqual(serializeReport(serial), bytes);
      const reversed = [...alone].reverse().reduce<CoverageReport | undefined>(
        (acc, a) => (acc === undefined ? a.report : mergeReports([a.report, acc])),
        undefined,
      )!;
      assert.deepEqual(serializeReport(reversed), bytes);
      assert.deepEqual(mergeSerializedReports(alone.map((a) => serializeReport(a.report))).bytes, bytes);
    });
  }

  test('gcovr: Cobertura + LCOV of one run keep gcovr\'s own numbers', async () => {
    const run = RUNS.find((r) => r.name === 'fixtures/gcovr-c')!;
    const alone = await parseRun(run);
    const merged = mergeReports(alone.map((a) => a.report));
    const want = reportTotals(alone[0]!.report);
    assert.equal(reportTotals(alone[1]!.report).coverage, want.coverage);
    assert.equal(reportTotals(merged).coverage, want.coverage);
    // classify() at line 7: 3 of 4 branches; Cobertura names the missing one "0:jump", LCOV "1:2".
    const f = merged.file('calc.c')!;
    const i = f.indexOf(7);
    assert.deepEqual(
      f.entries(i).map((e) => [e.value, e.missingBranches, e.branchScheme]),
      [
        ['3/4', ['0:jump'], 'cobertura/gcovr'],
        ['3/4', ['1:2'], 'lcov'],
      ],
    );
    assert.equal(f.value(i), '3/4');
  });
});
