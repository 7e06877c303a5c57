import { coberturaGenerator } from '../detect';
import type { LineType, LineValue, ParserFactory } from '../types';
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
 * Cobertura XML (coverage.py, istanbul/nyc, c8, gcovr, scoverage), with Codecov's reading of it:
 * - every `<line>` of a `<class>` counts, including those under `<methods>`; the sink merges
 *   duplicates of one line (several classes of one file, a method line repeated in `<lines>`);
 * - `branch="true"` with `condition-coverage="50% (1/2)"` is the branch value "1/2"; without the
 *   "(a/b)" part the line falls back to its `hits`;
 * - `missing-branches="a,b"` become missing-branch ids (coverage.py's "exit,exit" means
 *   ["loop", "exit"]); otherwise `<condition number type coverage>` children that are not at 100%
 *   become "number:type" ids, and a branch line with none taken and fewer ids than branches gets
 *   "0", "1", ... for the rest;
 * - scoverage `<statement>`s: branch statements are type 'b', method statements type 'm';
 * - line numbers 0 and "undefined" are skipped; `<sources>` go to `sink.sourceBases` before the
 *   first file is opened.
 */

const COVERAGE = 'coverage';
const SCOVERAGE = 'scoverage';
const SOURCES = 'sources';
const SOURCE = 'source';
const CLASS = 'class';
const LINE = 'line';
const CONDITION = 'condition';
const STATEMENT = 'statement';
const FILENAME = 'filename';
const NUMBER = 'number';
const HITS = 'hits';
const BRANCH = 'branch';
const CONDITION_COVERAGE = 'condition-coverage';
const MISSING_BRANCHES = 'missing-branches';
const TYPE = 'type';
const COVERAGE_ATTR = 'coverage';
const INVOCATION_COUNT = 'invocation-count';
const IGNORED = 'ignored';
const METHOD = 'method';
const LINE_ATTR = 'line';

const NAMES = [
  COVERAGE, SCOVERAGE, SOURCES, SOURCE, CLASS, LINE, CONDITION, STATEMENT, FILENAME, NUMBER, HITS,
  BRANCH, CONDITION_COVERAGE, MISSING_BRANCHES, TYPE, INVOCATION_COUNT, IGNORED, METHOD,
  'package', 'packages', 'classes', 'methods', 'lines', 'conditions', 'name', 'line-rate',
  'branch-rate', 'complexity', 'signature', 'timestamp', 'version',
];

const FRACTION = /\((\d+)\/(\d+)\)/;

