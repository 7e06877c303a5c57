import { cloverGenerator, type AttributeLookup } from '../detect';
import { resized } from '../columns';
import type { ParserFactory } from '../types';
import type { XmlAttributes } from './xml/attributes';
import {
  checkRoot,
  createXmlPushParser,
  hitsAt,
  LazyFile,
  lineNumberAt,
  MAX_BRANCHES_PER_LINE,
  requireAttr,
  SKIP_RECORD,
} from './xml/coverage-xml';

/**
 * Clover XML (istanbul/nyc, PHPUnit, OpenClover), read the way Codecov reads it:
 * - `<file path|name>` (path wins when non-empty); names containing "{" and PHP files under
 *   "vendor/" are skipped;
 * - `<line num type count>`: "stmt" (and any unknown type) is the count; "method" is the count
 *   with type 'm' and the `complexity` attribute (0 when absent); "cond" (type 'b') depends on
 *   the generator (`cloverGenerator`, decided at `<project>`, before any line): OpenClover's
 *   `truecount`/`falsecount` count how often the condition was true and false, so "0/2" when
 *   neither is set, "1/2" when one is, "2/2" when both are (Codecov's reading); istanbul writes
 *   covered and uncovered branches there, so "truecount/(truecount + falsecount)", and a cond
 *   line without branches is its count;
 * - PHP reports can list lines past the end of the source: for ".php" files, lines after the first
 *   `<metrics loc>` inside the `<file>` are dropped. PHPUnit writes that element after the lines,
 *   so a PHP file's lines are held until its end tag (one file at a time).
 */

const COVERAGE = 'coverage';
const FILE = 'file';
const LINE = 'line';
const METRICS = 'metrics';
const PATH = 'path';
const NAME = 'name';
const NUM = 'num';
const TYPE = 'type';
const COUNT = 'count';
const TRUECOUNT = 'truecount';
const FALSECOUNT = 'falsecount';
const COMPLEXITY = 'complexity';
const LOC = 'loc';
const PROJECT = 'project';

const NAMES = [
  COVERAGE, FILE, LINE, METRICS, PATH, NAME, NUM, TYPE, COUNT, TRUECOUNT, FALSECOUNT, COMPLEXITY,
  LOC, PROJECT, 'package', 'class', 'generated', 'clover', 'timestamp', 'statements',
  'coveredstatements', 'conditionals', 'coveredconditionals', 'methods', 'coveredmethods',
  'elements', 'coveredelements', 'ncloc', 'packages', 'files', 'classes', 'stmt', 'cond', 'method',
  'namespace', 'visibility', 'signature', 'crap',
];

const COND_VALUES: readonly string[] = ['0/2', '1/2', '2/2'];

/**
 * The lines of one PHP file, held until its end tag, packed four numbers per line (line number,
 * value, branches, complexity) so a huge file costs about as much as its XML rather than an
 * object per line. Branches -1: the value is a hit count, else it is the taken branches;
 * complexity -1 means none.
 */
class HeldLines {
  private data = new Float64Array(4 * 64);
  length = 0;

  push(n: number, value: number, branches: number, complexity: number): void {
    if (this.length * 4 + 4 > this.data.length) {
      this.data = resized(this.data, this.data.length * 2);
    }
    const at = this.length * 4;
    this.data[at] = n;
    this.data[at + 1] = value;
    this.data[at + 2] = branches;
    this.data[at + 3] = complexity;
    this.length++;
  }

  forEach(fn: (n: number, value: number, branches: number, complexity: number) => void): void {
    const d = this.data;
    for (let i = 0; i < this.length; i++) fn(d[i * 4], d[i * 4 + 1], d[i * 4 + 2], d[i * 4 + 3]);
  }
}

/** An attribute lookup that outlives the scanner's reused attributes object. */
function snapshot(attrs: XmlAttributes, names: readonly string[]): AttributeLookup {
  const values = new Map<string, string>();
  for (const name of names) {
    const v = attrs.get(name);
    if (v !== undefined) values.set(name, v);
  }
  return (name) => values.get(name);
}

