/**
 * The Codecov upload location's payload splitter (src/codecov/payload.ts), streaming: an LCOV
 * report of `--mb` MB sent as codecov-cli's v1 JSON (zlib + base64 in a JSON string) and as the
 * legacy text, fed in 64 KiB chunks (what a socket gives) to a sink that counts the bytes. Prints
 * CPU time (user + system, so a busy machine does not inflate it), MB/s of report, and the
 * process's peak RSS growth, which stays at a few chunks whatever the size.
 *
 *   npx tsx bench/codecov-payload.bench.ts [--mb 64] [--runs 3]
 */
import { Readable } from 'node:stream';
import { deflateSync } from 'node:zlib';
import { splitPayload } from '../src/codecov/payload';
import type { PayloadSink } from '../src/codecov/payload-stream';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const mb = arg('mb', 64);
const runs = arg('runs', 3);

// Varied numbers, so the compressed v1 form is as large as real reports make it.
let seed = 42;
const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
const parts: string[] = [];
let size = 0;
for (let f = 0; size < mb << 20; f++) {
  let rec = `SF:src/pkg${f % 97}/file${f}.c\n`;
  for (let l = 1; l <= 500; l++) rec += `DA:${l},${rand(1000)}\n`;
  rec += 'end_of_record\n';
  parts.push(rec);
  size += rec.length;
}
const report = Buffer.from(parts.join(''));
const v1 = Buffer.from(JSON.stringify({ coverage_files: [{ filename: 'lcov.info', format: 'base64+compressed', data: deflateSync(report).toString('base64') }], network_files: ['src/a.c'] }));
const legacy = Buffer.concat([Buffer.from('src/a.c\n<<<<<< network\n# path=lcov.info\n'), report, Buffer.from('\n<<<<<< EOF\n')]);

const sink: PayloadSink<number> = {
  async store(content) {
    let n = 0;
    for await (const c of content) n += (c as Buffer).length;
    return n;
  },
  async discard() {},
};
const chunked = (b: Buffer) => {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += 65536) out.push(b.subarray(i, i + 65536));
  return out;
};

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const [name, body] of [
    ['v1 JSON', v1],
    ['legacy text', legacy],
  ] as const) {
    let best = Infinity;
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    for (let r = 0; r < runs; r++) {
      const cpu = process.cpuUsage();
      const split = await splitPayload(Readable.from(chunked(body)), sink);
      const used = process.cpuUsage(cpu);
      if (split.files[0]!.body !== report.length) throw new Error(`${name}: ${split.files[0]!.body} bytes reached the sink, expected ${report.length}`);
      best = Math.min(best, (used.user + used.system) / 1000);
    }
    clearInterval(timer);
    rows.push([name, (body.length / 2 ** 20).toFixed(1), (report.length / 2 ** 20).toFixed(1), best.toFixed(0), (report.length / 2 ** 20 / (best / 1000)).toFixed(0), ((peak - rss0) / 2 ** 20).toFixed(0)]);
  }
  const head = ['payload', 'payload MB', 'report MB', 'CPU ms (best)', 'report MB/s', 'peak RSS growth MB'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log([line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n'));
}

void main();
