import { DEFAULT_LIMITS, resolveLimits, type ParseLimits } from '../../../../src/coverage/limits';
import type { CoverageSink, LineExtras, LineType, LineValue, ParserFactory } from '../../../../src/coverage/types';
import { ParseWarnings, type ParseWarning } from '../../../../src/coverage/warnings';

export interface RecordedLine {
  value: LineValue;
  type: LineType;
  extras?: LineExtras;
}

/** A CoverageSink that records every call, so parser tests see exactly what a parser emits. */
export class RecordingSink implements CoverageSink {
  readonly files = new Map<string, Map<number, RecordedLine>>();
  readonly opened: string[] = [];
  bases: string[] | undefined;
  constructor(private readonly drop: (path: string) => boolean = () => false) {}

  file(rawPath: string) {
    this.opened.push(rawPath);
    if (this.drop(rawPath)) return null;
    let lines = this.files.get(rawPath);
    if (!lines) this.files.set(rawPath, (lines = new Map()));
    const target = lines;
    return {
      line(n: number, value: LineValue, type: LineType = 'line', extras?: LineExtras): void {
        if (target.has(n)) throw new Error(`line ${n} of ${rawPath} emitted twice`);
        target.set(n, extras ? { value, type, extras } : { value, type });
      },
    };
  }

  sourceBases(bases: string[]): void {
    this.bases = bases;
  }

  /** { path: { line: value } } with type suffixes for non-plain lines, for compact assertions. */
  values(): Record<string, Record<number, string | number | true>> {
    const out: Record<string, Record<number, string | number | true>> = {};
    for (const [path, lines] of this.files) {
      const o: Record<number, string | number | true> = {};
      for (const [n, l] of lines) o[n] = l.type === 'line' ? l.value : `${String(l.value)}${l.type}`;
      out[path] = o;
    }
    return out;
  }
}

/** Runs a parser over a document split into chunks of `chunkSize` bytes. */
export function runParser(
  factory: ParserFactory,
  input: string | Uint8Array,
  options: { chunkSize?: number; limits?: Partial<ParseLimits>; sink?: RecordingSink; fileName?: string; warnings?: ParseWarnings } = {},
): RecordingSink {
  const sink = options.sink ?? new RecordingSink();
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const limits = options.limits ? resolveLimits(options.limits) : DEFAULT_LIMITS;
  const parser = factory(sink, { fileName: options.fileName ?? 'report.json', limits, warnings: options.warnings });
  const size = options.chunkSize ?? bytes.byteLength;
  for (let i = 0; i < bytes.byteLength; i += Math.max(1, size)) parser.write(bytes.subarray(i, i + Math.max(1, size)));
  parser.end();
  return sink;
}

/** `runParser`, also answering the warnings the parser counted. */
export function runParserWarnings(
  factory: ParserFactory,
  input: string | Uint8Array,
  options: Omit<Parameters<typeof runParser>[2] & object, 'warnings'> = {},
): { sink: RecordingSink; warnings: ParseWarning[] } {
  const warnings = new ParseWarnings();
  const sink = runParser(factory, input, { ...options, warnings });
  return { sink, warnings: warnings.list() };
}
