import { compareReports } from '../coverage/compare';
import { readReport } from '../coverage/report-format';
import type { ActivityDeps } from './deps';
import { VerifyExperimentInput, type VerifyExperimentResult } from './contracts';
import { validateInput } from './validate';

/**
 * Compares the persisted (serial) report with the shadow's (parallel) one, line by line and on the
 * totals, and records the outcome. The shadow's problems are recorded too, never raised.
 */
export function createVerifyExperiment(deps: ActivityDeps) {
  return async function verifyExperiment(input: VerifyExperimentInput): Promise<VerifyExperimentResult> {
    const v = validateInput(VerifyExperimentInput, input, 'verifyExperiment');
    let result: VerifyExperimentResult;
    if (v.shadowProblem || !v.shadowKey) {
      result = {
        outcome: v.shadowProblem?.outcome ?? 'shadow_failed',
        differingFiles: 0,
        differingLines: 0,
        sample: [v.shadowProblem?.message ?? 'the shadow produced no report'],
      };
    } else {
      const load = async (key: string | null) => {
        if (key === null) return null;
        const bytes = await deps.blobs.get(key);
        if (bytes === null) throw new Error(`report ${key} is missing`);
        return readReport(bytes);
      };
      const [serial, shadow] = await Promise.all([load(v.serialKey), load(v.shadowKey)]);
      if (!serial) {
        result = { outcome: 'mismatch', differingFiles: 0, differingLines: 0, sample: ['the serial path merged nothing, the shadow wrote a report'] };
      } else {
        const diff = compareReports(serial, shadow as NonNullable<typeof shadow>);
        result = {
          outcome: diff.identical ? 'match' : 'mismatch',
          differingFiles: diff.differingFiles,
          differingLines: diff.differingLines,
          sample: diff.sample.map((s) => s.slice(0, 300)),
        };
      }
    }
    await deps.store.recordExperiment({
      repo: v.repo,
      sha: v.sha,
      batch: v.batch,
      outcome: result.outcome,
      differingFiles: result.differingFiles,
      differingLines: result.differingLines,
      sample: result.sample,
      serialMs: v.serialMs,
      shadowMs: v.shadowMs,
    });
    return result;
  };
}
