import type { Config } from './config';
import { createModeDecider, type ModeDecider } from './flags/mode-flag';
import type { BlobStore } from './storage/blob-store';
import { openDatabase, type Database } from './storage/database';
import { openBlobStore } from './storage/open-blob-store';
import { Store } from './storage/store';
import { ensurePrivateDir } from './private-files';
import { databaseDown, databaseLabel, waitFor } from './shared/wait-for';

/** The long-lived dependencies of a Tributary process, opened once from the configuration. */
export interface AppContext {
  config: Config;
  db: Database;
  store: Store;
  blobs: BlobStore;
  decideMode: ModeDecider;
  close(): Promise<void>;
}

export async function openAppContext(config: Config): Promise<AppContext> {
  // Only what lives on this machine: a worker on PostgreSQL and S3 leaves the data folder alone.
  if (config.blobs.kind === 'fs' || config.database.url === undefined) await ensurePrivateDir(config.dataDir);
  if (config.blobs.kind === 'fs') await ensurePrivateDir(config.blobs.dir);
  const db = await openDatabase({ url: config.database.url, dataDir: config.database.dir, connectTimeoutMs: config.dependencyTimeoutMs });
  const store = new Store(db);
  const decideMode = await createModeDecider({
    getOverride: (repo) => store.getModeOverride(repo),
    rollout: config.flags.rollout,
    salt: config.flags.salt,
    defaultMode: config.pipeline.defaultMode,
  });
  return {
    config,
    db,
    store,
    blobs: openBlobStore(config),
    decideMode,
    close: () => db.close(),
  };
}

/** openAppContext, waiting (up to TRIBUTARY_STARTUP_TIMEOUT) while the database cannot be reached. */
export function openAppContextWhenReady(config: Config): Promise<AppContext> {
  return waitFor(() => openAppContext(config), { what: databaseLabel(config.database.url), timeoutMs: config.startupTimeoutMs, retryable: databaseDown });
}
