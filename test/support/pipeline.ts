/**
 * The real pipeline for integration tests: a database (PGlite or PostgreSQL), a blob folder (or
 * the S3 store when `env` configures one), the feature flag over the database, registration through
 * `registerUpload`, and workers on a real Temporal server with the real activities (optionally
 * wrapped to inject faults).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDeps, type Activities } from '../../src/activities';
import { loadConfig, type Config } from '../../src/config';
import { readReport, serializeReport } from '../../src/coverage/report-format';
import { createModeDecider } from '../../src/flags/mode-flag';
import type { UploadMode } from '../../src/vocabulary';
import { registerUpload, type RegisterUploadRequest, type UploadMetadata } from '../../src/services/register-upload';
import type { BlobStore } from '../../src/storage/blob-store';
import type { Database } from '../../src/storage/database';
import { openBlobStore } from '../../src/storage/open-blob-store';
import { S3BlobStore } from '../../src/storage/s3-blob-store';
import { Store } from '../../src/storage/store';
import { commitWorkflowId, type CommitResult } from '../../src/workflows/commit-contracts';
import type { commitWorkflow } from '../../src/workflows';
import { createWorker, feedbackDepsOf } from '../../src/worker';
import type { TestDatabase } from './database';

export const CORPUS = path.resolve(__dirname, '../../../shared/corpus');

export interface CorpusFile {
  name: string;
  body: Buffer;
}

/** Every report of the shared corpus, named `<folder>/<file>`. */
export async function corpusFiles(): Promise<CorpusFile[]> {
  const out: CorpusFile[] = [];
  for (const folder of (await readdir(CORPUS, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const file of (await readdir(path.join(CORPUS, folder))).sort()) {
      out.push({ name: `${folder}/${file}`, body: await readFile(path.join(CORPUS, folder, file)) });
    }
  }
  return out;
}

export interface PipelineOptions {
  client: Client;
  connection: NativeConnection;
  bundle: WorkflowBundleWithSourceMap;
  database: TestDatabase;
  env?: Record<string, string>;
  /** Workers get the Temporal client, so commits notify (readiness and feedback); off by default. */
  notify?: boolean;
}

export class Pipeline {
  private constructor(
    readonly config: Config,
    readonly db: Database,
    readonly store: Store,
    readonly blobs: BlobStore,
    readonly deps: ActivityDeps,
    private readonly opts: PipelineOptions,
    private readonly dataDir: string,
  ) {}

  static async open(opts: PipelineOptions): Promise<Pipeline> {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tributary-pipeline-'));
    const config = loadConfig({
      TRIBUTARY_DATA_DIR: dataDir,
      TEMPORAL_TASK_QUEUE: `it-${randomUUID()}`,
      TRIBUTARY_DEBOUNCE: '300ms',
      TRIBUTARY_MAX_DEBOUNCE: '2s',
      TRIBUTARY_IDLE_TIMEOUT: '1s',
      TRIBUTARY_MAX_PARALLEL: '8',
      ...opts.env,
    });
    const db = await opts.database.open();
    const store = new Store(db);
    const blobs = openBlobStore(config);
    const decideMode = await createModeDecider({
      getOverride: (repo) => store.getModeOverride(repo),
      rollout: {},
      salt: 'test',
      defaultMode: config.pipeline.defaultMode,
    });
    const deps: ActivityDeps = { blobs, store, decideMode, ...(opts.notify ? { temporal: { client: opts.client, config }, feedback: feedbackDepsOf(config) } : {}) };
    return new Pipeline(config, db, store, blobs, deps, opts, dataDir);
  }

  /** A repository whose uploads go through `mode`. */
  async repo(slug: string, mode: UploadMode): Promise<string> {
    await this.store.createRepository(slug, `hash-${randomUUID()}`);
    await this.store.setModeOverride(slug, mode);
    return slug;
  }

  /** A worker with the real activities, or with `wrap` applied to them. */
  async worker(wrap?: (real: Activities, deps: ActivityDeps) => Activities): Promise<Worker> {
    const real = createActivities(this.deps);
    return createWorker({
      connection: this.opts.connection,
      config: this.config,
      deps: this.deps,
      overrides: { workflowBundle: this.opts.bundle, workflowsPath: undefined, activities: wrap ? wrap(real, this.deps) : real },
    });
  }

  async upload(repo: string, sha: string, file: CorpusFile, meta: UploadMetadata & Pick<RegisterUploadRequest, 'commit'> = {}) {
    return registerUpload(
      { client: this.opts.client, blobs: this.blobs, store: this.store, config: this.config },
      { repo, sha, body: file.body, name: file.name, ...meta },
    );
  }

  result(repo: string, sha: string): Promise<CommitResult> {
    return this.opts.client.workflow.getHandle<typeof commitWorkflow>(commitWorkflowId(repo, sha)).result();
  }

  /** The persisted commit report, re-serialized (storage compression aside, the exact bytes). */
  async reportBytes(repo: string, sha: string): Promise<Buffer> {
    const saved = await this.store.getCommitReport(repo, sha);
    if (!saved) throw new Error(`no commit report for ${repo}@${sha}`);
    const bytes = await this.blobs.get(saved.reportKey);
    if (!bytes) throw new Error(`commit report blob ${saved.reportKey} is missing`);
    return Buffer.from(serializeReport(readReport(bytes)));
  }

  async close(): Promise<void> {
    // Its keep-alive sockets would keep the test process running.
    if (this.blobs instanceof S3BlobStore) this.blobs.close();
    await this.db.close();
    await this.opts.database.dispose();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

export function newSha(): string {
  return randomUUID().replace(/-/g, '') + 'abcdef01';
}
