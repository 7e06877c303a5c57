/** The v1 JSON payload (codecov-cli's default sender), split as it streams; see ./payload. */
import { Readable } from 'node:stream';
import type { Token } from 'stream-json/parser.js' with { 'resolution-mode': 'import' };
import { z } from 'zod';
import { fixesFromV1, storedFixes, V1FixesSchema, type StoredFixes } from './fixes';
import { ChunkReader, cleanNetwork, CodecovPayloadError, FileWriter, InflatedBudget, type CodecovPayload, type PayloadLimits, type PayloadSink } from './payload-stream';

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
export async function splitV1<T>(text: ChunkReader, sink: PayloadSink<T>, limits: PayloadLimits, budget: InflatedBudget): Promise<CodecovPayload<T>> {
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
