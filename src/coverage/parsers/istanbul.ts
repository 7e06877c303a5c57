import type { CoverageSink, LineExtras, ParserFactory, PartialSpan } from '../types';
import { createJsonCollector } from './json-collect';
import { JsonShape, own, isObject, type JsonObject, type JsonPath } from './json-shape';

/**
 * Istanbul `coverage-final.json` (nyc, c8, jest, vitest): `{ "<path>": { statementMap, s, branchMap,
 * b, fnMap, f } }`.
 *
 * Line values follow the istanbul LCOV reporter, so this format and the `lcov.info` written from the
 * same run agree line for line:
 * - a line's hit count is the maximum count of the statements that start on it;
 * - branch counts are reported on the line where the branch starts (`loc`, else its first location,
 *   else `line`) and, as LCOV's BRDA does, replace that line's value with "taken/total" (type `b`),
 *   missing branches named "<branchId>:<index>";
 * - functions make their declaration line a method line (type `m`); a declaration line without
 *   statements gets the function's call count.
 * When statements on one line ran a different number of times, their column spans are kept as
 * partials so the model can show which part of the line ran.
 */
export const createIstanbulParser: ParserFactory = (sink, ctx) => {
  const shape = new JsonShape('istanbul', ctx);
  return createJsonCollector('istanbul', ctx, (doc) => {
    const root = shape.object(doc, []);
    for (const key of Object.keys(root)) {
      readFile(sink, shape, key, own(root, key));
    }
  });
};

interface LineAcc {
  hits: number;
  statements: number;
  spans?: PartialSpan[];
  distinctCounts?: boolean;
  branchTotal: number;
  branchTaken: number;
  missing?: string[];
  method?: number;
}

