import type { FormatName, ParserFactory } from '../types';

/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading, see below */
/**
 * The push parser of every format Tributary reads, each module required on first use: a parse
 * loads only its own format's parser, so `tributary parse` of an LCOV file does not pay for the
 * XML scanner and the JSON machinery at start-up. `require`, not `import()`: parsers are picked
 * synchronously once the format is known.
 */
const PARSER_MODULES: Readonly<Record<FormatName, () => ParserFactory>> = {
  lcov: () => (require('./lcov') as typeof import('./lcov')).createLcovParser,
  cobertura: () => (require('./cobertura') as typeof import('./cobertura')).createCoberturaParser,
  jacoco: () => (require('./jacoco') as typeof import('./jacoco')).createJacocoParser,
  clover: () => (require('./clover') as typeof import('./clover')).createCloverParser,
  istanbul: () => (require('./istanbul') as typeof import('./istanbul')).createIstanbulParser,
  go: () => (require('./go') as typeof import('./go')).createGoParser,
  coveragepy: () => (require('./coveragepy-json') as typeof import('./coveragepy-json')).createCoveragePyJsonParser,
  codecov: () => (require('./codecov-json') as typeof import('./codecov-json')).createCodecovJsonParser,
  simplecov: () => (require('./simplecov') as typeof import('./simplecov')).createSimplecovParser,
  gcov: () => (require('./gcov') as typeof import('./gcov')).createGcovParser,
};
/* eslint-enable @typescript-eslint/no-require-imports */

export function parserFor(format: FormatName): ParserFactory | undefined {
  return Object.prototype.hasOwnProperty.call(PARSER_MODULES, format) ? PARSER_MODULES[format]() : undefined;
}
