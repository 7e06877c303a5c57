/**
 * Benchmark inputs for the line-based parsers, built in memory.
 *
 * LCOV: the real corpus reports (nyc, c8 and coverage.py with checksums), record by record,
 * replicated under varied directory prefixes until the target size is reached, so the mix of
 * DA / BRDA / FN / FNDA lines and path lengths is that of real tools.
 *
 * Go: the real profile in test/fixtures/text/go/stdlib.out, replicated the same way.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const CORPUS = path.resolve(__dirname, '../test/fixtures/text/corpus');
export const LCOV_SOURCES = ['negotiator-nyc/lcov.info', 'negotiator-c8/lcov.info', 'tomli-misc/coverage-py.lcov'];

/**
 * Records ("TN:...end_of_record\n") of the corpus LCOV files, each source's paths under its own
 * directory (nyc and c8 report the same files; one report names each file once).
 */
function corpusRecords(): string[] {
  const records: string[] = [];
  for (const name of LCOV_SOURCES) {
    const text = readFileSync(path.join(CORPUS, name), 'utf8');
    const dir = path.dirname(name);
    for (const part of text.split('end_of_record\n')) {
      if (part.includes('SF:')) records.push(`${part.replace(/^SF:/m, `SF:${dir}/`)}end_of_record\n`);
    }
  }
  return records;
}

const DIRS = ['packages/core', 'packages/web-ui', 'services/billing', 'libs/shared/utils', 'apps/api/src', 'tools/cli'];

export function makeLcovInput(targetBytes: number): Buffer {
  const records = corpusRecords();
  const parts: Buffer[] = [];
  let size = 0;
  for (let copy = 0; size < targetBytes; copy++) {
    const prefix = `${DIRS[copy % DIRS.length]}/m${copy}/`;
    for (const record of records) {
      const b = Buffer.from(record.replace(/^SF:/m, `SF:${prefix}`), 'utf8');
      parts.push(b);
      size += b.length;
    }
  }
  return Buffer.concat(parts, size);
}

/**
 * A real profile (`go test -coverprofile -covermode=count` over the standard library's sort,
 * container/list and strconv) replicated under varied module paths.
 */
export function makeGoInput(targetBytes: number): Buffer {
  const text = readFileSync(path.join(CORPUS, '../go/stdlib.out'), 'utf8');
  const blocks = text.split('\n').filter((l) => l !== '' && !l.startsWith('mode:'));
  const parts: Buffer[] = [Buffer.from('mode: count\n')];
  let size = parts[0]!.length;
  for (let copy = 0; size < targetBytes; copy++) {
    const prefix = `github.com/acme/${DIRS[copy % DIRS.length]}/v${copy}/`;
    const b = Buffer.from(`${blocks.map((l) => prefix + l).join('\n')}\n`, 'utf8');
    parts.push(b);
    size += b.length;
  }
  return Buffer.concat(parts, size);
}