export const createCoberturaParser: ParserFactory = (sink, ctx) => {
  const limits = ctx.limits;
  return createXmlPushParser(ctx, 'cobertura', NAMES, (scanner) => {
    const file = new LazyFile(sink);
    let rootChecked = false;
    let inSources = false;
    let capturingSource = false;
    let bases: string[] | null = [];
    let inClass = false;

    // The <line> being read: emitted at its end tag, once its <condition> children are known.
    let lineNumber = 0;
    let lineValue: LineValue = 0;
    let lineType: LineType | undefined;
    let missing: string[] | undefined;
    let collectConditions = false;
    let conditions: string[] | null = null;

    const sendBases = (): void => {
      if (bases === null) return;
      const found = bases;
      bases = null;
      sink.sourceBases?.(found);
    };

    const openLine = (attrs: XmlAttributes): void => {
      lineNumber = 0;
      let iNumber = -1;
      let iHits = -1;
      let iBranch = -1;
      let iCondition = -1;
      let iMissing = -1;
      const names = attrs.names;
      for (let i = 0; i < attrs.length; i++) {
        const name = names[i];
        if (name === NUMBER) iNumber = i;
        else if (name === HITS) iHits = i;
        else if (name === BRANCH) iBranch = i;
        else if (name === CONDITION_COVERAGE) iCondition = i;
        else if (name === MISSING_BRANCHES) iMissing = i;
      }
      if (iNumber < 0) attrs.failTag('invalid_syntax', '<line> without the number attribute');
      if (attrs.equals(iNumber, 'undefined')) return;
      const n = lineNumberAt(attrs, iNumber, limits, 'line number');
      if (n === 0) return;

      lineType = undefined;
      let fraction: RegExpExecArray | null = null;
      if (iBranch >= 0 && iCondition >= 0 && attrs.equalsIgnoreCase(iBranch, 'true')) {
        fraction = FRACTION.exec(attrs.text(iCondition));
      }
      if (fraction !== null) {
        const covered = Number(fraction[1]);
        const total = Number(fraction[2]);
        if (covered > total || total > MAX_BRANCHES_PER_LINE) return attrs.warnAt(iCondition, 'invalid_branch_count', 'condition-coverage');
        lineValue = `${covered}/${total}`;
        lineType = 'b';
      } else {
        if (iHits < 0) attrs.failTag('invalid_syntax', '<line> without the hits attribute');
        lineValue = hitsAt(attrs, iHits, limits, 'hits');
        if (lineValue === SKIP_RECORD) return;
      }

      missing = undefined;
      collectConditions = false;
      const missingText = iMissing >= 0 ? attrs.text(iMissing) : '';
      if (missingText !== '') {
        missing = missingText.split(',');
        if (missing.length > 1 && missing.every((id) => id === 'exit')) missing = ['loop', 'exit'];
      } else {
        collectConditions = true;
        conditions = null;
      }
      lineNumber = n;
    };

    const closeLine = (): void => {
      if (lineNumber === 0) return;
      const n = lineNumber;
      lineNumber = 0;
      if (collectConditions) {
        collectConditions = false;
        let ids = conditions;
        conditions = null;
        // No branch taken and fewer ids than branches: Codecov numbers the rest "0", "1", ...
        if (typeof lineValue === 'string' && lineValue.charCodeAt(0) === 48 /* '0' */) {
          const total = Number(lineValue.slice(lineValue.indexOf('/') + 1));
          ids ??= [];
          for (let k = ids.length; k < total; k++) ids.push(String(k));
        }
        if (ids !== null && ids.length > 0) missing = ids;
      }
      const target = file.get();
      if (target === null) return;
      if (missing !== undefined) target.line(n, lineValue, lineType, { missingBranches: missing });
      else if (lineType !== undefined) target.line(n, lineValue, lineType);
      else target.line(n, lineValue);
    };

    const condition = (attrs: XmlAttributes): void => {
      const coverage = attrs.get(COVERAGE_ATTR);
      if (coverage === '100%') return;
      (conditions ??= []).push(`${attrs.get(NUMBER) ?? ''}:${attrs.get(TYPE) ?? ''}`);
    };

    const statement = (attrs: XmlAttributes): void => {
      const iIgnored = attrs.indexOf(IGNORED);
      if (iIgnored >= 0 && attrs.equals(iIgnored, 'true')) return;
      const hits = hitsAt(attrs, requireAttr(attrs, INVOCATION_COUNT, STATEMENT), limits, 'invocation-count');
      if (hits === SKIP_RECORD) return;
      const n = lineNumberAt(attrs, requireAttr(attrs, LINE_ATTR, STATEMENT), limits, 'line number');
      if (n === 0) return;
      const iBranch = attrs.indexOf(BRANCH);
      const method = attrs.get(METHOD);
      const type: LineType | undefined =
        iBranch >= 0 && attrs.equals(iBranch, 'true') ? 'b' : method ? 'm' : undefined;
      const target = file.get();
      if (target === null) return;
      if (type !== undefined) target.line(n, hits, type);
      else target.line(n, hits);
    };

    return {
      open(name, attrs) {
        if (!rootChecked) {
          rootChecked = true;
          checkRoot(attrs, name, [COVERAGE, SCOVERAGE], 'Cobertura');
          const generator = coberturaGenerator((n) => attrs.get(n), attrs.names[0]);
          if (generator !== null) sink.generator?.(generator);
        }
        if (name === LINE) {
          if (inClass) openLine(attrs);
        } else if (name === CONDITION) {
          if (collectConditions && lineNumber !== 0) condition(attrs);
        } else if (name === CLASS) {
          sendBases();
          inClass = true;
          const filename = attrs.get(FILENAME);
          if (filename === undefined) return attrs.failTag('invalid_syntax', '<class> without the filename attribute');
          file.start(filename === '' ? null : filename);
        } else if (name === STATEMENT) {
          if (inClass) statement(attrs);
        } else if (name === SOURCE) {
          if (inSources && bases !== null) {
            scanner.captureText = true;
            capturingSource = true;
          }
        } else if (name === SOURCES) {
          inSources = true;
        }
      },
      close(name) {
        if (name === LINE) {
          closeLine();
        } else if (name === CLASS) {
          inClass = false;
          file.stop();
        } else if (name === SOURCE) {
          if (capturingSource) {
            capturingSource = false;
            const base = scanner.takeText().trim();
            if (base !== '' && bases !== null) bases.push(base);
          }
        } else if (name === SOURCES) {
          inSources = false;
          sendBases();
        }
      },
    };
  });
};
