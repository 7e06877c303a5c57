/**
 * The per-file totals stored next to a commit report: what the serialized merge computes and
 * stores equals what the report gives when it is read back whole (real reports of the shared
 * corpus, several uploads per path), the report's bytes do not change, and corrupt totals are
 * refused with a clear error.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, gzipSync } from 'node:zlib';
import { ReportParseError } from '../../../src/coverage/errors';
import { parseReport } from '../../../src/coverage/parse';
import { compressReport, mergeSerializedReports, readFileTotals, readReport, serializeFileTotals } from '../../../src/coverage/report-format';
import { ByteWriter } from '../../../src/coverage/report-format/bytes';
import { FILE_TOTALS_MAGIC, FILE_TOTALS_VERSION } from '../../../src/coverage/report-format/file-totals';
import { fileEntries } from '../../../src/web/tree';
import { corpusFiles, type CorpusFile } from '../../support/pipeline';

let corpus: CorpusFile[];
/** Every corpus report parsed as its own session (compressed, as intermediates are stored). */
let intermediates: Uint8Array[];

before(async () => {
  corpus = await corpusFiles();
  intermediates = [];
  for (const [i, f] of corpus.entries()) {
    const { report } = await parseReport(f.body, { fileName: f.name, sessionId: i });
    intermediates.push(compressReport(report));
  }
});

describe('per-file totals', () => {
  test('equal the totals of the merged report read back whole, for every corpus report and their merge', () => {
    assert.ok(intermediates.length >= 10, `only ${intermediates.length} corpus reports parsed`);
    const inputs = [...intermediates.map((b) => [b]), intermediates];
    for (const group of inputs) {
      const merged = mergeSerializedReports(group);
      const stored = gzipSync(serializeFileTotals(merged.files));
      const read = readFileTotals(stored, { name: 'totals' });
      const expected = fileEntries(readReport(merged.bytes));
      assert.equal(read.length, merged.fileCount);
      assert.deepEqual(read, expected);
    }
    // The merge of everything has lines many sessions report, partial branches included.
    const all = readFileTotals(serializeFileTotals(mergeSerializedReports(intermediates).files));
    assert.ok(all.some((f) => f.totals.partials > 0), 'some file has partial lines');
  });

  test('merging the merged report again gives the same bytes and the same per-file totals', () => {
    const merged = mergeSerializedReports(intermediates);
    const again = mergeSerializedReports([compressReport(readReport(merged.bytes))]);
    assert.deepEqual(Buffer.from(again.bytes), Buffer.from(merged.bytes));
    assert.deepEqual(again.files, merged.files);
  });

  test('round trip of hand-made totals, an empty list, and the order the writer insists on', () => {
    const t = (hits: number, misses: number, partials: number, coverage: string) => ({ files: 1, lines: hits + misses + partials, hits, misses, partials, branches: partials, methods: 0, coverage });
    const files = [
      { path: 'a/b ü.ts', totals: t(2, 1, 1, '50.00000') },
      { path: 'a/c.ts', totals: t(0, 0, 0, '0') },
      { path: 'z.ts', totals: t(3, 0, 0, '100') },
    ];
    assert.deepEqual(readFileTotals(serializeFileTotals(files)), files);
    assert.deepEqual(readFileTotals(gzipSync(serializeFileTotals([]))), []);
    assert.throws(() => serializeFileTotals([files[1]!, files[0]!]), /out of path order/);
    assert.throws(() => serializeFileTotals([files[0]!, files[0]!]), /out of path order/);
  });

  test('corrupt totals are a ReportParseError naming what is wrong', () => {
    const good = serializeFileTotals(readFileTotals(serializeFileTotals(mergeSerializedReports(intermediates.slice(0, 3)).files)));
    const refused = (bytes: Uint8Array, reason: RegExp) =>
      assert.throws(
        () => readFileTotals(bytes, { name: 'reports/o/r/x/v1-b0.totals' }),
        (err: unknown) => err instanceof ReportParseError && err.file === 'reports/o/r/x/v1-b0.totals' && reason.test(err.reason),
      );
    const flipped = Uint8Array.from(good);
    flipped[Math.floor(good.length / 2)]! ^= 0x40;
    refused(flipped, /checksum mismatch/);
    refused(good.subarray(0, good.length - 1), /checksum mismatch/);
    refused(good.subarray(0, 6), /end before their header/);
    refused(Uint8Array.from([0x54, 0x52, 0x42, 0x52, 2, 0, 0, 0, 0, 0]), /bad magic/);
    refused(withChecksum((w) => w.varint(0), 9), /unsupported file totals version 9/);
    // Well framed, with a valid checksum, but not what a writer produces:
    refused(withChecksum((w) => w.varint(1_000_000)), /file count 1000000 exceeds the data/);
    refused(withChecksum((w) => (w.varint(2), entry(w, 'b', '100'), entry(w, 'a', '100'))), /file a out of order/);
    refused(withChecksum((w) => (w.varint(1), entry(w, 'a', '1e2'))), /bad coverage "1e2"/);
    refused(withChecksum((w) => (w.varint(1), entry(w, 'a', '100', 9))), /more branch and method lines than lines/);
    refused(withChecksum((w) => (w.varint(1), entry(w, 'a', '100'), w.u8(0))), /trailing bytes before the checksum/);
    refused(Uint8Array.from(gzipSync(good)).subarray(0, 20), /./);
  });
});

function entry(w: ByteWriter, path: string, coverage: string, branches = 0): void {
  w.string(path);
  for (const n of [1, 0, 0, branches, 0]) w.varint(n);
  w.string(coverage);
}

function withChecksum(body: (w: ByteWriter) => void, version = FILE_TOTALS_VERSION): Uint8Array {
  const w = new ByteWriter();
  w.bytes(FILE_TOTALS_MAGIC);
  w.u8(version);
  body(w);
  w.u32(crc32(w.take()));
  return w.take();
}
