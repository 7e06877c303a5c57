import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { RepoSlugSchema } from '../vocabulary';
import { repositoryIdOf } from './commits';
import type { Database } from './database';
import { toDate, type Timestamp } from './rows';

/** A read token's public id (`rt_` and 16 hex digits): what lists show and revocation names. */
export const ReadTokenIdSchema = z.string().regex(/^rt_[0-9a-f]{16}$/, 'expected a read token id (rt_ and 16 hex digits)');

export const ReadTokenNameSchema = z.string().trim().min(1).max(200);

export interface ReadToken {
  id: string;
  repo: string;
  name: string | null;
  createdAt: Date;
}

type ReadTokenRecord = { id: string; slug: string; name: string | null; created_at: Timestamp };
const toReadToken = (r: ReadTokenRecord): ReadToken => ({ id: r.id, repo: r.slug, name: r.name, createdAt: toDate(r.created_at) });

const Hash = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest');

/** Read-only tokens: each reads one repository; only their sha256 is kept. */
export class ReadTokenStore {
  constructor(private readonly db: Database) {}

  async create(slug: string, tokenHash: string, name?: string): Promise<ReadToken> {
    const repositoryId = await repositoryIdOf(this.db, RepoSlugSchema.parse(slug));
    const id = `rt_${randomBytes(8).toString('hex')}`;
    const [row] = await this.db.query<ReadTokenRecord>(
      `INSERT INTO read_tokens (id, repository_id, token_hash, name) VALUES ($1, $2, $3, $4)
       RETURNING id, $5::text AS slug, name, created_at`,
      [id, repositoryId, Hash.parse(tokenHash), name === undefined ? null : ReadTokenNameSchema.parse(name), slug],
    );
    return toReadToken(row!);
  }

  /** The repository's read tokens, oldest first. */
  async list(slug: string): Promise<ReadToken[]> {
    const repositoryId = await repositoryIdOf(this.db, RepoSlugSchema.parse(slug));
    const rows = await this.db.query<ReadTokenRecord>(
      `SELECT t.id, r.slug, t.name, t.created_at FROM read_tokens t JOIN repositories r ON r.id = t.repository_id
       WHERE t.repository_id = $1 ORDER BY t.created_at, t.id`,
      [repositoryId],
    );
    return rows.map(toReadToken);
  }

  /** Deletes the token (of `slug` when given); the revoked token, or null when there was none. */
  async revoke(id: string, slug?: string): Promise<ReadToken | null> {
    const [row] = await this.db.query<ReadTokenRecord>(
      `DELETE FROM read_tokens t USING repositories r
       WHERE t.id = $1 AND r.id = t.repository_id AND ($2::text IS NULL OR r.slug = $2)
       RETURNING t.id, r.slug, t.name, t.created_at`,
      [ReadTokenIdSchema.parse(id), slug === undefined ? null : RepoSlugSchema.parse(slug)],
    );
    return row === undefined ? null : toReadToken(row);
  }

  /** The token with this id, with its hash (a page session names its token by id). */
  async get(id: string): Promise<(ReadToken & { tokenHash: string }) | null> {
    const parsed = ReadTokenIdSchema.safeParse(id);
    if (!parsed.success) return null;
    const [row] = await this.db.query<ReadTokenRecord & { token_hash: string }>(
      `SELECT t.id, r.slug, t.name, t.created_at, t.token_hash FROM read_tokens t JOIN repositories r ON r.id = t.repository_id
       WHERE t.id = $1`,
      [parsed.data],
    );
    return row === undefined ? null : { ...toReadToken(row), tokenHash: row.token_hash };
  }

  /** The token with this hash, with the hash as stored (for the constant-time comparison). */
  async findByHash(tokenHash: string): Promise<(ReadToken & { tokenHash: string }) | null> {
    const [row] = await this.db.query<ReadTokenRecord & { token_hash: string }>(
      `SELECT t.id, r.slug, t.name, t.created_at, t.token_hash FROM read_tokens t JOIN repositories r ON r.id = t.repository_id
       WHERE t.token_hash = $1`,
      [z.string().min(1).max(200).parse(tokenHash)],
    );
    return row === undefined ? null : { ...toReadToken(row), tokenHash: row.token_hash };
  }
}
