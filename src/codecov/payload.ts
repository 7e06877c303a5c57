import { gunzipSync, inflateSync } from 'node:zlib';
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
 * Pure: bytes in, parts out, every bound checked; a payload that breaks the format is a
 * CodecovPayloadError naming what is wrong, and nothing of it is registered.
 */

export interface CoverageFile {
  /** The path the uploader read the report from (its upload name when none is given). */
  filename: string;
  body: Buffer;
}

export interface CodecovPayload {
  files: CoverageFile[];
  /** Repository-relative paths, empty entries dropped. */
  network: string[];
  /** By source path as the uploader computed them, with the warnings for entries ignored. */
  fixes: StoredFixes;
  /** The environment section (legacy text) or none. */
  env: Record<string, string>;
  encoding: 'v1-json' | 'legacy-text';
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


const V1PayloadSchema = z.object({
  coverage_files: z
    .array(
      z.object({
        filename: z.string().max(4096),
        format: z.literal('base64+compressed', { error: 'format: only "base64+compressed" is supported' }),
        data: z.string(),
        labels: z.unknown().optional(),
      }),
    )
    .min(1, 'the payload has no coverage file'),
  network_files: z.array(z.string().max(4096)).max(1_000_000).nullable().optional(),
  report_fixes: z
    .object({ format: z.literal('legacy', { error: 'report_fixes.format: only "legacy" is supported' }), value: V1FixesSchema })
    .nullable()
    .optional(),
  metadata: z.unknown().optional(),
});

/** Either encoding, told apart by its first byte (JSON is an object; the text never starts with `{`). */
export function splitPayload(body: Uint8Array, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): CodecovPayload {
  const bytes = isGzip(body) ? inflate(() => gunzipSync(body, { maxOutputLength: limits.maxInflatedBytes }), 'the gzip payload', limits) : Buffer.from(body);
  const first = bytes.subarray(0, 64).toString('utf8').trimStart();
  if (first.length === 0) throw new CodecovPayloadError('the payload is empty');
  return first.startsWith('{') ? splitV1Payload(bytes, limits) : splitLegacyPayload(bytes, limits);
}

export function splitV1Payload(bytes: Buffer, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): CodecovPayload {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new CodecovPayloadError(`the payload is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = V1PayloadSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CodecovPayloadError(`invalid payload at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const { coverage_files: entries, network_files: network, report_fixes: fixes } = parsed.data;
  if (entries.length > limits.maxFiles) throw new CodecovPayloadError(`the payload has ${entries.length} coverage files, more than ${limits.maxFiles}`, true);
  let inflated = 0;
  const files = entries.map((entry, i) => {
    const compressed = Buffer.from(entry.data, 'base64');
    const body = inflate(() => inflateSync(compressed, { maxOutputLength: limits.maxInflatedBytes - inflated }), `coverage file ${i} (${entry.filename})`, limits);
    inflated += body.byteLength;
    if (body.byteLength === 0) throw new CodecovPayloadError(`coverage file ${i} (${entry.filename}) is empty`);
    return { filename: entry.filename, body };
  });
  return { files, network: cleanNetwork(network ?? []), fixes: storedFixes(fixesFromV1(fixes?.value ?? {})), env: {}, encoding: 'v1-json' };
}

const MARK_ENV = '<<<<<< ENV';
const MARK_NETWORK = '<<<<<< network';
const MARK_EOF = '<<<<<< EOF';
const PATH_HEADER = '# path=';

export function splitLegacyPayload(bytes: Buffer, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): CodecovPayload {
  const env: Record<string, string> = {};
  let network: string[] = [];
  const files: CoverageFile[] = [];
  const fixTexts: string[] = [];
  let pending: string[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const { line, next } = lineAt(bytes, pos);
    if (line.startsWith(PATH_HEADER)) {
      if (pending.some((l) => l.trim() !== '')) throw new CodecovPayloadError(`unexpected text before "${PATH_HEADER}": expected "${MARK_ENV}" or "${MARK_NETWORK}" to close it`);
      pending = [];
      const name = line.slice(PATH_HEADER.length).trim();
      // Reports are kept byte for byte: their end is the EOF marker line, not a re-joined line list.
      const end = findLine(bytes, next, MARK_EOF);
      const contentEnd = end === -1 ? bytes.length : end;
      const content = stripOneNewline(bytes.subarray(next, contentEnd));
      pos = end === -1 ? bytes.length : lineAt(bytes, end).next;
      if (name === 'fixes') {
        fixTexts.push(content.toString('utf8'));
        continue;
      }
      if (name === '') throw new CodecovPayloadError(`a "${PATH_HEADER}" line names no file`);
      if (content.length === 0) throw new CodecovPayloadError(`coverage file ${files.length} (${name}) is empty`);
      if (files.length >= limits.maxFiles) throw new CodecovPayloadError(`the payload has more than ${limits.maxFiles} coverage files`, true);
      files.push({ filename: name, body: Buffer.from(content) });
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
      if (files.length > 0) throw new CodecovPayloadError(`unexpected text after a report's "${MARK_EOF}": ${JSON.stringify(line.slice(0, 80))}`);
      pending.push(line);
    }
    pos = next;
  }
  if (files.length === 0) throw new CodecovPayloadError(`the payload has no coverage file (no "${PATH_HEADER}" section)`);
  return { files, network, fixes: storedFixes(parseLegacyFixes(fixTexts.join('\n'))), env, encoding: 'legacy-text' };
}

function cleanNetwork(paths: readonly string[]): string[] {
  return paths.map((p) => p.trim()).filter((p) => p !== '');
}

function inflate(run: () => Buffer, what: string, limits: PayloadLimits): Buffer {
  try {
    return run();
  } catch (err) {
    if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new CodecovPayloadError(`${what} inflates past ${limits.maxInflatedBytes} bytes`, true);
    }
    throw new CodecovPayloadError(`${what} is not valid compressed data: ${(err as Error).message}`);
  }
}

/** The line starting at `pos` (without its `\n` or `\r\n`) and where the next one starts. */
function lineAt(bytes: Buffer, pos: number): { line: string; next: number } {
  const nl = bytes.indexOf(0x0a, pos);
  const end = nl === -1 ? bytes.length : nl;
  const line = bytes.subarray(pos, end > pos && bytes[end - 1] === 0x0d ? end - 1 : end).toString('utf8');
  return { line, next: nl === -1 ? bytes.length : nl + 1 };
}

/** The offset of the first line from `pos` on that is exactly `marker` (a trailing `\r` allowed), or -1. */
function findLine(bytes: Buffer, pos: number, marker: string): number {
  const needle = Buffer.from(marker);
  for (let at = bytes.indexOf(needle, pos); at !== -1; at = bytes.indexOf(needle, at + 1)) {
    const startsLine = at === pos || bytes[at - 1] === 0x0a;
    const after = at + needle.length;
    const endsLine = after === bytes.length || bytes[after] === 0x0a || (bytes[after] === 0x0d && (after + 1 === bytes.length || bytes[after + 1] === 0x0a));
    if (startsLine && endsLine) return at;
  }
  return -1;
}

/** The uploaders add one newline after each report's content; the report is what came before it. */
function stripOneNewline(b: Buffer): Buffer {
  if (b.length > 0 && b[b.length - 1] === 0x0a) b = b.subarray(0, b.length - 1);
  if (b.length > 0 && b[b.length - 1] === 0x0d) b = b.subarray(0, b.length - 1);
  return b;
}
