import { once } from 'node:events';
import { PassThrough, Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { Token } from 'stream-json/parser.js' with { 'resolution-mode': 'import' };
import { z } from 'zod';
import { isGzip } from '../vocabulary';
import { fixesFromV1, parseLegacyFixes, storedFixes, V1FixesSchema, type StoredFixes } from './fixes';

/**
 * The payloads the Codecov uploaders PUT to the upload location, split into what Tributary
 * registers: one coverage report per file (in payload order), the repository's file list
 * ("network", for path resolution) and Codecov's line fixes. Two encodings exist:
 * - v1 JSON (codecov-cli's default sender): `{"coverage_files": [{"filename", "format":
 *   "base64+compressed", "data"}], "network_files": [...], "report_fixes": {"format": "legacy",
 *   "value": {path: {"eof", "lines"}}}}`, each file zlib-compressed then base64-encoded;
 * - the legacy text (`--legacy`, the bash and Node uploaders): optional `KEY=VALUE` lines closed by
 *   `<<<<<< ENV`, optional file list closed by `<<<<<< network`, then per report a `# path=<file>`
 *   line, its content and `<<<<<< EOF`; a section named `fixes` holds the fixes (src/codecov/fixes.ts).
 *   The Node uploader gzips the whole payload.
 * Streamed: a payload is read once, as it arrives, and each coverage file goes to its sink (the
 * blob store) while it is being read, so memory stays at a few chunks plus the file list and the
 * fixes, whatever the payload's size. Every bound is checked on the way; a payload that breaks the
 * format is a CodecovPayloadError naming what is wrong, and what its sinks stored is discarded.
 */

export interface CodecovPayload<T> {
  /** In payload order. */
  files: Array<{ filename: string; body: T }>;
  /** Repository-relative paths, empty entries dropped. */
  network: string[];
  /** By source path as the uploader computed them, with the warnings for entries ignored. */
  fixes: StoredFixes;
  /** The environment section (legacy text) or none. */
  env: Record<string, string>;
  encoding: 'v1-json' | 'legacy-text';
}

/** Where coverage files go as they stream: the blob store in production, memory in tests. */
export interface PayloadSink<T> {
  /** Stores one file's content, read from `content` to its end; rejects with the stream's error. */
  store(content: Readable): Promise<T>;
  /** Removes what `store` kept, when the payload fails after all (best effort). */
  discard(stored: readonly T[]): Promise<void>;
}

export class CodecovPayloadError extends Error {
  constructor(
    message: string,
    /** True when a size bound was crossed (answered 413), false for a malformed payload (400). */
    readonly tooLarge = false,
  ) {
    super(message);
    this.name = 'CodecovPayloadError';
  }
}

export interface PayloadLimits {
  /** Largest payload or report once inflated, in bytes. */
  maxInflatedBytes: number;
  /** Most coverage files one payload may carry. */
  maxFiles: number;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = { maxInflatedBytes: 1024 * 1024 * 1024, maxFiles: 1000 };

/** The longest line of a legacy payload outside its reports (an env entry, a network path). */
const MAX_HEADER_LINE = 64 * 1024;

/**
 * Splits a payload as it streams, told apart by its first significant byte (JSON is an object;
 * the text never starts with `{`), gzip recognised from its magic. The source is read to its end
 * or to the first error; on an error, every file already stored is discarded before it throws.
 */
export async function splitPayload<T>(source: AsyncIterable<Buffer | string>, sink: PayloadSink<T>, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): Promise<CodecovPayload<T>> {
  const stored: T[] = [];
  const tracked: PayloadSink<T> = {
    store: async (content) => {
      const body = await sink.store(content);
      stored.push(body);
      return body;
    },
    discard: sink.discard,
  };
  try {
    // The gunzipped text and the files inside it are bounded apart, as each was before streaming.
    const text = await inflated(source, new InflatedBudget(limits.maxInflatedBytes));
    const budget = new InflatedBudget(limits.maxInflatedBytes);
    const first = await firstSignificantByte(text);
    if (first === undefined) throw new CodecovPayloadError('the payload is empty');
    return first === 0x7b ? await splitV1(text, tracked, limits, budget) : await splitLegacy(text, tracked, limits, budget);
  } catch (err) {
    await sink.discard(stored).catch(() => undefined);
    throw err;
  }
}

/** Counts inflated bytes across the whole payload (one bound for the sum, as before streaming). */
class InflatedBudget {
  private used = 0;
  constructor(readonly limit: number) {}
  take(n: number, what: string): void {
    this.used += n;
    if (this.used > this.limit) throw new CodecovPayloadError(`${what} inflates past ${this.limit} bytes`, true);
  }
}

/** A readable of chunks that can be peeked at and pushed back. */
class ChunkReader {
  private readonly iterator: AsyncIterator<Buffer | string>;
  private readonly pending: Buffer[] = [];
  constructor(source: AsyncIterable<Buffer | string>) {
    this.iterator = source[Symbol.asyncIterator]();
  }
  async next(): Promise<Buffer | undefined> {
    const held = this.pending.pop();
    if (held !== undefined) return held;
    for (;;) {
      const { value, done } = await this.iterator.next();
      if (done === true) return undefined;
      const buf = typeof value === 'string' ? Buffer.from(value) : value;
      if (buf.byteLength > 0) return buf;
    }
  }
  unshift(chunk: Buffer): void {
    if (chunk.byteLength > 0) this.pending.push(chunk);
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (let c = await this.next(); c !== undefined; c = await this.next()) yield c;
  }
}

/** The payload's text: the source itself, or its gunzipped form (bounded) when it starts with gzip's magic. */
async function inflated(source: AsyncIterable<Buffer | string>, budget: InflatedBudget): Promise<ChunkReader> {
  const raw = new ChunkReader(source);
  let head: Buffer = Buffer.alloc(0);
  while (head.byteLength < 2) {
    const c = await raw.next();
    if (c === undefined) break;
    head = Buffer.concat([head, c]);
  }
  raw.unshift(head);
  if (!isGzip(head)) return raw;
  const gunzip = createGunzip();
  const feed = Readable.from(raw);
  let sourceError: unknown;
  feed.on('error', (err) => {
    sourceError = err;
    gunzip.destroy(err);
  });
  feed.pipe(gunzip);
  return new ChunkReader(
    (async function* () {
      try {
        for await (const chunk of gunzip as AsyncIterable<Buffer>) {
          budget.take(chunk.byteLength, 'the gzip payload');
          yield chunk;
        }
      } catch (err) {
        // The source's own failures (a size limit, a broken connection) pass as they are.
        if (sourceError !== undefined) throw sourceError;
        if (err instanceof CodecovPayloadError) throw err;
        throw new CodecovPayloadError(`the gzip payload is not valid compressed data: ${(err as Error).message}`);
      } finally {
        feed.unpipe(gunzip);
        gunzip.destroy();
      }
    })(),
  );
}

async function firstSignificantByte(text: ChunkReader): Promise<number | undefined> {
  const seen: Buffer[] = [];
  let found: number | undefined;
  for (let c = await text.next(); c !== undefined; c = await text.next()) {
    seen.push(c);
    const i = c.findIndex((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    if (i !== -1) {
      found = c[i];
      break;
    }
  }
  for (let i = seen.length - 1; i >= 0; i--) text.unshift(seen[i]!);
  return found;
}

/**
 * One coverage file on its way to the sink: bytes written here are counted against the budget
 * and reach `sink.store`'s stream, with backpressure (a write waits while the store is behind).
 */
class FileWriter<T> {
  readonly done: Promise<T>;
  bytes = 0;
  private readonly entry: Writable;
  private readonly out = new PassThrough();
  private failure: Error | undefined;

  constructor(sink: PayloadSink<T>, budget: InflatedBudget, what: string, decompress: boolean) {
    const counter = new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) => {
        try {
          budget.take(chunk.byteLength, what);
          this.bytes += chunk.byteLength;
          done(null, chunk);
        } catch (err) {
          done(err as Error);
        }
      },
    });
    counter.on('error', (err) => this.fail(err));
    counter.pipe(this.out);
    if (decompress) {
      const inflate = createInflate();
      inflate.on('error', (err) => this.fail(new CodecovPayloadError(`${what} is not valid compressed data: ${err.message}`)));
      inflate.pipe(counter);
      this.entry = inflate;
    } else {
      this.entry = counter;
    }
    this.done = sink.store(this.out).then(
      (body) => {
        if (this.failure !== undefined) throw this.failure;
        return body;
      },
      (err: unknown) => {
        throw this.failure ?? err;
      },
    );
    // Awaited by `end` or `abort`; until then a rejection must not count as unhandled.
    this.done.catch(() => undefined);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.out.destroy(this.failure);
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.entry.write(chunk)) return;
    await Promise.race([once(this.entry, 'drain'), this.done]);
    if (this.failure !== undefined) throw this.failure;
  }

  async end(): Promise<T> {
    this.entry.end();
    return this.done;
  }

  async abort(): Promise<void> {
    this.fail(new CodecovPayloadError('the payload ended in error'));
    await this.done.catch(() => undefined);
  }
}

