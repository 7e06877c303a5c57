import { ReportParseError } from './errors';
import type { FormatName, Generator } from './types';

/** How many leading bytes detection looks at. */
export const DETECT_BYTES = 64 * 1024;

/**
 * Detects a report's format from its first bytes (at most DETECT_BYTES), the way Codecov does:
 * by content, never by file name, in priority order —
 * XML by root element (`report` → JaCoCo, `coverage` with `generated` → Clover, `coverage` →
 * Cobertura), then text markers (`end_of_record` or an `SF:` record → LCOV, `0:Source:` → gcov,
 * a first line `mode: ` → Go), then JSON keys (`coverage` → Codecov unless it is SimpleCov's
 * formatter, `meta` + `files` → coverage.py, file entries with `statementMap` → Istanbul,
 * SimpleCov's resultset and simplecov-json shapes).
 * Throws a ReportParseError with code `unknown_format` when nothing matches.
 */
export function detectFormat(head: Uint8Array, fileName: string): FormatName {
  const found = sniffFormat(head);
  if (found) return found;
  throw new ReportParseError({
    code: 'unknown_format',
    file: fileName,
    format: 'unknown',
    offset: 0,
    reason: 'could not detect the report format from its content (use an explicit format)',
  });
}

/** Like detectFormat, but returns null instead of throwing. */
export function sniffFormat(head: Uint8Array): FormatName | null {
  const bytes = head.byteLength > DETECT_BYTES ? head.subarray(0, DETECT_BYTES) : head;
  // Detection only needs ASCII markers; replacement characters from a cut UTF-8 sequence are harmless.
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const start = text.search(/\S/);
  if (start === -1) return null;
  const first = text[start];
  if (first === '<') return sniffXml(text, start);
  if (first === '{' || first === '[') {
    const json = sniffJson(text, start);
    if (json) return json;
  }
  return sniffText(text);
}

function sniffXml(text: string, start: number): FormatName | null {
  let i = start;
  for (;;) {
    const lt = text.indexOf('<', i);
    if (lt === -1) return null;
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      if (end === -1) return null;
      i = end + 2;
    } else if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end === -1) return null;
      i = end + 3;
    } else if (text.startsWith('<!', lt)) {
      // DOCTYPE, possibly with an internal subset in brackets.
      const bracket = text.indexOf('[', lt);
      const close = text.indexOf('>', lt);
      if (close === -1) return null;
      if (bracket !== -1 && bracket < close) {
        const end = text.indexOf(']>', bracket);
        if (end === -1) return null;
        i = end + 2;
      } else i = close + 1;
    } else {
      const m = /^<([A-Za-z_][\w.:-]*)([^>]*)/.exec(text.slice(lt, lt + 4096));
      if (!m) return null;
      const name = m[1];
      if (name === 'report') return 'jacoco';
      if (name === 'coverage') return /\sgenerated\s*=/.test(m[2]) ? 'clover' : 'cobertura';
      return null;
    }
  }
}

function sniffText(text: string): FormatName | null {
  const firstLine = /^[^\r\n]*/.exec(text.replace(/^\s+/, ''))?.[0] ?? '';
  if (/(^|\n)end_of_record\s*($|\n|\r)/.test(text) || /(^|\n)(SF|TN):/.test(text)) return 'lcov';
  if (/(^|\n)\s*-:\s*0:Source:/.test(text)) return 'gcov';
  if (firstLine.startsWith('mode: ')) return 'go';
  return null;
}

/**
 * A tolerant scan of a JSON prefix: collects the keys of the top-level object and, for the first
 * few of its object values, their keys. Never throws; the document may be cut anywhere.
 */
interface JsonOutline {
  topKeys: string[];
  childKeys: Map<string, string[]>;
  /** Whether `files` (top level) holds an array whose first element has `filename`. */
  filesArrayWithFilename: boolean;
  /** Keys of the object under top-level `meta`. */
  metaKeys: string[];
}

