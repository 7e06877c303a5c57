import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UPLOAD_MODES, type UploadMode } from '../vocabulary';

/**
 * Proportions of repositories per mode, e.g. { experiment: 0.1, serial: 0.05 }. A repository is in
 * a mode when its bucket for that mode, a hash of (salt, mode, repository), is below the
 * proportion; modes are tried in `ROLLOUT_PRIORITY` order. Each mode hashes on its own, so
 * raising one proportion only adds repositories to that mode and never reshuffles the others.
 */
export const RolloutSchema = z.partialRecord(z.enum(UPLOAD_MODES), z.number().min(0).max(1));
export type Rollout = z.infer<typeof RolloutSchema>;

export const ROLLOUT_PRIORITY: readonly UploadMode[] = ['experiment', 'serial', 'parallel'];

/** A stable number in [0, 1) for a repository, a mode and a salt. */
export function rolloutBucket(repository: string, mode: UploadMode, salt: string): number {
  const digest = createHash('sha256').update(`${salt}\u0000${mode}\u0000${repository}`).digest();
  // 48 bits are plenty of resolution and stay exact in a double.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

export interface RolloutDecision {
  mode: UploadMode;
  bucket: number;
  proportion: number;
}

export function decideRollout(repository: string, rollout: Rollout, salt: string): RolloutDecision | null {
  for (const mode of ROLLOUT_PRIORITY) {
    const proportion = rollout[mode] ?? 0;
    if (proportion <= 0) continue;
    const bucket = rolloutBucket(repository, mode, salt);
    if (bucket < proportion) return { mode, bucket, proportion };
  }
  return null;
}

/** Parses "experiment=0.1,serial=0.05" (the environment's spelling). */
export function parseRolloutSpec(spec: string): Rollout {
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const [mode, value] = pair.split('=').map((s) => s.trim());
      return [mode, value === undefined || value === '' ? Number.NaN : Number(value)] as const;
    });
  return RolloutSchema.parse(Object.fromEntries(entries));
}
