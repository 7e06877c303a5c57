import { z } from 'zod';
import { NewRepoSlugSchema, RepoSlugSchema, UploadModeSchema, type UploadMode } from '../vocabulary';
import { sqlState, UNIQUE_VIOLATION, type Database } from './database';
import { repositoryIdOf } from './commits';
import { ConflictError } from './errors';
import { RepoSettingsSchema, toRepository, type RepoSettings, type Repository, type RepositoryRecord } from './rows';

/** Repositories (slug, upload token hash, settings) and the mode each may be pinned to. */
export class RepositoryStore {
  constructor(private readonly db: Database) {}

  async createRepository(slug: string, uploadTokenHash: string, settings: RepoSettings = {}): Promise<Repository> {
    const s = NewRepoSlugSchema.parse(slug);
    const hash = z.string().min(1).parse(uploadTokenHash);
    const st = RepoSettingsSchema.parse(settings);
    try {
      const [row] = await this.db.query<RepositoryRecord>(
        `INSERT INTO repositories (slug, upload_token_hash, settings) VALUES ($1, $2, $3::jsonb) RETURNING *`,
        [s, hash, JSON.stringify(st)],
      );
      return toRepository(row);
    } catch (err) {
      if (sqlState(err) === UNIQUE_VIOLATION) throw new ConflictError(`repository ${s} already exists`);
      throw err;
    }
  }

  async getRepository(slug: string): Promise<Repository | null> {
    const [row] = await this.db.query<RepositoryRecord>(`SELECT * FROM repositories WHERE slug = $1`, [
      RepoSlugSchema.parse(slug),
    ]);
    return row === undefined ? null : toRepository(row);
  }

  /** Every repository (or only `only`) with its mode override, by slug. */
  async listRepositories(only?: string): Promise<{ repository: Repository; mode: UploadMode | null }[]> {
    const rows = await this.db.query<RepositoryRecord & { mode: string | null }>(
      `SELECT r.*, o.mode FROM repositories r LEFT JOIN mode_overrides o ON o.repository_id = r.id
       WHERE $1::text IS NULL OR r.slug = $1 ORDER BY r.slug`,
      [only === undefined ? null : RepoSlugSchema.parse(only)],
    );
    return rows.map((r) => ({ repository: toRepository(r), mode: r.mode === null ? null : UploadModeSchema.parse(r.mode) }));
  }

  /** The repository whose upload token has this hash (sha256 hex), if any. */
  async findRepositoryByTokenHash(uploadTokenHash: string): Promise<Repository | null> {
    const [row] = await this.db.query<RepositoryRecord>(`SELECT * FROM repositories WHERE upload_token_hash = $1`, [
      z.string().min(1).max(200).parse(uploadTokenHash),
    ]);
    return row === undefined ? null : toRepository(row);
  }

  /** Pins the repository's mode; null removes the pin (the default mode applies again). */
  /** Replaces the repository's settings; null when it does not exist. */
  async setSettings(slug: string, settings: RepoSettings): Promise<Repository | null> {
    const [row] = await this.db.query<RepositoryRecord>(`UPDATE repositories SET settings = $2::jsonb WHERE slug = $1 RETURNING *`, [
      RepoSlugSchema.parse(slug),
      JSON.stringify(RepoSettingsSchema.parse(settings)),
    ]);
    return row === undefined ? null : toRepository(row);
  }

  async setModeOverride(slug: string, mode: UploadMode | null): Promise<void> {
    const s = RepoSlugSchema.parse(slug);
    const m = UploadModeSchema.nullable().parse(mode);
    const repositoryId = await repositoryIdOf(this.db, s);
    if (m === null) {
      await this.db.query(`DELETE FROM mode_overrides WHERE repository_id = $1`, [repositoryId]);
      return;
    }
    await this.db.query(
      `INSERT INTO mode_overrides (repository_id, mode) VALUES ($1, $2)
       ON CONFLICT (repository_id) DO UPDATE SET mode = EXCLUDED.mode, updated_at = now()`,
      [repositoryId, m],
    );
  }

  async getModeOverride(slug: string): Promise<UploadMode | null> {
    const [row] = await this.db.query<{ mode: string }>(
      `SELECT o.mode FROM mode_overrides o JOIN repositories r ON r.id = o.repository_id WHERE r.slug = $1`,
      [RepoSlugSchema.parse(slug)],
    );
    return row === undefined ? null : UploadModeSchema.parse(row.mode);
  }

  async listModeOverrides(): Promise<{ slug: string; mode: UploadMode }[]> {
    const rows = await this.db.query<{ slug: string; mode: string }>(
      `SELECT r.slug, o.mode FROM mode_overrides o JOIN repositories r ON r.id = o.repository_id ORDER BY r.slug`,
    );
    return rows.map((r) => ({ slug: r.slug, mode: UploadModeSchema.parse(r.mode) }));
  }
}
