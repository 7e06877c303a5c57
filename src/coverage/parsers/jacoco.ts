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
 * JaCoCo XML, read the way Codecov reads it:
 * - `<package name><sourcefile name>` is the file "package/name";
 * - `<line nr mi ci mb cb>`: with missed branches the value is "cb/(mb+cb)", with only covered
 *   branches "cb/cb" (both type 'b'), otherwise the covered-instruction count `ci`;
 * - a line where a method starts (`<class><method line>` of a top-level class, i.e. without "$",
 *   whose name matches the source file) becomes type 'm' with the method's COMPLEXITY counter as
 *   complexity [covered, missed + covered];
 * - `nr` 0 is skipped.
 * JaCoCo writes a package's classes before its source files, which is what lets this stream.
 */

const REPORT = 'report';
const PACKAGE = 'package';
const CLASS = 'class';
const METHOD = 'method';
const COUNTER = 'counter';
const SOURCEFILE = 'sourcefile';
const LINE = 'line';
const NAME = 'name';
const TYPE = 'type';
const MISSED = 'missed';
const COVERED = 'covered';
const NR = 'nr';
const MI = 'mi';
const CI = 'ci';
const MB = 'mb';
const CB = 'cb';

const NAMES = [
  REPORT, PACKAGE, CLASS, METHOD, COUNTER, SOURCEFILE, LINE, NAME, TYPE, MISSED, COVERED, NR, MI,
  CI, MB, CB, 'sessioninfo', 'group', 'id', 'start', 'dump', 'desc', 'sourcefilename',
];

type Complexity = [covered: number, total: number];

export const createJacocoParser: ParserFactory = (sink, ctx) => {
  const limits = ctx.limits;
  return createXmlPushParser(ctx, 'jacoco', NAMES, () => {
    const file = new LazyFile(sink);
    let rootChecked = false;
    let packageName = '';
    // class name -> method start line -> complexity, for the current package.
    let classes = new Map<string, Map<number, Complexity>>();
    let classMethods: Map<number, Complexity> | null = null;
    let methodLine = 0;
    let inSourceFile = false;
    let fileMethods: Map<number, Complexity> | undefined;

    const method = (attrs: XmlAttributes): void => {
      const i = attrs.indexOf(LINE);
      methodLine = i < 0 ? 0 : lineNumberAt(attrs, i, limits, 'method line');
    };

    const counter = (attrs: XmlAttributes): void => {
      const i = attrs.indexOf(TYPE);
      if (i < 0 || !attrs.equals(i, 'COMPLEXITY') || classMethods === null) return;
      const missed = attrs.count(requireAttr(attrs, MISSED, COUNTER), 'missed');
      const covered = attrs.count(requireAttr(attrs, COVERED, COUNTER), 'covered');
      classMethods.set(methodLine, [covered, missed + covered]);
      // Codecov keeps the first COMPLEXITY counter of a method.
      methodLine = 0;
    };

    const sourceFile = (attrs: XmlAttributes): void => {
      const name = attrs.text(requireAttr(attrs, NAME, SOURCEFILE));
      const path = `${packageName}/${name}`;
      inSourceFile = true;
      fileMethods = classes.get(path.split('.')[0]);
      file.start(path);
    };

    const line = (attrs: XmlAttributes): void => {
      let iNr = -1;
      let iCi = -1;
      let iMb = -1;
      let iCb = -1;
      const names = attrs.names;
      for (let i = 0; i < attrs.length; i++) {
        const name = names[i];
        if (name === NR) iNr = i;
        else if (name === CI) iCi = i;
        else if (name === MB) iMb = i;
        else if (name === CB) iCb = i;
      }
      if (iNr < 0) attrs.failTag('invalid_syntax', '<line> without the nr attribute');
      if (iMb < 0) attrs.failTag('invalid_syntax', '<line> without the mb attribute');
      if (iCb < 0) attrs.failTag('invalid_syntax', '<line> without the cb attribute');
      const mb = attrs.countOrBad(iMb);
      const cb = attrs.countOrBad(iCb);
      let value: LineValue;
      let type: LineType | undefined;
      if (mb !== 0 || cb !== 0) {
        if (mb < 0 || cb < 0 || mb + cb > MAX_BRANCHES_PER_LINE) {
          return cb < 0 ? attrs.warnAt(iCb, 'invalid_branch_count', 'cb') : attrs.warnAt(iMb, 'invalid_branch_count', 'mb');
        }
        value = `${cb}/${mb + cb}`;
        type = 'b';
      } else {
        if (iCi < 0) attrs.failTag('invalid_syntax', '<line> without the ci attribute');
        value = hitsAt(attrs, iCi, limits, 'ci');
        if (value === SKIP_RECORD) return;
      }
      const n = lineNumberAt(attrs, iNr, limits, 'line number');
      if (n === 0) return;
      const target = file.get();
      if (target === null) return;
      const complexity = fileMethods?.get(n);
      // The sink owns what it is given, and one method's entry may serve several records.
      if (complexity !== undefined) target.line(n, value, 'm', { complexity: [complexity[0], complexity[1]] });
      else if (type !== undefined) target.line(n, value, type);
      else target.line(n, value);
    };

    return {
      open(name, attrs) {
        if (!rootChecked) {
          rootChecked = true;
          checkRoot(attrs, name, [REPORT], 'JaCoCo');
        }
        if (name === LINE) {
          if (inSourceFile) line(attrs);
        } else if (name === COUNTER) {
          if (methodLine > 0) counter(attrs);
        } else if (name === METHOD) {
          if (classMethods !== null) method(attrs);
        } else if (name === CLASS) {
          const className = attrs.get(NAME) ?? '';
          if (className.includes('$')) {
            classMethods = null;
          } else {
            classMethods = classes.get(className) ?? new Map<number, Complexity>();
            classes.set(className, classMethods);
          }
        } else if (name === SOURCEFILE) {
          sourceFile(attrs);
        } else if (name === PACKAGE) {
          packageName = attrs.text(requireAttr(attrs, NAME, PACKAGE));
          classes = new Map();
        }
      },
      close(name) {
        if (name === METHOD) {
          methodLine = 0;
        } else if (name === CLASS) {
          classMethods = null;
        } else if (name === SOURCEFILE) {
          inSourceFile = false;
          fileMethods = undefined;
          file.stop();
        }
      },
    };
  });
};