// stream-json is an ES module; this CommonJS code loads it the one way Node 20 allows, once.
let streamJson: Promise<[typeof import('stream-json/parser.js', { with: { 'resolution-mode': 'import' } }), typeof import('stream-json/assembler.js', { with: { 'resolution-mode': 'import' } })]> | undefined;
const loadStreamJson = () => (streamJson ??= Promise.all([import('stream-json/parser.js'), import('stream-json/assembler.js')]));

const V1_STREAM_OPTIONS = { packKeys: true, streamKeys: false, packStrings: false, streamStrings: true, packNumbers: true, streamNumbers: false };

interface V1Entry<T> {
  filename?: string;
  format?: string;
  /** The stored body, once `data` was read. */
  body?: T;
}

/** The v1 JSON, token by token: `data` strings are decoded and inflated as their chunks arrive. */
async function splitV1<T>(text: ChunkReader, sink: PayloadSink<T>, limits: PayloadLimits, budget: InflatedBudget): Promise<CodecovPayload<T>> {
  const [{ default: jsonParser }, { default: Assembler }] = await loadStreamJson();
  const parser = jsonParser.asStream(V1_STREAM_OPTIONS);
  const feed = Readable.from(text);
  let sourceError: unknown;
  feed.on('error', (err) => {
    sourceError = err;
    parser.destroy(err);
  });
  feed.pipe(parser);
  let parserError: Error | undefined;
  let parserEnded = false;
  parser.on('error', (err: Error) => (parserError ??= err));
  parser.on('end', () => (parserEnded = true));
  const failed = (): Error => {
    if (sourceError !== undefined) return sourceError as Error;
    if (parserError instanceof CodecovPayloadError) return parserError;
    if (parserError !== undefined) return new CodecovPayloadError(`the payload is not valid JSON: ${parserError.message}`);
    return new CodecovPayloadError('the payload is not valid JSON: it ends early');
  };
  // Tokens are read synchronously while the parser has some: a payload is hundreds of thousands
  // of tokens, and a promise per token (async iteration) cost more than the parsing.
  const nextToken = async (): Promise<Token> => {
    for (;;) {
      if (parserError !== undefined) throw failed();
      const token = parser.read() as Token | null;
      if (token !== null) return token;
      if (parserEnded || parser.destroyed) throw failed();
      await new Promise<void>((resolve) => {
        const done = () => {
          parser.off('readable', done);
          parser.off('end', done);
          parser.off('error', done);
          parser.off('close', done);
          resolve();
        };
        parser.on('readable', done);
        parser.on('end', done);
        parser.on('error', done);
        parser.on('close', done);
      });
    }
  };
  const at = (path: string, message: string) => new CodecovPayloadError(`invalid payload at ${path}: ${message}`);

  /** A whole string value (the start token already read), bounded. */
  const readString = async (path: string, max: number): Promise<string> => {
    let s = '';
    for (let t = await nextToken(); t.name !== 'endString'; t = await nextToken()) {
      if (t.name === 'stringChunk') s += t.value;
      if (s.length > max) throw at(path, `longer than ${max} characters`);
    }
    return s;
  };
  /** A whole value (its first token given), assembled into plain JSON. */
  const readValue = async (first: Token): Promise<unknown> => {
    const asm = new Assembler();
    let token = first;
    let str: string | null = null;
    for (;;) {
      if (token.name === 'startString') str = '';
      else if (token.name === 'stringChunk' && str !== null) str += token.value;
      else if (token.name === 'endString') {
        asm.consume({ name: 'stringValue', value: str ?? '' });
        str = null;
      } else asm.consume(token);
      if (asm.done) return asm.current;
      token = await nextToken();
    }
  };
  const skipValue = async (first: Token): Promise<void> => {
    let depth = 0;
    let token = first;
    for (;;) {
      if (token.name === 'startObject' || token.name === 'startArray') depth++;
      else if (token.name === 'endObject' || token.name === 'endArray') depth--;
      else if (token.name === 'startString') {
        for (let t = await nextToken(); t.name !== 'endString'; t = await nextToken());
      }
      if (depth === 0) return;
      token = await nextToken();
    }
  };
  /** `data` (its startString read): base64 decoded in step with its chunks, inflated into the sink. */
  const readData = async (index: number, filename: string | undefined): Promise<T> => {
    const what = `coverage file ${index}${filename === undefined ? '' : ` (${filename})`}`;
    const writer = new FileWriter(sink, budget, what, true);
    // The parser hands strings over in small pieces: they are decoded some 64 KiB at a time.
    let pieces: string[] = [];
    let held = 0;
    let carry = '';
    const flush = async (last: boolean) => {
      let s = carry + pieces.join('');
      pieces = [];
      held = 0;
      if (/\s/.test(s)) s = s.replace(/\s+/g, '');
      // Base64 decodes in groups of four characters; a group split across pieces waits for the rest.
      const whole = last ? s.length : s.length - (s.length % 4);
      carry = s.slice(whole);
      if (whole > 0) await writer.write(Buffer.from(s.slice(0, whole), 'base64'));
    };
    try {
      for (let t = await nextToken(); t.name !== 'endString'; t = await nextToken()) {
        if (t.name !== 'stringChunk') continue;
        pieces.push(t.value);
        held += t.value.length;
        if (held >= 64 * 1024) await flush(false);
      }
      await flush(true);
      const body = await writer.end();
      if (writer.bytes === 0) throw new CodecovPayloadError(`${what} is empty`);
      return body;
    } catch (err) {
      await writer.abort();
      throw err;
    }
  };

  const files: Array<{ filename: string; body: T }> = [];
  let network: string[] = [];
  let fixesValue: unknown = null;
  let sawFiles = false;
  try {
    let token = await nextToken();
    if (token.name !== 'startObject') throw new CodecovPayloadError('the payload is not valid JSON: expected an object');
    for (token = await nextToken(); token.name !== 'endObject'; token = await nextToken()) {
      if (token.name !== 'keyValue') throw new CodecovPayloadError('the payload is not valid JSON');
      const key = token.value;
      const value = await nextToken();
      if (key === 'coverage_files') {
        if (value.name !== 'startArray') throw at('coverage_files', 'expected an array');
        sawFiles = true;
        for (let item = await nextToken(); item.name !== 'endArray'; item = await nextToken()) {
          const index = files.length;
          const path = `coverage_files.${index}`;
          if (item.name !== 'startObject') throw at(path, 'expected an object');
          if (index >= limits.maxFiles) throw new CodecovPayloadError(`the payload has more than ${limits.maxFiles} coverage files`, true);
          const entry: V1Entry<T> = {};
          for (let k = await nextToken(); k.name !== 'endObject'; k = await nextToken()) {
            if (k.name !== 'keyValue') throw new CodecovPayloadError('the payload is not valid JSON');
            const v = await nextToken();
            const field = k.value;
            if (field === 'filename' || field === 'format') {
              if (v.name !== 'startString') throw at(`${path}.${field}`, 'expected a string');
              entry[field] = await readString(`${path}.${field}`, 4096);
            } else if (field === 'data') {
              if (v.name !== 'startString') throw at(`${path}.data`, 'expected a string');
              // The format decides how `data` reads; codecov-cli writes it first, and nothing else exists.
              if (entry.format !== undefined && entry.format !== 'base64+compressed') throw at(`${path}.format`, 'format: only "base64+compressed" is supported');
              entry.body = await readData(index, entry.filename);
            } else {
              await skipValue(v);
            }
          }
          if (entry.filename === undefined) throw at(`${path}.filename`, 'required');
          if (entry.format !== 'base64+compressed') throw at(`${path}.format`, entry.format === undefined ? 'required' : 'format: only "base64+compressed" is supported');
          if (entry.body === undefined) throw at(`${path}.data`, 'required');
          files.push({ filename: entry.filename, body: entry.body });
        }
      } else if (key === 'network_files') {
        if (value.name === 'nullValue') continue;
        if (value.name !== 'startArray') throw at('network_files', 'expected an array');
        for (let item = await nextToken(); item.name !== 'endArray'; item = await nextToken()) {
          if (item.name !== 'startString') throw at(`network_files.${network.length}`, 'expected a string');
          if (network.length >= 1_000_000) throw at('network_files', 'more than 1000000 entries');
          network.push(await readString(`network_files.${network.length}`, 4096));
        }
        network = cleanNetwork(network);
      } else if (key === 'report_fixes') {
        fixesValue = await readValue(value);
      } else {
        await skipValue(value);
      }
    }
  } catch (err) {
    feed.unpipe(parser);
    parser.destroy();
    throw err;
  }
  if (!sawFiles || files.length === 0) throw at('coverage_files', 'the payload has no coverage file');
  let fixes: StoredFixes = { files: {}, warnings: [] };
  if (fixesValue !== null) {
    const parsed = V1FixesEnvelopeSchema.safeParse(fixesValue);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw at(['report_fixes', ...issue.path].join('.'), issue.message);
    }
    fixes = storedFixes(fixesFromV1(parsed.data.value));
  }
  return { files, network, fixes, env: {}, encoding: 'v1-json' };
}

