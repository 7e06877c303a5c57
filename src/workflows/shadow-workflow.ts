import { runParallel } from './batch-paths';
import type { ShadowResult, ShadowWorkflowInput } from './commit-contracts';

/**
 * The experiment's shadow: the parallel path over the same raw uploads as the real (serial) batch,
 * from the same base version, writing only under the scratch prefix and nothing in the database.
 */
export async function shadowParallelWorkflow(input: ShadowWorkflowInput): Promise<ShadowResult> {
  const outcome = await runParallel(
    { repo: input.repo, sha: input.sha, target: { kind: 'scratch', batch: input.batch }, maxParallel: input.maxParallel },
    input.baseKey,
    input.baseVersion + 1,
    input.uploads,
  );
  return { reportKey: outcome.merged?.reportKey ?? null };
}
