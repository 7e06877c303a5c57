/** The legacy text payload (`--legacy`, the bash and Node uploaders), split as it streams; see ./payload. */
import { parseLegacyFixes, storedFixes } from './fixes';
import { ChunkReader, cleanNetwork, CodecovPayloadError, FileWriter, InflatedBudget, type CodecovPayload, type PayloadLimits, type PayloadSink } from './payload-stream';

/** The longest line of a legacy payload outside its reports (an env entry, a network path). */
const MAX_HEADER_LINE = 64 * 1024;


const MARK_ENV = '<<<<<< ENV';
const MARK_NETWORK = '<<<<<< network';
const MARK_EOF = Buffer.from('<<<<<< EOF');
const PATH_HEADER = '# path=';
// A marker may straddle two chunks, and the newline before it is not the report's: held back.
const HOLD_BACK = MARK_EOF.length + 2;

/** The legacy text, line by line between reports and byte for byte within them. */
export async function splitLegacy<T>(text: ChunkReader, sink: PayloadSink<T>, limits: PayloadLimits, budget: InflatedBudget): Promise<CodecovPayload<T>> {
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
/** The uploaders add one newline after each report's content; the report is what came before it. */
function stripOneNewline(b: Buffer): Buffer {
  if (b.length > 0 && b[b.length - 1] === 0x0a) b = b.subarray(0, b.length - 1);
  if (b.length > 0 && b[b.length - 1] === 0x0d) b = b.subarray(0, b.length - 1);
  return b;
}
