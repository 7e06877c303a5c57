/**
 * Hostile uploads for the memory tests and the bombs benchmark: small (or merely big) inputs that
 * expand to gigabytes in a naive parser. Gzip bombs of repeated content are concatenated gzip
 * members (valid gzip, inflated member after member), so a 500 MiB bomb is built from one
 * compressed member instead of by deflating 500 MiB.
 */
import { gzipSync } from 'node:zlib';

const MiB = 1024 * 1024;

export interface Bomb {
  name: string;
  body: Buffer;
  /** What the upload must end with, and the limit named in the message (the parse error code for report_invalid). */
  code: 'report_too_large' | 'report_invalid';
  limit: string;
}

/** `unit` gzipped once and repeated until it inflates to at least `inflated` bytes. */
export function gzipRepeated(prefix: string, unit: Buffer, inflated: number): Buffer {
  const member = gzipSync(unit, { level: 9 });
  const count = Math.ceil(inflated / unit.byteLength);
  return Buffer.concat([gzipSync(Buffer.from(prefix), { level: 9 }), ...Array.from({ length: count }, () => member)]);
}

/** The operator's case: `{"coverage":` then `[` x `size`. */
export function jsonNesting(size: number): Buffer {
  const doc = Buffer.alloc(12 + size, 0x5b);
  doc.write('{"coverage":', 0, 'latin1');
  return doc;
}

/** LCOV records of `files` files with `lines` lines each (distinct paths, repeated DA blocks). */
export function lcovRecords(files: number, lines: number, from = 0): Buffer {
  const da = Array.from({ length: lines }, (_, i) => `DA:${i + 1},${i % 3}\n`).join('');
  const parts: string[] = [];
  for (let f = from; f < from + files; f++) parts.push(`SF:src/pkg${f % 97}/file${f}.c\n${da}end_of_record\n`);
  return Buffer.from(parts.join(''));
}

/** Cobertura `<class>` blocks, each of `lines` lines, without the closing tags. */
function coberturaClasses(classes: number, lines: number): Buffer {
  const body = Array.from({ length: lines }, (_, i) => `<line number="${i + 1}" hits="${i % 2}"/>`).join('');
  const parts: string[] = [];
  for (let c = 0; c < classes; c++) parts.push(`<class name="C${c}" filename="src/C${c}.java"><lines>${body}</lines></class>`);
  return Buffer.from(parts.join(''));
}

const COBERTURA_HEAD = '<?xml version="1.0"?>\n<coverage line-rate="1" branch-rate="1" version="1"><packages><package name="p"><classes>';

/** Nested elements, far deeper than any coverage format nests. */
export function xmlNesting(size: number): Buffer {
  return Buffer.concat([Buffer.from('<?xml version="1.0"?>\n<coverage>'), Buffer.from('<a>'.repeat(Math.floor(size / 3)))]);
}

const BILLION_LAUGHS = [
  '<?xml version="1.0"?>',
  '<!DOCTYPE coverage [',
  '<!ENTITY lol "lol">',
  ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
  ']>',
  '<coverage><packages><package name="&lol9;"/></packages></coverage>',
].join('\n');

/**
 * The worst cases of the issue, each gzip and plain where it applies: LCOV, JSON and XML. Sizes
 * are those the operator saw (a 51 KB gzip of 50 MiB of `[`, a ~764 KB LCOV inflating to
 * 500 MiB) or, for plain bodies, what an upload limit lets through comfortably.
 */
export function worstCaseBombs(): Bomb[] {
  return [
    { name: 'json-nesting.json.gz', body: gzipSync(jsonNesting(50 * MiB), { level: 9 }), code: 'report_too_large', limit: 'maxJsonDepth' },
    { name: 'json-nesting.json', body: jsonNesting(16 * MiB), code: 'report_too_large', limit: 'maxJsonDepth' },
    // ~700x, as the operator's: one short line repeated (the ratio cap stops it at its floor).
    { name: 'lcov-ratio.info.gz', body: gzipRepeated('TN:\nSF:src/a.c\n', Buffer.from('DA:1,1\n'.repeat(MiB)), 500 * MiB), code: 'report_too_large', limit: 'maxCompressionRatio' },
    // ~85x, distinct files and lines: under the ratio cap, so the memory budget stops it.
    { name: 'lcov-500mib.info.gz', body: gzipRepeated('TN:\n', lcovRecords(64, 1000), 500 * MiB), code: 'report_too_large', limit: 'maxMemoryBytes' },
    { name: 'lcov-lines.info', body: lcovRecords(1200, 4000), code: 'report_too_large', limit: 'maxMemoryBytes' },
    { name: 'cobertura-500mib.xml.gz', body: gzipRepeated(COBERTURA_HEAD, coberturaClasses(16, 1000), 500 * MiB), code: 'report_too_large', limit: 'maxMemoryBytes' },
    { name: 'xml-nesting.xml.gz', body: gzipSync(xmlNesting(50 * MiB), { level: 9 }), code: 'report_too_large', limit: 'maxXmlDepth' },
    { name: 'xml-nesting.xml', body: xmlNesting(16 * MiB), code: 'report_too_large', limit: 'maxXmlDepth' },
    { name: 'billion-laughs.xml', body: Buffer.from(BILLION_LAUGHS), code: 'report_invalid', limit: 'unsafe_xml' },
  ];
}
