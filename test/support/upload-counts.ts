import { UPLOAD_STATES, UploadStateSchema, type UploadState } from '../../src/vocabulary';
import type { Queryable } from '../../src/storage/database';

/** Uploads of the commit per state, every state present (0 when none): what tests and benches wait on. */
export async function countUploadsByState(db: Queryable, repo: string, sha: string): Promise<Record<UploadState, number>> {
  const rows = await db.query<{ state: string; n: number | string }>(
    `SELECT u.state, count(*) AS n FROM uploads u
     JOIN commits c ON c.id = u.commit_id JOIN repositories r ON r.id = c.repository_id
     WHERE r.slug = $1 AND c.sha = $2 GROUP BY u.state`,
    [repo, sha],
  );
  const counts = Object.fromEntries(UPLOAD_STATES.map((s) => [s, 0])) as Record<UploadState, number>;
  for (const r of rows) counts[UploadStateSchema.parse(r.state)] = Number(r.n);
  return counts;
}