const V1FixesEnvelopeSchema = z.object({
  format: z.literal('legacy', { error: 'report_fixes.format: only "legacy" is supported' }),
  value: V1FixesSchema,
});

const MARK_ENV = '<<<<<< ENV';
const MARK_NETWORK = '<<<<<< network';
const MARK_EOF = Buffer.from('<<<<<< EOF');
const PATH_HEADER = '# path=';
// A marker may straddle two chunks, and the newline before it is not the report's: held back.
const HOLD_BACK = MARK_EOF.length + 2;

/** The legacy text, line by line between reports and byte for byte within them. */
async function splitLegacy<T>(text: ChunkReader, sink: PayloadSink<T>, limits: PayloadLimits, budget: InflatedBudget): Promise<CodecovPayload<T>> {
  const env: Record<string, string> = {};
  let network: string[] = [];
  const files: Array<{ filename: string; body: T }> = [];
  const fixTexts: string[] = [];
  let pending: string[] = [];
  let buf: Buffer = Buffer.alloc(0);
  let ended = false;
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const c = await text.next();
    if (c === undefined) {
      ended = true;
      return false;
    }
    buf = buf.byteLength === 0 ? c : Buffer.concat([buf, c]);
    return true;
  };
  /** The next line (without `\n` or `\r\n`), or undefined at the end. */
  const nextLine = async (): Promise<string | undefined> => {
    for (;;) {
      const nl = buf.indexOf(0x0a);
      if (nl !== -1) {
        const line = buf.subarray(0, nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl).toString('utf8');
        buf = buf.subarray(nl + 1);
        return line;
      }
      if (buf.byteLength > MAX_HEADER_LINE) throw new CodecovPayloadError(`a line outside the reports is longer than ${MAX_HEADER_LINE} bytes`);
      if (!(await more())) {
        if (buf.byteLength === 0) return undefined;
        const line = buf.toString('utf8');
        buf = Buffer.alloc(0);
        return line;
      }
    }
  };
  /**
   * A report's content up to its `<<<<<< EOF` line (or the end), one trailing newline dropped:
   * the uploaders add one after each report, and the report is what came before it.
   */
  const readContent = async (write: (chunk: Buffer) => Promise<void>): Promise<void> => {
    let atLineStart = true;
    let from = 0;
    for (;;) {
      let cut = -1;
      let undecided = -1;
      for (let i = buf.indexOf(MARK_EOF, from); i !== -1; i = buf.indexOf(MARK_EOF, i + 1)) {
        const startsLine = i === 0 ? atLineStart : buf[i - 1] === 0x0a;
        if (!startsLine) continue;
        const after = i + MARK_EOF.length;
        const b0 = buf[after];
        const b1 = buf[after + 1];
        if (b0 === 0x0a || (b0 === 0x0d && b1 === 0x0a)) cut = i;
        else if (b0 === undefined || (b0 === 0x0d && b1 === undefined)) {
          if (ended) cut = i;
          else undecided = i;
        }
        if (cut !== -1 || undecided !== -1) break;
      }
      if (cut !== -1) {
        await write(stripOneNewline(buf.subarray(0, cut)));
        const nl = buf.indexOf(0x0a, cut);
        buf = nl === -1 ? Buffer.alloc(0) : buf.subarray(nl + 1);
        return;
      }
      if (ended) {
        await write(stripOneNewline(buf));
        buf = Buffer.alloc(0);
        return;
      }
      const keep = undecided !== -1 ? Math.max(0, undecided - 2) : Math.max(0, buf.byteLength - HOLD_BACK);
      if (keep > 0) {
        await write(buf.subarray(0, keep));
        atLineStart = buf[keep - 1] === 0x0a;
        buf = buf.subarray(keep);
      }
      // Occurrences already judged lie before what is kept; search again from the start of it.
      from = 0;
      await more();
    }
  };

  for (let line = await nextLine(); line !== undefined; line = await nextLine()) {
    if (line.startsWith(PATH_HEADER)) {
      if (pending.some((l) => l.trim() !== '')) throw new CodecovPayloadError(`unexpected text before "${PATH_HEADER}": expected "${MARK_ENV}" or "${MARK_NETWORK}" to close it`);
      pending = [];
      const name = line.slice(PATH_HEADER.length).trim();
      if (name === 'fixes') {
        const parts: Buffer[] = [];
        await readContent(async (chunk) => {
          budget.take(chunk.byteLength, 'the fixes section');
          parts.push(Buffer.from(chunk));
        });
        fixTexts.push(Buffer.concat(parts).toString('utf8'));
        continue;
      }
      if (name === '') throw new CodecovPayloadError(`a "${PATH_HEADER}" line names no file`);
      if (files.length >= limits.maxFiles) throw new CodecovPayloadError(`the payload has more than ${limits.maxFiles} coverage files`, true);
      const what = `coverage file ${files.length} (${name})`;
      const writer = new FileWriter(sink, budget, what, false);
      try {
        await readContent((chunk) => (chunk.byteLength === 0 ? Promise.resolve() : writer.write(chunk)));
        const body = await writer.end();
        if (writer.bytes === 0) throw new CodecovPayloadError(`${what} is empty`);
        files.push({ filename: name, body });
      } catch (err) {
        await writer.abort();
        throw err;
      }
      continue;
    }
    if (line === MARK_ENV) {
      for (const l of pending) {
        const eq = l.indexOf('=');
        if (eq > 0) env[l.slice(0, eq)] = l.slice(eq + 1);
      }
      pending = [];
    } else if (line === MARK_NETWORK) {
      network = cleanNetwork(pending);
      pending = [];
    } else if (files.length === 0 || line.trim() !== '') {
      if (files.length > 0) throw new CodecovPayloadError(`unexpected text after a report's "<<<<<< EOF": ${JSON.stringify(line.slice(0, 80))}`);
      if (pending.length >= 1_000_000) throw new CodecovPayloadError('the payload has more than 1000000 lines before its first report');
      pending.push(line);
    }
  }
  if (files.length === 0) throw new CodecovPayloadError(`the payload has no coverage file (no "${PATH_HEADER}" section)`);
  return { files, network, fixes: storedFixes(parseLegacyFixes(fixTexts.join('\n'))), env, encoding: 'legacy-text' };
}

function cleanNetwork(paths: readonly string[]): string[] {
  return paths.map((p) => p.trim()).filter((p) => p !== '');
}

/** The uploaders add one newline after each report's content; the report is what came before it. */
function stripOneNewline(b: Buffer): Buffer {
  if (b.length > 0 && b[b.length - 1] === 0x0a) b = b.subarray(0, b.length - 1);
  if (b.length > 0 && b[b.length - 1] === 0x0d) b = b.subarray(0, b.length - 1);
  return b;
}