function readFile(sink: CoverageSink, shape: JsonShape, key: string, raw: unknown): void {
  let data = shape.object(raw, [key]);
  let base: JsonPath = [key];
  // Old nyc output wraps the file coverage in { data: ... }.
  if (own(data, 'statementMap') === undefined && isObject(own(data, 'data'))) {
    data = own(data, 'data') as JsonObject;
    base = [key, 'data'];
  }
  const lines = new Map<number, LineAcc>();
  const acc = (ln: number): LineAcc => {
    let a = lines.get(ln);
    if (!a) {
      a = { hits: 0, statements: 0, branchTotal: 0, branchTaken: 0 };
      lines.set(ln, a);
    }
    return a;
  };

  // Every Istanbul writer emits statementMap, even for files without statements; without it this
  // is not Istanbul data (a wrong format hint, or another JSON format).
  const statementMap = shape.object(own(data, 'statementMap'), [...base, 'statementMap']);
  const statementIds = Object.keys(statementMap);
  const s = statementIds.length > 0 ? shape.object(own(data, 's'), [...base, 's']) : {};
  for (const id of statementIds) {
    const loc = shape.object(own(statementMap, id), [...base, 'statementMap', id]);
    if (own(loc, 'skip') === true) continue;
    const start = startOf(shape, loc, [...base, 'statementMap', id]);
    const count = shape.hits(own(s, id), [...base, 's', id]);
    if (start.line === null || count === null) continue;
    const a = acc(start.line);
    if (a.statements > 0 && count !== a.hits) a.distinctCounts = true;
    if (a.statements === 0 || count > a.hits) a.hits = count;
    a.statements++;
    const end = isObject(own(loc, 'end')) ? (own(loc, 'end') as JsonObject) : undefined;
    const endCol = end && own(end, 'line') === start.line ? numberOrNull(own(end, 'column')) : null;
    (a.spans ??= []).push([start.column, endCol, count]);
  }

  const branchMap = shape.optionalObject(own(data, 'branchMap'), [...base, 'branchMap']);
  const branchIds = Object.keys(branchMap);
  const b = branchIds.length > 0 ? shape.object(own(data, 'b'), [...base, 'b']) : {};
  for (const id of branchIds) {
    const path: JsonPath = [...base, 'branchMap', id];
    const branch = shape.object(own(branchMap, id), path);
    if (own(branch, 'skip') === true) continue;
    const counts = shape.array(own(b, id), [...base, 'b', id]);
    const ln = branchLine(shape, branch, path);
    if (ln === null) continue;
    const a = acc(ln);
    for (let i = 0; i < counts.length; i++) {
      const taken = shape.hits(counts[i], [...base, 'b', id, i]);
      if (taken === null) continue;
      a.branchTotal++;
      if (taken > 0) a.branchTaken++;
      else (a.missing ??= []).push(`${id}:${i}`);
    }
  }

  const fnMap = shape.optionalObject(own(data, 'fnMap'), [...base, 'fnMap']);
  const fnIds = Object.keys(fnMap);
  const f = fnIds.length > 0 ? shape.object(own(data, 'f'), [...base, 'f']) : {};
  for (const id of fnIds) {
    const path: JsonPath = [...base, 'fnMap', id];
    const fn = shape.object(own(fnMap, id), path);
    if (own(fn, 'skip') === true) continue;
    const count = shape.hits(own(f, id), [...base, 'f', id]);
    const ln = functionLine(shape, fn, path);
    if (ln === null || count === null) continue;
    const a = acc(ln);
    a.method = a.method === undefined ? count : Math.max(a.method, count);
  }

  // Like a report's files without any line data elsewhere, an uninstrumented file is left out.
  if (lines.size === 0) return;
  const file = sink.file(key);
  if (!file) return;
  const sorted = [...lines.keys()].sort((x, y) => x - y);
  for (const ln of sorted) {
    const a = lines.get(ln) as LineAcc;
    if (a.branchTotal > 0) {
      // As LCOV readers do, a branch line that also declares a function is a method line.
      const extras: LineExtras | undefined = a.missing ? { missingBranches: a.missing } : undefined;
      file.line(ln, `${a.branchTaken}/${a.branchTotal}`, a.method !== undefined ? 'm' : 'b', extras);
    } else if (a.method !== undefined) {
      // The statements' count, as in the LCOV `DA` record; the function's own count only stands in
      // for a declaration line without statements.
      file.line(ln, a.statements > 0 ? a.hits : a.method, 'm');
    } else {
      const extras: LineExtras | undefined =
        a.distinctCounts && a.spans ? { partials: a.spans.sort(byStartColumn) } : undefined;
      file.line(ln, a.hits, 'line', extras);
    }
  }
}

function byStartColumn(x: PartialSpan, y: PartialSpan): number {
  return (x[0] ?? -1) - (y[0] ?? -1);
}

function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

function startOf(shape: JsonShape, loc: JsonObject, path: JsonPath): { line: number | null; column: number | null } {
  const start = shape.object(own(loc, 'start'), [...path, 'start']);
  const line = own(start, 'line');
  // Istanbul writes empty `{}` locations for implicit branches; they carry no line.
  if (line === undefined || line === null) return { line: null, column: null };
  return { line: shape.lineNumber(line, [...path, 'start', 'line']), column: numberOrNull(own(start, 'column')) };
}

function branchLine(shape: JsonShape, branch: JsonObject, path: JsonPath): number | null {
  const loc = own(branch, 'loc');
  if (isObject(loc)) {
    const l = startOf(shape, loc, [...path, 'loc']).line;
    if (l !== null) return l;
  }
  const locations = own(branch, 'locations');
  if (Array.isArray(locations) && isObject(locations[0])) {
    const l = startOf(shape, locations[0], [...path, 'locations', 0]).line;
    if (l !== null) return l;
  }
  const line = own(branch, 'line');
  return line === undefined ? null : shape.lineNumber(line, [...path, 'line']);
}

function functionLine(shape: JsonShape, fn: JsonObject, path: JsonPath): number | null {
  for (const key of ['decl', 'loc'] as const) {
    const loc = own(fn, key);
    if (isObject(loc)) {
      const l = startOf(shape, loc, [...path, key]).line;
      if (l !== null) return l;
    }
  }
  const line = own(fn, 'line');
  return line === undefined ? null : shape.lineNumber(line, [...path, 'line']);
}
