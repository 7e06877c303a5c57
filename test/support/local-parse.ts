import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileChunks } from '../../src/cli/io';
import { runParse } from '../../src/cli/parse-command';
import { CORPUS, type CorpusFile } from './pipeline';

/** The corpus files of these names, in this order. */
export function pickCorpus(corpus: readonly CorpusFile[], ...names: string[]): CorpusFile[] {
  return names.map((n) => {
    const f = corpus.find((c) => c.name === n);
    assert.ok(f, `corpus file ${n}`);
    return f;
  });
}

/** `tributary parse --json` of the files, in upload order: what one run with all of them gives. */
export async function localParse(files: readonly CorpusFile[]): Promise<{ files: unknown; totals: unknown }> {
  let out = '';
  const code = await runParse(
    files.map((f) => path.join(CORPUS, f.name)),
    { json: true },
    { stdout: (t) => void (out += t), stderr: () => undefined, open: readFileChunks, setExitCode: () => undefined },
  );
  assert.equal(code, 0);
  return JSON.parse(out) as { files: unknown; totals: unknown };
}
