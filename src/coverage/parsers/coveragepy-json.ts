import type { ParserFactory } from '../types';
import { createJsonCollector } from './json-collect';
import { JsonShape, own, type JsonPath } from './json-shape';

/**
 * coverage.py's `coverage json` output: `{ meta, files: { "<path>": { executed_lines,
 * missing_lines, excluded_lines, executed_branches?, missing_branches? } } }`.
 *
 * coverage.py records no counts: an executed line is 1, a missing one 0, excluded lines are left
 * out. With `--branch`, each arc `[from, to]` is a branch of its `from` line: the line becomes
 * "taken/total" (type `b`) and the destinations of the arcs not taken are its missing branches
 * (destination line numbers, negative for "exit from the code object", as coverage.py writes them).
 */
export const createCoveragePyJsonParser: ParserFactory = (sink, ctx) => {
  const shape = new JsonShape('coveragepy', ctx);
  return createJsonCollector('coveragepy', ctx, (doc) => {
    const root = shape.object(doc, []);
    const files = shape.object(own(root, 'files'), ['files']);
    for (const name of Object.keys(files)) {
      const base: JsonPath = ['files', name];
      const data = shape.object(own(files, name), base);
      const values = new Map<number, number>();
      readLines(shape, own(data, 'executed_lines'), [...base, 'executed_lines'], (ln) => values.set(ln, 1));
      readLines(shape, own(data, 'missing_lines'), [...base, 'missing_lines'], (ln) => {
        if (!values.has(ln)) values.set(ln, 0);
      });
      const excluded = new Set<number>();
      readLines(shape, own(data, 'excluded_lines'), [...base, 'excluded_lines'], (ln) => excluded.add(ln));

      const branches = new Map<number, { taken: number; total: number; missing?: string[] }>();
      const arcs = (key: 'executed_branches' | 'missing_branches', taken: boolean): void => {
        const raw = own(data, key);
        if (raw === undefined || raw === null) return;
        const list = shape.array(raw, [...base, key]);
        for (let i = 0; i < list.length; i++) {
          const arc = shape.array(list[i], [...base, key, i]);
          if (arc.length !== 2) shape.fail([...base, key, i], `expected a [from, to] pair, got ${arc.length} items`);
          const from = shape.lineNumber(arc[0], [...base, key, i, 0]);
          const to = arc[1];
          if (typeof to !== 'number') shape.fail([...base, key, i, 1], 'expected an integer branch destination', 'invalid_number');
          if (!Number.isInteger(to)) {
            shape.warn('invalid_line_number', [...base, key, i, 1]);
            continue;
          }
          if (from === null) continue;
          let b = branches.get(from);
          if (!b) branches.set(from, (b = { taken: 0, total: 0 }));
          b.total++;
          if (taken) b.taken++;
          else (b.missing ??= []).push(String(to));
        }
      };
      arcs('executed_branches', true);
      arcs('missing_branches', false);

      const lineNumbers = new Set<number>([...values.keys(), ...branches.keys()]);
      for (const ln of excluded) lineNumbers.delete(ln);
      if (lineNumbers.size === 0) continue;
      const file = sink.file(name);
      if (!file) continue;
      for (const ln of [...lineNumbers].sort((x, y) => x - y)) {
        const b = branches.get(ln);
        if (b) {
          file.line(ln, `${b.taken}/${b.total}`, 'b', b.missing ? { missingBranches: b.missing } : undefined);
        } else {
          file.line(ln, values.get(ln) as number);
        }
      }
    }
  });
};

function readLines(shape: JsonShape, raw: unknown, path: JsonPath, each: (ln: number) => void): void {
  if (raw === undefined || raw === null) return;
  const list = shape.array(raw, path);
  for (let i = 0; i < list.length; i++) {
    const ln = shape.lineNumber(list[i], [...path, i]);
    if (ln !== null) each(ln);
  }
}
