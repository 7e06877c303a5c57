/**
 * Child process of bench/parsers-xml.bench.ts (and of bench/parsers-text.bench.ts for LCOV):
 * streams one file through one parser (into a counting sink or the real session builder, up to
 * its finished report) and prints its peak RSS as JSON. The benchmarks run it as plain JavaScript
 * (transpiled up front) so the figure does not include a TypeScript loader.
 *
 *   node xml-rss-child.js <cobertura|jacoco|clover|lcov|none> <sink|builder> <file>
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createSessionBuilder } from '../src/coverage/builder';
import { DEFAULT_LIMITS } from '../src/coverage/limits';
import { createCloverParser } from '../src/coverage/parsers/clover';
import { createCoberturaParser } from '../src/coverage/parsers/cobertura';
import { createJacocoParser } from '../src/coverage/parsers/jacoco';
import { createLcovParser } from '../src/coverage/parsers/lcov';
import type { CoverageSink, ParserFactory } from '../src/coverage/types';

const FACTORIES: Record<string, ParserFactory> = {
  cobertura: createCoberturaParser,
  jacoco: createJacocoParser,
  clover: createCloverParser,
  lcov: createLcovParser,
};

/**
 * Peak RSS in bytes. getrusage's maxRSS survives exec on Linux, so a child spawned from a big
 * parent would report the parent's size; /proc's VmHWM belongs to the new address space.
 */
export function peakRss(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (kb) return Number(kb[1]) * 1024;
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS * 1024;
}

function main(format: string, mode: string, file: string): void {
  let files = 0;
  const factory = FACTORIES[format];
  if (factory !== undefined) {
    const builder = createSessionBuilder({ sessionId: 0, session: { format, file } });
    const counting: CoverageSink = { file: () => ({ line: () => undefined }) };
    const parser = factory(mode === 'builder' ? builder.sink : counting, { fileName: file, limits: DEFAULT_LIMITS });
    const fd = openSync(file, 'r');
    const chunk = Buffer.allocUnsafe(64 * 1024);
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) parser.write(chunk.subarray(0, n));
    closeSync(fd);
    parser.end();
    if (mode === 'builder') files = [...builder.finish()].length;
  }
  process.stdout.write(JSON.stringify({ maxRss: peakRss(), files }));
}

main(process.argv[2], process.argv[3], process.argv[4]);
