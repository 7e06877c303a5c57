import { keys } from '../storage/blob-store';
import type { Target } from './contracts';

/**
 * Where a processor writes an intermediate for its target and the finisher reads it: `name` is
 * the upload's id, or the name of a part several uploads of one chunk share.
 */
export function intermediateKey(repo: string, sha: string, target: Target, name: string): string {
  return target.kind === 'commit' ? keys.intermediate(name) : keys.scratchIntermediate(repo, sha, target.batch, name, target.area);
}
