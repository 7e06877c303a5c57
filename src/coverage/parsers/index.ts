import type { FormatName, ParserFactory } from '../types';
import { createCloverParser } from './clover';
import { createCoberturaParser } from './cobertura';
import { createCodecovJsonParser } from './codecov-json';
import { createCoveragePyJsonParser } from './coveragepy-json';
import { createGcovParser } from './gcov';
import { createGoParser } from './go';
import { createIstanbulParser } from './istanbul';
import { createJacocoParser } from './jacoco';
import { createLcovParser } from './lcov';
import { createSimplecovParser } from './simplecov';

/** The push parser of every format Tributary reads. */
export const PARSERS: Readonly<Record<FormatName, ParserFactory>> = {
  lcov: createLcovParser,
  cobertura: createCoberturaParser,
  jacoco: createJacocoParser,
  clover: createCloverParser,
  istanbul: createIstanbulParser,
  go: createGoParser,
  coveragepy: createCoveragePyJsonParser,
  codecov: createCodecovJsonParser,
  simplecov: createSimplecovParser,
  gcov: createGcovParser,
};

export function parserFor(format: FormatName): ParserFactory | undefined {
  return Object.prototype.hasOwnProperty.call(PARSERS, format) ? PARSERS[format] : undefined;
}

export {
  createCloverParser,
  createCoberturaParser,
  createCodecovJsonParser,
  createCoveragePyJsonParser,
  createGcovParser,
  createGoParser,
  createIstanbulParser,
  createJacocoParser,
  createLcovParser,
  createSimplecovParser,
};
