import type { ParserFactory } from '../types';
import type { XmlAttributes } from './xml/attributes';
import { checkRoot, createXmlPushParser, hitsAt, LazyFile, lineNumberAt, requireAttr, SKIP_RECORD } from './xml/coverage-xml';

/**
 * Clover XML (istanbul/nyc, PHPUnit, OpenClover), read the way Codecov reads it:
 * - `<file path|name>` (path wins when non-empty); names containing "{" and PHP files under
 *   "vendor/" are skipped;
 * - `<line num type count>`: "stmt" (and any unknown type) is the count; "method" is the count
 *   with type 'm' and the `complexity` attribute (0 when absent); "cond" becomes "0/2" when
 *   neither `truecount` nor `falsecount` is set, "1/2" when one is, "2/2" when both are (type 'b');
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

const NAMES = [
  COVERAGE, FILE, LINE, METRICS, PATH, NAME, NUM, TYPE, COUNT, TRUECOUNT, FALSECOUNT, COMPLEXITY,
  LOC, 'project', 'package', 'class', 'generated', 'clover', 'timestamp', 'statements',
  'coveredstatements', 'conditionals', 'coveredconditionals', 'methods', 'coveredmethods',
  'elements', 'coveredelements', 'ncloc', 'packages', 'files', 'classes', 'stmt', 'cond', 'method',
  'namespace', 'visibility', 'signature', 'crap',
];

const COND_VALUES: readonly string[] = ['0/2', '1/2', '2/2'];

/**
 * The lines of one PHP file, held until its end tag, packed three numbers per line (line number,
 * value, complexity) so a huge file costs about as much as its XML rather than an object per line.
 * Values: a hit count, or -1 - k for the k-th cond fraction; complexity -1 means none.
 */
class HeldLines {
  private data = new Float64Array(3 * 64);
  length = 0;

  push(n: number, value: number, complexity: number): void {
    if (this.length * 3 + 3 > this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const at = this.length * 3;
    this.data[at] = n;
    this.data[at + 1] = value;
    this.data[at + 2] = complexity;
    this.length++;
  }

  forEach(fn: (n: number, value: number, complexity: number) => void): void {
    for (let i = 0; i < this.length; i++) fn(this.data[i * 3], this.data[i * 3 + 1], this.data[i * 3 + 2]);
  }
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

    const openFile = (attrs: XmlAttributes): void => {
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

    const emit = (n: number, value: number, complexity: number): void => {
      const target = file.get();
      if (target === null) return;
      if (value < 0) target.line(n, COND_VALUES[-1 - value], 'b');
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
      // value: a hit count, or -1 - k for COND_VALUES[k]; complexity -1: not a method line.
      let value: number;
      let complexity = -1;
      if (attrs.equals(iType, 'cond')) {
        const t = attrs.count(requireAttr(attrs, TRUECOUNT, LINE), 'truecount');
        const f = attrs.count(requireAttr(attrs, FALSECOUNT, LINE), 'falsecount');
        value = t === 0 && f === 0 ? -1 : t === 0 || f === 0 ? -2 : -3;
      } else {
        // An empty or missing count is a miss, as in Codecov.
        value = iCount >= 0 && !attrs.isEmpty(iCount) ? hitsAt(attrs, iCount, limits, 'count') : 0;
        if (value === SKIP_RECORD) return;
        if (attrs.equals(iType, 'method')) {
          const iComplexity = attrs.indexOf(COMPLEXITY);
          complexity =
            iComplexity >= 0 && !attrs.isEmpty(iComplexity) ? attrs.count(iComplexity, 'complexity') : 0;
        }
      }
      if (held !== null) held.push(n, value, complexity);
      else emit(n, value, complexity);
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
        lines.forEach((n, value, complexity) => {
          if (endOfFile <= 0 || n <= endOfFile) emit(n, value, complexity);
        });
      }
      file.stop();
    };

    return {
      open(name, attrs) {
        if (!rootChecked) {
          rootChecked = true;
          checkRoot(attrs, name, [COVERAGE], 'Clover');
        }
        if (name === LINE) {
          if (inFile && !skipFile) line(attrs);
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
