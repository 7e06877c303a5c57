import type { Database } from './database';

/**
 * The schema, as an ordered list of migrations. Applied ones are recorded in `schema_migrations`
 * by id; a migration is never edited once released, only followed by a new one. Each migration is
 * a list of single statements because PGlite's extended protocol takes one statement per query.
 */
export interface Migration {
  id: string;
  statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: '0001_initial',
    statements: [
      `CREATE TABLE repositories (
        id bigserial PRIMARY KEY,
        slug text NOT NULL UNIQUE,
        upload_token_hash text NOT NULL,
        settings jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE commits (
        id bigserial PRIMARY KEY,
        repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
        sha text NOT NULL,
        next_session integer NOT NULL DEFAULT 0,
        state text NOT NULL DEFAULT 'pending',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (repository_id, sha)
      )`,
      `CREATE TABLE uploads (
        id text PRIMARY KEY,
        commit_id bigint NOT NULL REFERENCES commits (id) ON DELETE CASCADE,
        session integer NOT NULL,
        state text NOT NULL
          CHECK (state IN ('uploaded', 'processing', 'processed', 'merged', 'error', 'cancelled')),
        error_code text,
        error_message text,
        batch_id text,
        idempotency_key text,
        flags text[] NOT NULL DEFAULT '{}',
        name text,
        build text,
        job text,
        branch text,
        ci_url text,
        format_hint text,
        raw_key text NOT NULL,
        raw_bytes bigint NOT NULL CHECK (raw_bytes >= 0),
        intermediate_key text,
        created_at timestamptz NOT NULL DEFAULT now(),
        processing_started_at timestamptz,
        processed_at timestamptz,
        merged_at timestamptz,
        UNIQUE (commit_id, session),
        UNIQUE (commit_id, idempotency_key)
      )`,
      // Claims take the lowest sessions still waiting; retried claims look a batch up by id.
      `CREATE INDEX uploads_waiting ON uploads (commit_id, session) WHERE state = 'uploaded'`,
      `CREATE INDEX uploads_batch ON uploads (batch_id) WHERE batch_id IS NOT NULL`,
      `CREATE TABLE commit_reports (
        commit_id bigint PRIMARY KEY REFERENCES commits (id) ON DELETE CASCADE,
        version integer NOT NULL,
        report_key text NOT NULL,
        totals jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE experiment_results (
        id bigserial PRIMARY KEY,
        commit_id bigint NOT NULL REFERENCES commits (id) ON DELETE CASCADE,
        batch integer NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('match', 'mismatch', 'shadow_failed', 'shadow_timeout')),
        differing_files integer,
        differing_lines integer,
        sample jsonb,
        serial_ms integer,
        shadow_ms integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (commit_id, batch)
      )`,
      `CREATE TABLE mode_overrides (
        repository_id bigint PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
        mode text NOT NULL CHECK (mode IN ('serial', 'parallel', 'experiment')),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    // Per-upload path handling: fixes sent with the upload, and the repository's file list
    // (stored as a blob: it can be large) for resolving report paths.
    id: '0002_upload_paths',
    statements: [
      `ALTER TABLE uploads ADD COLUMN path_fixes text[] NOT NULL DEFAULT '{}'`,
      `ALTER TABLE uploads ADD COLUMN repo_files_key text`,
    ],
  },
  {
    // The gateway finds the repository of an upload token by its hash on every request.
    id: '0003_token_hash_index',
    statements: [`CREATE INDEX repositories_token_hash ON repositories (upload_token_hash)`],
  },
  {
    // Claims that cannot collide across workflow runs: a batch is a row numbered per commit (dense
    // across runs), keyed for retries by the claiming run and its own claim count; the commit row
    // names the run that owns its claims, so a run that no longer exists can be fenced out.
    id: '0004_batch_claims',
    statements: [
      `CREATE TABLE batch_claims (
        commit_id bigint NOT NULL REFERENCES commits (id) ON DELETE CASCADE,
        batch integer NOT NULL,
        run_id text NOT NULL,
        run_claim integer NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (commit_id, batch),
        UNIQUE (commit_id, run_id, run_claim)
      )`,
      `ALTER TABLE commits ADD COLUMN run_id text`,
      `ALTER TABLE commits ADD COLUMN run_started_at timestamptz`,
      // The old text batch ids were derived from the workflow id and repeated across runs.
      `DROP INDEX uploads_batch`,
      `ALTER TABLE uploads DROP COLUMN batch_id`,
      `ALTER TABLE uploads ADD COLUMN batch integer`,
      // A run start looks for the uploads a previous run left in flight.
      `CREATE INDEX uploads_in_flight ON uploads (commit_id) WHERE state IN ('processing', 'processed')`,
    ],
  },
  {
    // Idempotency keys with Stripe's semantics: the sha256 of each upload's body is kept, so a
    // key sent again with other bytes is refused instead of answered; raw and multipart keys live
    // in separate scopes, so a multipart part (key + ":" + index) never matches a raw upload.
    // Older rows keep a null digest (nothing to compare) and count as raw: the CLI's raw uploads
    // are what sent keys ending in ":<index>" before.
    id: '0005_idempotency_digest',
    statements: [
      `ALTER TABLE uploads ADD COLUMN body_sha256 text CHECK (body_sha256 ~ '^[0-9a-f]{64}$')`,
      `ALTER TABLE uploads ADD COLUMN idempotency_scope text CHECK (idempotency_scope IN ('raw', 'multipart'))`,
      `UPDATE uploads SET idempotency_scope = 'raw' WHERE idempotency_key IS NOT NULL`,
      `ALTER TABLE uploads ADD CONSTRAINT uploads_idempotency_scoped CHECK ((idempotency_key IS NULL) = (idempotency_scope IS NULL))`,
      `ALTER TABLE uploads DROP CONSTRAINT uploads_commit_id_idempotency_key_key`,
      `ALTER TABLE uploads ADD CONSTRAINT uploads_commit_idempotency_key UNIQUE (commit_id, idempotency_scope, idempotency_key)`,
    ],
  },
  {
    // Per-line anomalies the processor skipped or clamped (one entry per code, a few positions
    // each), shown with the upload's status.
    id: '0006_upload_warnings',
    statements: [`ALTER TABLE uploads ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]'`],
  },
  {
    // Nothing ever maintained it (every commit stayed 'pending'); the API derives a commit's
    // state from its uploads and workflow instead.
    id: '0007_drop_commit_state',
    statements: [`ALTER TABLE commits DROP COLUMN state`],
  },
  {
    // Retention deletes the raw upload of a finished upload after its lifetime; the row keeps
    // when, so a later re-verification skips it instead of failing on a missing blob.
    id: '0008_raw_retention',
    statements: [`ALTER TABLE uploads ADD COLUMN raw_deleted_at timestamptz`],
  },
  {
    // Commit metadata (first upload that carries a value sets it; later ones only fill gaps), and
    // the Codecov uploaders' pending uploads: registered by their POST, filled by the PUT to the
    // signed location they were answered (single use: the digest of the body that filled it).
    id: '0009_commit_metadata_codecov',
    statements: [
      `ALTER TABLE commits ADD COLUMN branch text`,
      `ALTER TABLE commits ADD COLUMN parent_sha text`,
      `ALTER TABLE commits ADD COLUMN pull_request integer CHECK (pull_request >= 0)`,
      `ALTER TABLE commits ADD COLUMN ci_service text`,
      `ALTER TABLE commits ADD COLUMN build text`,
      `ALTER TABLE commits ADD COLUMN job text`,
      `ALTER TABLE commits ADD COLUMN ci_url text`,
      `CREATE TABLE pending_uploads (
        id text PRIMARY KEY,
        commit_id bigint NOT NULL REFERENCES commits (id) ON DELETE CASCADE,
        metadata jsonb NOT NULL,
        expires_at timestamptz NOT NULL,
        body_sha256 text CHECK (body_sha256 ~ '^[0-9a-f]{64}$'),
        upload_ids text[],
        report_fixes jsonb,
        received_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    // Scheduled re-verification: a run records its seed and the commits it sampled, then one
    // outcome per commit. And the queue's figures: the waiting uploads' age, queue times (created
    // -> processing started) and merges per minute over recent windows, read by range scans.
    id: '0010_verifications_queue',
    statements: [
      `CREATE TABLE verification_runs (
        id text PRIMARY KEY,
        seed text NOT NULL,
        sample_size integer NOT NULL CHECK (sample_size >= 0),
        repositories text[] NOT NULL DEFAULT '{}',
        sample jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE verifications (
        id bigserial PRIMARY KEY,
        run_id text NOT NULL REFERENCES verification_runs (id) ON DELETE CASCADE,
        commit_id bigint NOT NULL REFERENCES commits (id) ON DELETE CASCADE,
        outcome text NOT NULL CHECK (outcome IN ('match', 'mismatch', 'skipped')),
        report_version integer,
        uploads integer NOT NULL DEFAULT 0,
        differing_files integer NOT NULL DEFAULT 0,
        differing_lines integer NOT NULL DEFAULT 0,
        files text[] NOT NULL DEFAULT '{}',
        sample jsonb NOT NULL DEFAULT '[]',
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (run_id, commit_id)
      )`,
      `CREATE INDEX verifications_created ON verifications (created_at)`,
      `CREATE INDEX uploads_waiting_since ON uploads (created_at) WHERE state = 'uploaded'`,
      `CREATE INDEX uploads_processing_started ON uploads (processing_started_at) WHERE processing_started_at IS NOT NULL`,
      `CREATE INDEX uploads_merged_at ON uploads (merged_at) WHERE merged_at IS NOT NULL`,
    ],
  },
  {
    // Codecov's line fixes go with each upload of a payload as a blob next to its raw body.
    id: '0011_upload_report_fixes',
    statements: [`ALTER TABLE uploads ADD COLUMN report_fixes_key text`],
  },
  {
    // One unified diff per commit (a later one replaces it), gzipped in the row so it goes with
    // its commit; base_sha is what the sender diffed against, when it says.
    id: '0012_commit_diffs',
    statements: [
      `CREATE TABLE commit_diffs (
        commit_id bigint PRIMARY KEY REFERENCES commits (id) ON DELETE CASCADE,
        diff_gzip bytea NOT NULL,
        bytes bigint NOT NULL CHECK (bytes >= 0),
        base_sha text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    // Feedback of settled commits: one row per notification and target, unique by its
    // idempotency key (repo, sha, report version and digest, target), so a redelivered
    // notification finds the row and sends nothing again; each try is logged.
    id: '0013_deliveries',
    statements: [
      `CREATE TABLE deliveries (
        id text PRIMARY KEY,
        commit_id bigint NOT NULL REFERENCES commits (id) ON DELETE CASCADE,
        idempotency_key text NOT NULL UNIQUE,
        kind text NOT NULL CHECK (kind IN ('github_status', 'github_comment', 'webhook')),
        target text NOT NULL,
        report_version integer NOT NULL,
        payload jsonb NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_status integer,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`,
      `CREATE INDEX deliveries_commit ON deliveries (commit_id, created_at)`,
      `CREATE TABLE delivery_attempts (
        delivery_id text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        status_code integer,
        error text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        PRIMARY KEY (delivery_id, attempt)
      )`,
    ],
  },
  {
    // The pages list a repository's commits newest first, all of them or one branch's.
    id: '0014_commit_listing',
    statements: [
      `CREATE INDEX commits_by_time ON commits (repository_id, created_at DESC, sha DESC)`,
      `CREATE INDEX commits_by_branch_time ON commits (repository_id, branch, created_at DESC, sha DESC)`,
    ],
  },
  {
    // The pull-request page lists the commits recorded with one pull request, newest first.
    id: '0015_pull_request_commits',
    statements: [`CREATE INDEX commits_by_pull_request ON commits (repository_id, pull_request, created_at DESC, sha DESC) WHERE pull_request IS NOT NULL`],
  },
  {
    // Read-only tokens of a repository, stored as their sha256 like upload tokens; revoking deletes the row.
    id: '0016_read_tokens',
    statements: [
      `CREATE TABLE read_tokens (
        id text PRIMARY KEY,
        repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        name text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX read_tokens_repository ON read_tokens (repository_id)`,
    ],
  },
  {
    // The source text sent with uploads (`tributary upload --sources`): per commit and report
    // path, the sha256 of a content-addressed blob `sources/<digest>`, shared by every commit
    // with the same text. `updated_at` is the last upload that sent it, retention's clock.
    id: '0017_commit_sources',
    statements: [
      `CREATE TABLE commit_sources (
        commit_id bigint NOT NULL REFERENCES commits (id) ON DELETE CASCADE,
        path text NOT NULL,
        digest text NOT NULL,
        bytes integer NOT NULL CHECK (bytes >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (commit_id, path)
      )`,
      `CREATE INDEX commit_sources_digest ON commit_sources (digest, updated_at)`,
    ],
  },
  {
    // A commit decides its carryforward once, after its first batch. Commits reported before
    // carryforward existed count as decided (they carried nothing), so they can be ancestors.
    id: '0018_carryforward',
    statements: [
      `ALTER TABLE commits ADD COLUMN carryforward_at timestamptz`,
      `UPDATE commits SET carryforward_at = now() WHERE id IN (SELECT commit_id FROM commit_reports)`,
    ],
  },
  {
    // Until when the commit's run has promised to claim again without being signalled (it has
    // a batch in hand): registration skips the nudge meanwhile (runs.ts, uploads.ts).
    id: '0019_next_claim_promise',
    statements: [`ALTER TABLE commits ADD COLUMN next_claim_until timestamptz`],
  },
];

/**
 * An arbitrary constant naming "Tributary's schema migrations" among advisory locks. The lock is
 * transaction-scoped: it serialises processes that open the same PostgreSQL database at once and
 * is released by the migration transaction's commit or rollback, never held by a pooled connection.
 */
const MIGRATION_LOCK_KEY = 7_301_204_611;

/** Applies the migrations the database lacks, in order, in one transaction. Returns their ids. */
export async function runMigrations(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        id text PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const rows = await tx.query<{ id: string }>('SELECT id FROM schema_migrations');
    const done = new Set(rows.map((r) => r.id));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      for (const statement of m.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
      applied.push(m.id);
    }
    return applied;
  });
}