function sniffJson(text: string, start: number): FormatName | null {
  if (text[start] !== '{') return null;
  const o = outlineJson(text, start);
  const top = new Set(o.topKeys);
  if (top.has('meta') && o.metaKeys.includes('simplecov_version')) return 'simplecov';
  if (top.has('coverage')) return 'codecov';
  if (top.has('meta') && top.has('files')) return 'coveragepy';
  if (o.filesArrayWithFilename) return 'simplecov';
  for (const [, keys] of o.childKeys) {
    if (keys.includes('statementMap') || keys.includes('fnMap') || keys.includes('branchMap')) return 'istanbul';
    if (keys.includes('data')) return 'istanbul';
    if (keys.includes('coverage') && (keys.includes('timestamp') || keys.length <= 2)) return 'simplecov';
  }
  return null;
}

function outlineJson(t: string, start: number): JsonOutline {
  const out: JsonOutline = { topKeys: [], childKeys: new Map(), filesArrayWithFilename: false, metaKeys: [] };
  const n = t.length;
  // Path of container keys; depth 0 is the top-level object.
  const stack: { isObject: boolean; key: string | null }[] = [];
  let pendingKey: string | null = null;
  let expectKey = false;
  let i = start;
  const readString = (): string | null => {
    let s = '';
    i++;
    while (i < n) {
      const c = t[i];
      if (c === '"') {
        i++;
        return s;
      }
      if (c === '\\') {
        s += t[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (s.length < 256) s += c;
      i++;
    }
    return null;
  };
  while (i < n) {
    const c = t[i];
    if (c === '"') {
      const s = readString();
      if (s === null) break;
      const top = stack[stack.length - 1];
      if (top?.isObject && expectKey) {
        pendingKey = s;
        expectKey = false;
        const depth = stack.length;
        if (depth === 1) out.topKeys.push(s);
        else if (depth === 2) {
          const parent = top.key ?? '';
          if (parent === 'meta') out.metaKeys.push(s);
          const keys = out.childKeys.get(parent);
          if (keys) keys.push(s);
          else if (out.childKeys.size < 8) out.childKeys.set(parent, [s]);
        } else if (depth === 3 && stack[1].key === 'files' && !stack[1].isObject && s === 'filename') {
          out.filesArrayWithFilename = true;
        }
      }
      continue;
    }
    if (c === '{' || c === '[') {
      stack.push({ isObject: c === '{', key: pendingKey });
      pendingKey = null;
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      stack.pop();
      if (stack.length === 0) break;
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1]?.isObject ?? false;
      pendingKey = null;
    }
    i++;
  }
  return out;
}

/** An element's attribute by name (the XML parsers' attributes, or a test's record). */
export type AttributeLookup = (name: string) => string | undefined;

/**
 * The tool that wrote a Clover report, from its `<coverage>` and `<project>` attributes. Their
 * `truecount`/`falsecount` mean different things: OpenClover counts how often a condition was
 * true and false, istanbul writes covered and uncovered branches. istanbul-reports always writes
 * `<coverage clover="3.2.0">` and `<project name="All files">`; an explicit `generator`
 * attribute wins. null: unknown (PHPUnit and others write no cond counts; read as OpenClover).
 */
export function cloverGenerator(coverage: AttributeLookup, project: AttributeLookup | null): Generator | null {
  const generator = coverage('generator');
  if (generator !== undefined) {
    if (/istanbul|nyc|\bc8\b|jest|vitest/i.test(generator)) return 'istanbul';
    if (/clover/i.test(generator)) return 'openclover';
  }
  const version = coverage('clover');
  if (version === undefined) return null;
  if (version === '3.2.0' && project !== null && project('name') === 'All files') return 'istanbul';
  return 'openclover';
}

/**
 * The tool that wrote a Cobertura report, from its root's `version` attribute ("gcovr 8.8";
 * coverage.py writes its own version first; istanbul-reports writes "0.1" last). Each names
 * branches its own way: gcovr's conditions "0:jump", coverage.py's destination lines, istanbul
 * none. null: unknown.
 */
export function coberturaGenerator(root: AttributeLookup, firstAttribute: string | undefined): Generator | null {
  const version = root('version');
  if (version === undefined) return null;
  if (version.startsWith('gcovr')) return 'gcovr';
  if (firstAttribute === 'version' && /^\d+\.\d+/.test(version)) return 'coveragepy';
  if (version === '0.1' && root('lines-valid') !== undefined) return 'istanbul';
  return null;
}
