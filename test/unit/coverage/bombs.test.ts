/**
 * Decompression bombs and their plain cousins end in typed errors naming the limit, at a bounded
 * cost: nesting, tokens and whitespace are refused or dropped while the JSON streams, gzip is
 * refused past its ratio cap, and what the report would hold is charged to a memory budget.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { ReportParseError } from '../../../src/coverage/errors';
import type { ParseLimits } from '../../../src/coverage/limits';
import { parseReport } from '../../../src/coverage/parse';
import { gzipRepeated, jsonNesting, lcovRecords, worstCaseBombs, xmlNesting } from '../../support/bombs';

const MiB = 1024 * 1024;

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

async function parseError(input: Uint8Array | AsyncIterable<Uint8Array>, limits: Partial<ParseLimits> = {}, fileName = 'bomb'): Promise<ReportParseError> {
  try {
    await parseReport(input, { fileName, sessionId: 0, limits });
  } catch (err) {
    assert.ok(err instanceof ReportParseError, `expected a ReportParseError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the input to be refused');
}

describe('bombs', () => {
  test('every worst case of the issue ends in a typed error naming its limit, whole or streamed', async () => {
    for (const bomb of worstCaseBombs()) {
      for (const input of [bomb.body, chunked(bomb.body, 64 * 1024)]) {
        const e = await parseError(input, { maxMemoryBytes: 96 * MiB }, bomb.name);
        if (bomb.code === 'report_too_large') {
          assert.equal(e.code, 'limit_exceeded', `${bomb.name}: ${e.message}`);
          assert.equal(e.limit, bomb.limit, `${bomb.name}: ${e.message}`);
          assert.match(e.message, new RegExp(bomb.limit));
        } else {
          assert.equal(e.code, bomb.limit, `${bomb.name}: ${e.message}`);
        }
      }
    }
  });

  test('JSON nesting is refused at the first bracket past maxJsonDepth, gzip or plain', async () => {
    const plain = jsonNesting(4 * MiB);
    for (const input of [plain, gzipSync(plain)]) {
      const e = await parseError(input, { maxJsonDepth: 10 });
      assert.equal(e.limit, 'maxJsonDepth');
      assert.equal(e.line, 1);
      assert.equal(e.column, 12 + 10); // the object and nine brackets fill the ten levels
    }
    // Nesting within the limit is a plain syntax error (the document never ends).
    const e = await parseError(Buffer.from('{"coverage":[[[['));
    assert.equal(e.code, 'truncated');
  });

  test('a JSON string or number longer than maxJsonTokenBytes is refused while it streams', async () => {
    const path = 'a'.repeat(2 * MiB);
    let e = await parseError(chunked(Buffer.from(`{"coverage": {"${path}": {"1": 1}}}`), 4096), { maxJsonTokenBytes: MiB });
    assert.equal(e.limit, 'maxJsonTokenBytes');
    e = await parseError(Buffer.from(`{"coverage": {"a.py": {"1": ${'9'.repeat(70_000)}}}}`), { maxJsonTokenBytes: 65_536 });
    assert.equal(e.limit, 'maxJsonTokenBytes');
  });

  test('whitespace padding is dropped, not held: 64 MiB of blanks parse within a 4 MiB budget', async () => {
    const pad = Buffer.alloc(64 * MiB, 0x20);
    pad.fill(0x0a, 0, 3); // three newlines inside the dropped run
    const doc = Buffer.concat([Buffer.from('{"coverage": {"a.py":'), pad, Buffer.from('{"1": 1, "2": 0}}}')]);
    const { report, format } = await parseReport(chunked(doc, 64 * 1024), { fileName: 'padded.json', sessionId: 0, limits: { maxMemoryBytes: 4 * MiB } });
    assert.equal(format, 'codecov');
    assert.equal(report.files.get('a.py')?.lineCount, 2);
    // Positions after a dropped run are still those of the input: the bad value is on line 4.
    const bad = Buffer.concat([Buffer.from('{"coverage": {"a.py":'), pad, Buffer.from('{"1": "x"}}}')]);
    const e = await parseError(chunked(bad, 64 * 1024), { maxMemoryBytes: 4 * MiB });
    assert.equal(e.code, 'invalid_number');
    assert.equal(e.line, 4);
    assert.equal(e.column, pad.byteLength - 3 + 7);
    // A syntax error after the run too.
    const broken = Buffer.concat([Buffer.from('{"coverage": {"a.py":'), pad, Buffer.from('{"1" 1}}}')]);
    const s = await parseError(chunked(broken, 64 * 1024));
    assert.equal(s.code, 'invalid_syntax');
    assert.equal(s.line, 4);
    assert.equal(s.column, pad.byteLength - 3 + 6);
  });

  test('a JSON document of many small values is charged to the memory budget', async () => {
    const doc = Buffer.from(`{"coverage": {"a.py": [null${',0'.repeat(2_000_000)}]}}`);
    const e = await parseError(chunked(doc, 64 * 1024), { maxMemoryBytes: 16 * MiB });
    assert.equal(e.limit, 'maxMemoryBytes');
    // The same document within a larger budget parses.
    const { report } = await parseReport(doc, { fileName: 'ok.json', sessionId: 0, limits: { maxMemoryBytes: 256 * MiB, maxLineNumber: 10_000_000 } });
    assert.equal(report.files.get('a.py')?.lineCount, 2_000_000);
  });

  test('gzip past the ratio cap is refused once past the floor; honest ratios pass', async () => {
    const bomb = gzipRepeated('SF:a.c\n', Buffer.from('DA:1,1\n'.repeat(MiB)), 64 * MiB);
    const e = await parseError(bomb, { compressionRatioFloorBytes: 4 * MiB });
    assert.equal(e.limit, 'maxCompressionRatio');
    assert.equal(e.format, 'gzip');
    // The same bomb under a floor above its size inflates fully (and then merges its one line).
    const { report } = await parseReport(bomb, { fileName: 'small.gz', sessionId: 0, limits: { compressionRatioFloorBytes: 128 * MiB } });
    assert.equal(report.files.get('a.c')?.lineCount, 1);
    // A real-looking report of 18 MiB (distinct files, varied counts) is accepted past the floor.
    let seed = 7;
    const rand = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), (seed >>> 16) % n);
    const records: string[] = [];
    for (let f = 0; f < 2600; f++) {
      records.push(`SF:src/module${f % 37}/file${f}.ts\n`);
      for (let l = 1; l <= 1000; l++) if (rand(4) > 0) records.push(`DA:${l},${rand(3) === 0 ? 0 : rand(50)}\n`);
      records.push('end_of_record\n');
    }
    const honest = Buffer.from(records.join(''));
    const gz = gzipSync(honest);
    assert.ok(honest.byteLength > 16 * MiB && honest.byteLength / gz.byteLength < 100);
    const ok = await parseReport(gz, { fileName: 'honest.gz', sessionId: 0 });
    assert.equal(ok.report.files.size, 2600);
  });

  test('the memory budget counts the input held whole, the lines and the files, in every format', async () => {
    const lcov = lcovRecords(200, 2000);
    let e = await parseError(lcov, { maxMemoryBytes: 2 * MiB });
    assert.equal(e.limit, 'maxMemoryBytes');
    assert.match(e.reason, /the input/);
    e = await parseError(chunked(lcov, 65536), { maxMemoryBytes: 4 * MiB });
    assert.equal(e.limit, 'maxMemoryBytes');
    assert.match(e.reason, /lines/);
    const cobertura = Buffer.from(
      `<?xml version="1.0"?><coverage><packages><package name="p"><classes>${Array.from(
        { length: 300 },
        (_, c) => `<class name="C${c}" filename="C${c}.java"><lines>${'<line number="1" hits="1"/>'.replace('1"', `${c + 1}"`).repeat(1)}${Array.from({ length: 1000 }, (_, i) => `<line number="${i + 2}" hits="0"/>`).join('')}</lines></class>`,
      ).join('')}</classes></package></packages></coverage>`,
    );
    e = await parseError(chunked(cobertura, 65536), { maxMemoryBytes: 4 * MiB });
    assert.equal(e.limit, 'maxMemoryBytes');
    // Within the default budget both parse.
    assert.equal((await parseReport(lcov, { fileName: 'lcov', sessionId: 0 })).report.files.size, 200);
    assert.equal((await parseReport(cobertura, { fileName: 'cob', sessionId: 0 })).report.files.size, 300);
  });

  test('XML nesting bombs stop at maxXmlDepth, gzip or plain, streamed', async () => {
    const plain = xmlNesting(8 * MiB);
    for (const input of [plain, gzipSync(plain)]) {
      const e = await parseError(chunked(input, 65536));
      assert.equal(e.limit, 'maxXmlDepth');
    }
  });
});
