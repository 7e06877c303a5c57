import type { FileSink, LineType, LineValue, ParserFactory } from '../types';
import { createJsonCollector } from './json-collect';
import { JsonShape, isObject, own, type JsonPath } from './json-shape';

/**
 * Codecov's own JSON format: `{ "coverage": { "<path>": LINES } }` where LINES is
 * - a map `{ "<line>": VALUE }`,
 * - a list indexed by line number (index 0 unused), or
 * - `{ "lines": [...] }` with the first element for line 1 (simplecov_json_formatter writes this).
 * VALUE is an integer hit count (-1 skipped), an integer written as a string, a branch fraction
 * "a/b", `true` (partial), `false` (miss), "ignored" (skipped) or null (no data). Fractions and
 * booleans make branch lines, as Codecov types them. A negative or fractional count, a fraction
 * with more taken than branches, or a bad line number skips the line with a warning.
 */
export const createCodecovJsonParser: ParserFactory = (sink, ctx) => {
  const shape = new JsonShape('codecov', ctx);
  return createJsonCollector('codecov', ctx, (doc) => {
    const root = shape.object(doc, []);
    const coverage = shape.object(own(root, 'coverage'), ['coverage']);
    for (const name of Object.keys(coverage)) {
      const raw = own(coverage, name);
      const base: JsonPath = ['coverage', name];
      let file: FileSink | null | undefined;
      const emit = (ln: number | null, v: unknown, path: JsonPath): void => {
        if (ln === null || v === null || v === undefined) return;
        const value = readValue(shape, v, path);
        if (value === null) return;
        if (file === undefined) file = sink.file(name);
        if (file) file.line(ln, value[0], value[1]);
      };
      if (Array.isArray(raw)) {
        for (let i = 1; i < raw.length; i++) emit(checkIndex(shape, i, [...base, i]), raw[i], [...base, i]);
      } else if (isObject(raw) && Array.isArray(own(raw, 'lines'))) {
        const lines = own(raw, 'lines') as unknown[];
        for (let i = 0; i < lines.length; i++) {
          emit(checkIndex(shape, i + 1, [...base, 'lines', i]), lines[i], [...base, 'lines', i]);
        }
      } else {
        const map = shape.object(raw, base);
        for (const key of Object.keys(map)) emit(shape.lineKey(key, [...base, key]), own(map, key), [...base, key]);
      }
    }
  });
};

function checkIndex(shape: JsonShape, ln: number, path: JsonPath): number | null {
  return shape.lineNumber(ln, path);
}

const FRACTION = /^([0-9]{1,15})\/([0-9]{1,15})$/;

/** Returns null for values that mean "no data". */
function readValue(shape: JsonShape, v: unknown, path: JsonPath): [LineValue, LineType] | null {
  if (typeof v === 'number') {
    if (v === -1) return [-1, 'line'];
    const hits = shape.hits(v, path);
    return hits === null ? null : [hits, 'line'];
  }
  if (v === true) return [true, 'b'];
  if (v === false) return [0, 'b'];
  if (typeof v === 'string') {
    if (v === 'ignored') return [-1, 'line'];
    if (/^-?[0-9]{1,20}$/.test(v)) return readValue(shape, Number(v), path);
    const m = FRACTION.exec(v);
    if (m && Number(m[1]) <= Number(m[2])) return [`${Number(m[1])}/${Number(m[2])}`, 'b'];
    if (m) {
      shape.warn('invalid_branch_count', path);
      return null;
    }
    shape.fail(path, `expected a hit count or a branch fraction "a/b", got ${JSON.stringify(v.slice(0, 40))}`, 'invalid_number');
  }
  shape.fail(path, `expected a hit count, a branch fraction or a boolean, got ${Array.isArray(v) ? 'an array' : typeof v}`, 'invalid_number');
}