export const createCloverParser: ParserFactory = (sink, ctx) => {
  const limits = ctx.limits;
  return createXmlPushParser(ctx, 'clover', NAMES, () => {
    const file = new LazyFile(sink);
    let rootChecked = false;
    let inFile = false;
    let skipFile = false;
    // PHP files: lines held until </file>, and the end-of-file line from <metrics loc>.
    let held: HeldLines | null = null;
    let endOfFile = -1;
    // The generator, decided once at <project> (or the first <file> without one).
    let root: AttributeLookup | null = null;
    let decided = false;
    let istanbul = false;

    const decide = (project: AttributeLookup | null): void => {
      decided = true;
      const generator = cloverGenerator(root ?? (() => undefined), project);
      istanbul = generator === 'istanbul';
      if (generator !== null) sink.generator?.(generator);
    };

    const openFile = (attrs: XmlAttributes): void => {
      if (!decided) decide(null);
      inFile = true;
      const path = attrs.get(PATH);
      const name = path ? path : attrs.get(NAME);
      if (name === undefined) return attrs.failTag('invalid_syntax', '<file> without a path or name attribute');
      const php = name.endsWith('.php');
      skipFile = name.includes('{') || (php && `/${name}`.includes('/vendor/'));
      held = php && !skipFile ? new HeldLines() : null;
      endOfFile = -1;
      file.start(skipFile ? null : name);
    };

    const emit = (n: number, value: number, branches: number, complexity: number): void => {
      const target = file.get();
      if (target === null) return;
      if (branches >= 0) target.line(n, branches === 2 ? COND_VALUES[value] : `${value}/${branches}`, 'b');
      else if (complexity >= 0) target.line(n, value, 'm', { complexity });
      else target.line(n, value);
    };

    const line = (attrs: XmlAttributes): void => {
      let iNum = -1;
      let iType = -1;
      let iCount = -1;
      const names = attrs.names;
      for (let i = 0; i < attrs.length; i++) {
        const name = names[i];
        if (name === NUM) iNum = i;
        else if (name === TYPE) iType = i;
        else if (name === COUNT) iCount = i;
      }
      if (iNum < 0) attrs.failTag('invalid_syntax', '<line> without the num attribute');
      if (iType < 0) attrs.failTag('invalid_syntax', '<line> without the type attribute');
      const n = lineNumberAt(attrs, iNum, limits, 'line number');
      if (n === 0) return;
      // value: a hit count, or with branches >= 0 the taken branches; complexity -1: not a method line.
      let value = 0;
      let branches = -1;
      let complexity = -1;
      const cond = attrs.equals(iType, 'cond');
      if (cond) {
        const iTrue = requireAttr(attrs, TRUECOUNT, LINE);
        const iFalse = requireAttr(attrs, FALSECOUNT, LINE);
        const t = attrs.count(iTrue, 'truecount');
        const f = attrs.count(iFalse, 'falsecount');
        if (!istanbul) {
          value = (t === 0 ? 0 : 1) + (f === 0 ? 0 : 1);
          branches = 2;
        } else if (t + f > MAX_BRANCHES_PER_LINE) {
          attrs.failAt(iTrue, 'invalid_number', `truecount + falsecount ${t + f} exceeds ${MAX_BRANCHES_PER_LINE} branches`);
        } else if (t + f > 0) {
          value = t;
          branches = t + f;
        }
      }
      if (branches < 0) {
        // An empty or missing count is a miss, as in Codecov.
        value = iCount >= 0 && !attrs.isEmpty(iCount) ? hitsAt(attrs, iCount, limits, 'count') : 0;
        if (value === SKIP_RECORD) return;
        if (attrs.equals(iType, 'method')) {
          const iComplexity = attrs.indexOf(COMPLEXITY);
          complexity =
            iComplexity >= 0 && !attrs.isEmpty(iComplexity) ? attrs.count(iComplexity, 'complexity') : 0;
        }
      }
      if (held !== null) held.push(n, value, branches, complexity);
      else emit(n, value, branches, complexity);
    };

    const metrics = (attrs: XmlAttributes): void => {
      const i = attrs.indexOf(LOC);
      if (i < 0) return;
      // Codecov ignores a <metrics loc> it cannot read and tries the next one.
      const text = attrs.text(i);
      if (/^[0-9]{1,15}$/.test(text)) endOfFile = Number(text);
    };

    const closeFile = (): void => {
      inFile = false;
      if (held !== null) {
        const lines = held;
        held = null;
        lines.forEach((n, value, branches, complexity) => {
          if (endOfFile <= 0 || n <= endOfFile) emit(n, value, branches, complexity);
        });
      }
      file.stop();
    };

    return {
      open(name, attrs) {
        if (!rootChecked) {
          rootChecked = true;
          checkRoot(attrs, name, [COVERAGE], 'Clover');
          root = snapshot(attrs, ['generator', 'clover']);
          return;
        }
        if (name === LINE) {
          if (inFile && !skipFile) line(attrs);
        } else if (name === PROJECT) {
          if (!decided) decide(snapshot(attrs, [NAME]));
        } else if (name === FILE) {
          openFile(attrs);
        } else if (name === METRICS) {
          if (held !== null && endOfFile < 0) metrics(attrs);
        }
      },
      close(name) {
        if (name === FILE) closeFile();
      },
    };
  });
};
