/**
 * Builds large XML coverage inputs for bench/parsers-xml.bench.ts.
 *
 * Cobertura and Clover inputs replicate the real reports of the corpus (`../shared/corpus`): their
 * `<class>` / `<file>` blocks are repeated with varied file names until the target size. There is
 * no real JaCoCo report in the corpus, so that input is synthetic, shaped like JaCoCo's own output
 * (classes with methods and counters, then source files with `<line nr mi ci mb cb>`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const CORPUS = path.resolve(__dirname, '../../shared/corpus');

const COBERTURA_SOURCES = [
  'negotiator-nyc/cobertura-coverage.xml',
  'negotiator-c8/cobertura-coverage.xml',
  'tomli-misc/coverage-py.xml',
];

function blocks(xml: string, tag: string): string[] {
  const re = new RegExp(`<${tag} [\\s\\S]*?</${tag}>`, 'g');
  return xml.match(re) ?? [];
}

/**
 * A Cobertura document of about `targetBytes`, built from the corpus's three Cobertura reports.
 *
 * istanbul writes percentages such as condition-coverage="83.33333333333334% (5/6)"; the peer
 * `cobertura-parse` reads the digits of the percentage as branch counts and then tries to build
 * trillions of objects (it dies out of memory on the unmodified nyc and c8 reports). The
 * percentage is informative only (every parser reads "(5/6)"), so the input rounds it to an
 * integer, "83% (5/6)", to let the peer run on the same bytes as ours.
 */
export function buildCobertura(targetBytes: number): Buffer {
  const classes = COBERTURA_SOURCES.flatMap((f) => blocks(readFileSync(path.join(CORPUS, f), 'utf8'), 'class')).map(
    (cls) => cls.replace(/condition-coverage="(\d+)\.\d+%/g, 'condition-coverage="$1%'),
  );
  const head =
    '<?xml version="1.0" ?>\n' +
    '<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">\n' +
    '<coverage lines-valid="0" lines-covered="0" line-rate="0.5" branches-valid="0" branches-covered="0" branch-rate="0.5" timestamp="1795420914833" complexity="0" version="0.1">\n' +
    '  <sources>\n    <source>/home/runner/work/bench/bench</source>\n  </sources>\n  <packages>\n';
  const tail = '  </packages>\n</coverage>\n';
  const parts: string[] = [head];
  let size = head.length + tail.length;
  for (let pkg = 0; size < targetBytes; pkg++) {
    const open = `    <package name="pkg${pkg}" line-rate="1" branch-rate="1">\n      <classes>\n`;
    parts.push(open);
    size += open.length;
    for (let k = 0; k < classes.length; k++) {
      const cls = classes[k].replace(/filename="([^"]*)"/, (_m, f: string) => `filename="pkg${pkg}/m${k}/${f}"`);
      parts.push('        ', cls, '\n');
      size += cls.length + 9;
    }
    const close = '      </classes>\n    </package>\n';
    parts.push(close);
    size += close.length;
  }
  parts.push(tail);
  return Buffer.from(parts.join(''), 'utf8');
}

/** A Clover document of about `targetBytes`, built from the corpus's nyc clover.xml. */
export function buildClover(targetBytes: number): Buffer {
  const files = blocks(readFileSync(path.join(CORPUS, 'negotiator-nyc/clover.xml'), 'utf8'), 'file');
  const head =
    '<?xml version="1.0" encoding="UTF-8"?>\n<coverage generated="1795420914838" clover="3.2.0">\n' +
    '  <project timestamp="1795420914838" name="All files">\n';
  const tail = '  </project>\n</coverage>\n';
  const parts: string[] = [head];
  let size = head.length + tail.length;
  for (let pkg = 0; size < targetBytes; pkg++) {
    const open = `    <package name="pkg${pkg}">\n`;
    parts.push(open);
    size += open.length;
    for (let k = 0; k < files.length; k++) {
      const file = files[k]
        .replace(/ name="([^"]*)"/, (_m, f: string) => ` name="${f}"`)
        .replace(/ path="([^"]*)"/, (_m, f: string) => ` path="/home/runner/work/bench/bench/pkg${pkg}/m${k}/${path.basename(f)}"`);
      parts.push('      ', file, '\n');
      size += file.length + 7;
    }
    parts.push('    </package>\n');
    size += 15;
  }
  parts.push(tail);
  return Buffer.from(parts.join(''), 'utf8');
}

/** A synthetic JaCoCo document of about `targetBytes` (deterministic pseudo-random counters). */
export function buildJacoco(targetBytes: number): Buffer {
  let seed = 42;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const head =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">\n' +
    '<report name="bench"><sessioninfo id="bench-1" start="1795420914833" dump="1795420915833"/>';
  const tail = '</report>\n';
  const parts: string[] = [head];
  let size = head.length + tail.length;
  for (let pkg = 0; size < targetBytes; pkg++) {
    const pkgName = `org/example/p${pkg}`;
    const pkgParts: string[] = [`<package name="${pkgName}">`];
    const sources: string[] = [];
    for (let c = 0; c < 8; c++) {
      const cls = `C${c}`;
      const methods: string[] = [];
      const lines: string[] = [];
      let line = 10;
      for (let m = 0; m < 6; m++) {
        const mLine = line;
        const missed = rand(3);
        methods.push(
          `<method name="m${m}" desc="()V" line="${mLine}">` +
            `<counter type="INSTRUCTION" missed="${rand(20)}" covered="${rand(40)}"/>` +
            `<counter type="BRANCH" missed="${missed}" covered="${rand(4)}"/>` +
            `<counter type="LINE" missed="${rand(3)}" covered="${rand(8)}"/>` +
            `<counter type="COMPLEXITY" missed="${missed}" covered="${1 + rand(3)}"/>` +
            `<counter type="METHOD" missed="0" covered="1"/></method>`,
        );
        for (let l = 0; l < 12; l++, line++) {
          const branchy = rand(5) === 0;
          const mb = branchy ? rand(3) : 0;
          const cb = branchy ? rand(3) : 0;
          const ci = rand(4) === 0 ? 0 : 1 + rand(30);
          lines.push(`<line nr="${line}" mi="${ci === 0 ? 1 + rand(9) : 0}" ci="${ci}" mb="${mb}" cb="${cb}"/>`);
        }
        line += 3;
      }
      pkgParts.push(
        `<class name="${pkgName}/${cls}" sourcefilename="${cls}.java">${methods.join('')}` +
          `<counter type="INSTRUCTION" missed="10" covered="90"/><counter type="METHOD" missed="0" covered="6"/></class>`,
      );
      sources.push(
        `<sourcefile name="${cls}.java">${lines.join('')}` +
          `<counter type="INSTRUCTION" missed="10" covered="90"/><counter type="LINE" missed="3" covered="60"/></sourcefile>`,
      );
    }
    pkgParts.push(...sources, `<counter type="INSTRUCTION" missed="80" covered="720"/></package>`);
    const text = pkgParts.join('\n');
    parts.push(text);
    size += text.length;
  }
  parts.push(tail);
  return Buffer.from(parts.join(''), 'utf8');
}
