import type { CoverageSink } from '../../src/coverage/types';
import { rng } from './rng';

/**
 * One session's lines of a seeded, realistic repository into `sink`: mostly hit counts, a tenth
 * branch lines ("a/2" or "a/4" with lcov-like missing-branch ids), methods, a few skipped lines,
 * and code no test reaches. The line kinds are the same in every session (one repository); the
 * values vary with `sessionId`.
 */
export function seededLines(sink: CoverageSink, sessionId: number, files: number, lines: number): void {
  const r = rng(1000 + sessionId);
  const shape = rng(7);
  for (let f = 0; f < files; f++) {
    const file = sink.file(`src/pkg${f % 40}/module_${f}.ts`)!;
    for (let ln = 1; ln <= lines; ln++) {
      const kind = shape();
      const x = r();
      if (kind < 0.1) {
        const total = kind < 0.05 ? 2 : 4;
        const taken = Math.floor(x * (total + 1));
        const missing: string[] = [];
        for (let k = taken; k < total; k++) missing.push(`0:${k}`);
        file.line(ln, `${taken}/${total}`, 'b', { missingBranches: missing });
      } else if (kind < 0.13) {
        file.line(ln, x < 0.7 ? 1 + Math.floor(x * 5) : 0, 'm');
      } else if (kind < 0.14) {
        file.line(ln, -1);
      } else if (kind < 0.24) {
        file.line(ln, 0);
      } else {
        file.line(ln, x < 0.75 ? 1 + Math.floor(x * 1000) : 0);
      }
    }
  }
}
