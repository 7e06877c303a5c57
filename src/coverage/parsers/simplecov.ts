import type { CoverageSink, FileSink, ParserFactory } from '../types';
import { createJsonCollector } from './json-collect';
import { JsonShape, isObject, own, type JsonObject, type JsonPath } from './json-shape';

/**
 * SimpleCov (Ruby) JSON, in the three shapes found in the wild:
 * - `.resultset.json`: `{ "<command>": { "coverage": { "<path>": { "lines": [...], "branches": {...} }
 *   | [...] }, "timestamp": n } }` (the bare array is the pre-0.18 form); several commands are
 *   merged, as SimpleCov itself does;
 * - simplecov-json: `{ "files": [{ "filename", "coverage": [...] | { "lines": [...] } }] }`;
 * - simplecov_json_formatter: `{ "meta": { "simplecov_version" }, "coverage": { "<path>": { "lines":
 *   [...] } } }`.
 * Line arrays start at line 1; null is "not code", "ignored" (nocov) is skipped (-1).
 * Resultset branch data (`"[:if, 0, 12, 4, 20, 29]": { "[:then, 1, ...]": count }`) becomes
 * "taken/total" on the condition's line, missing branches named "<condition id>:<branch id>". The
 * formatters' per-branch lists carry no condition line and are not used.
 */
export const createSimplecovParser: ParserFactory = (sink, ctx) => {
  const shape = new JsonShape('simplecov', ctx);
  return createJsonCollector('simplecov', ctx, (doc) => {
    const root = shape.object(doc, []);
    if (Array.isArray(own(root, 'files'))) {
      const files = own(root, 'files') as unknown[];
      for (let i = 0; i < files.length; i++) {
        const entry = shape.object(files[i], ['files', i]);
        const name = shape.string(own(entry, 'filename'), ['files', i, 'filename']);
        readFileCoverage(sink, shape, name, own(entry, 'coverage'), ['files', i, 'coverage'], false);
      }
      return;
    }
    if (isObject(own(root, 'meta')) && isObject(own(root, 'coverage'))) {
      readCoverageMap(sink, shape, own(root, 'coverage') as JsonObject, ['coverage'], false);
      return;
    }
    for (const command of Object.keys(root)) {
      const run = shape.object(own(root, command), [command]);
      const coverage = shape.object(own(run, 'coverage'), [command, 'coverage']);
      readCoverageMap(sink, shape, coverage, [command, 'coverage'], true);
    }
  });
};

function readCoverageMap(sink: CoverageSink, shape: JsonShape, map: JsonObject, base: JsonPath, withBranches: boolean): void {
  for (const name of Object.keys(map)) readFileCoverage(sink, shape, name, own(map, name), [...base, name], withBranches);
}

function readFileCoverage(
  sink: CoverageSink,
  shape: JsonShape,
  name: string,
  raw: unknown,
  path: JsonPath,
  withBranches: boolean,
): void {
  let lines: unknown[];
  let linesPath: JsonPath;
  let branches: JsonObject | undefined;
  if (Array.isArray(raw)) {
    lines = raw;
    linesPath = path;
  } else {
    const obj = shape.object(raw, path);
    lines = shape.array(own(obj, 'lines'), [...path, 'lines']);
    linesPath = [...path, 'lines'];
    const b = own(obj, 'branches');
    if (withBranches && b !== undefined && b !== null) branches = shape.object(b, [...path, 'branches']);
  }

  const values = new Map<number, number>();
  for (let i = 0; i < lines.length; i++) {
    const v = lines[i];
    if (v === null || v === undefined) continue;
    const ln = shape.lineNumber(i + 1, [...linesPath, i]);
    if (ln === null) continue;
    if (v === 'ignored') values.set(ln, -1);
    else {
      const hits = shape.hits(v, [...linesPath, i]);
      if (hits !== null) values.set(ln, hits);
    }
  }

  const branchLines = new Map<number, { taken: number; total: number; missing?: string[] }>();
  if (branches) {
    for (const condKey of Object.keys(branches)) {
      const condPath: JsonPath = [...path, 'branches', condKey];
      const cond = parseBranchKey(shape, condKey, condPath);
      const arms = shape.object(own(branches, condKey), condPath);
      if (cond.line === null) continue;
      let acc = branchLines.get(cond.line);
      if (!acc) branchLines.set(cond.line, (acc = { taken: 0, total: 0 }));
      for (const armKey of Object.keys(arms)) {
        const arm = parseBranchKey(shape, armKey, [...condPath, armKey]);
        const count = shape.hits(own(arms, armKey), [...condPath, armKey]);
        if (count === null) continue;
        acc.total++;
        if (count > 0) acc.taken++;
        else (acc.missing ??= []).push(`${cond.id}:${arm.id}`);
      }
      if (acc.total === 0) branchLines.delete(cond.line);
    }
  }

  if (values.size === 0 && branchLines.size === 0) return;
  const file: FileSink | null = sink.file(name);
  if (!file) return;
  const all = new Set<number>([...values.keys(), ...branchLines.keys()]);
  for (const ln of [...all].sort((x, y) => x - y)) {
    const b = branchLines.get(ln);
    // Like LCOV's BRDA, branch data replaces the plain count of its line (unless SimpleCov skipped it).
    if (b && values.get(ln) !== -1) {
      file.line(ln, `${b.taken}/${b.total}`, 'b', b.missing ? { missingBranches: b.missing } : undefined);
    } else {
      file.line(ln, values.get(ln) as number);
    }
  }
}

const BRANCH_KEY = /^\[:?([A-Za-z_]+),\s*([0-9]{1,9}),\s*([0-9]{1,9}),\s*([0-9]{1,9}),\s*([0-9]{1,9}),\s*([0-9]{1,9})\]$/;

function parseBranchKey(shape: JsonShape, key: string, path: JsonPath): { id: string; line: number | null } {
  const m = BRANCH_KEY.exec(key);
  if (!m) shape.fail(path, 'expected a SimpleCov branch key like "[:if, 0, 12, 4, 20, 29]"');
  return { id: m[2], line: shape.lineNumber(Number(m[3]), path) };
}
