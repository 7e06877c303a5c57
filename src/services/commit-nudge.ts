/**
 * Nudging a commit's workflow: signal-with-start with the ids of the uploads just registered (at
 * most one in flight per commit per client; uploads registered meanwhile share the next one), and
 * the start a nudge gives a new run (search attributes, priority) from what the database knows.
 * Registration nudges after its row is committed; the reconciler nudges what a failed nudge left.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { CommitMetadata, CommitStartFacts, Store } from '../storage/store';
import { commitWorkflowId, uploadSignal, type CommitWorkflowInput } from '../workflows/commit-contracts';
import { commitWorkflow } from '../workflows/commit-workflow';
import { Branch, CommitSha, Priority, PullRequest, RepoSlug } from '../temporal/search-attributes';
import { commitPriority, type CommitPriority } from './commit-priority';

/** What a nudge needs: the Temporal client and the configuration (task queue, timeouts). */
export interface NudgeDeps {
  client: Client;
  config: Config;
}

/** Where a nudge that nobody waits for reports its failure (a request's pino logger fits). */
export interface NudgeLog {
  warn(details: object, message: string): void;
}

/** Upload ids one signal carries at most (the payload stays small). */
const MAX_IDS_PER_NUDGE = 100;

/** What a run of the commit's workflow that a nudge starts is given: search attributes, priority. */
export interface WorkflowStart {
  commit?: CommitMetadata;
  priority?: CommitPriority;
}

/**
 * The start of the commit's workflow from what the database knows: the commit's recorded metadata
 * (`known` fills what it lacks, e.g. an upload's branch) and its repository's settings, for its
 * priority.
 */
export async function commitWorkflowStart(
  deps: { store: Store; config: Config },
  repo: string,
  sha: string,
  known: CommitMetadata = {},
): Promise<WorkflowStart> {
  const facts = await deps.store.getCommitStartFacts(repo, sha);
  return workflowStartOf(deps.config, { settings: facts?.settings ?? {}, metadata: { ...stripUndefined(known), ...facts?.metadata } });
}

/** The start from the commit's metadata and its repository's settings: the metadata, and the priority they give. */
export function workflowStartOf(config: Config, { settings, metadata: commit }: CommitStartFacts): WorkflowStart {
  const priority = commitPriority({
    branch: commit.branch,
    pullRequest: commit.pullRequest,
    settings,
    defaultBranch: config.pipeline.defaultBranch,
  });
  return { commit, priority };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

interface PendingNudge {
  uploadIds: string[];
  /** For the search attributes and priority of a run this signal starts. */
  start: WorkflowStart;
  done: Promise<void>;
  settle(err?: unknown): void;
}

/** Per client, the commits whose signal is in flight, each with the nudges waiting behind it. */
const inFlight = new WeakMap<Client, Map<string, PendingNudge[]>>();

/**
 * Starts the commit's workflow if it is not running, and tells it an upload is waiting. Resolves
 * once a signal sent after this call has been accepted. While a signal to the commit is in flight,
 * uploads registered meanwhile wait for the next one, which carries all their ids: one
 * signal-with-start per round trip instead of one per upload, and never a nudge sent before its
 * upload was registered.
 */
export async function nudgeCommitWorkflow(
  deps: NudgeDeps,
  repo: string,
  sha: string,
  uploadId: string,
  start: WorkflowStart = {},
): Promise<string> {
  await Promise.all(enqueueNudge(deps, repo, sha, [uploadId], start));
  return commitWorkflowId(repo, sha);
}

/** How long the ids of nudges nobody waits for gather before they are sent, in one signal. */
const SOON_NUDGE_MS = 250;

/** Per client, the commits with ids gathering for a nudge nobody waits for. */
const gathering = new WeakMap<Client, Map<string, { uploadIds: string[]; start: WorkflowStart }>>();

/**
 * For an upload that the commit's run has promised to claim (its registration found the promise,
 * see storage/runs.ts): nobody waits for this nudge, and it is sent within SOON_NUDGE_MS with
 * every id gathered meanwhile, so a burst of uploads costs a few signals a second instead of one
 * per round trip. A live run only counts it; a run that died holding the promise (terminated)
 * is restarted by it, as by any nudge. A failure is logged: the run's promise, and the reconciler
 * for a dead run, still get the upload claimed.
 */
export function nudgeCommitWorkflowSoon(deps: NudgeDeps & { log?: NudgeLog }, repo: string, sha: string, uploadId: string, start: WorkflowStart): void {
  let perClient = gathering.get(deps.client);
  if (perClient === undefined) gathering.set(deps.client, (perClient = new Map()));
  const slot = slotOf(deps, repo, sha);
  const open = perClient.get(slot);
  if (open !== undefined) {
    open.uploadIds.push(uploadId);
    return;
  }
  const gathered = { uploadIds: [uploadId], start };
  perClient.set(slot, gathered);
  const timer = setTimeout(() => {
    perClient.delete(slot);
    Promise.all(enqueueNudge(deps, repo, sha, gathered.uploadIds, gathered.start)).catch((err: unknown) => {
      deps.log?.warn({ err, repo, sha, uploads: gathered.uploadIds.length }, 'could not nudge the commit workflow; its run claims the uploads it promised to, the reconciler nudges what a dead run left');
    });
  }, SOON_NUDGE_MS);
  // A process that stops meanwhile drops the nudge: the promise and the reconciler cover it.
  timer.unref();
}

/**
 * Queues the ids behind the commit's signal in flight (or sends at once when none is): the
 * promises of the nudges that carry them.
 */
function enqueueNudge(deps: NudgeDeps, repo: string, sha: string, uploadIds: readonly string[], start: WorkflowStart): Promise<void>[] {
  let perClient = inFlight.get(deps.client);
  if (perClient === undefined) inFlight.set(deps.client, (perClient = new Map()));
  const slot = slotOf(deps, repo, sha);
  let queue = perClient.get(slot);
  const idle = queue === undefined;
  if (queue === undefined) perClient.set(slot, (queue = []));
  const carriers = new Set<PendingNudge>();
  for (const uploadId of uploadIds) {
    let last = queue.at(-1);
    if (last === undefined || last.uploadIds.length >= MAX_IDS_PER_NUDGE) queue.push((last = pendingNudge()));
    last.uploadIds.push(uploadId);
    if (last.start.priority === undefined) last.start = start;
    carriers.add(last);
  }
  if (idle) void sendNudges(deps, repo, sha, perClient, slot, queue);
  return [...carriers].map((n) => n.done);
}

/** A commit's workflow on the configured task queue: what nudges are coalesced by, per client. */
function slotOf(deps: NudgeDeps, repo: string, sha: string): string {
  return `${deps.config.temporal.taskQueue}\n${commitWorkflowId(repo, sha)}`;
}

function pendingNudge(): PendingNudge {
  let settle!: (err?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  return { uploadIds: [], start: {}, done, settle };
}

async function sendNudges(
  deps: NudgeDeps,
  repo: string,
  sha: string,
  perClient: Map<string, PendingNudge[]>,
  slot: string,
  queue: PendingNudge[],
): Promise<void> {
  // The first nudge is taken only once this one is sent: uploads arriving meanwhile join the next.
  for (let next = queue[0]; next !== undefined; next = queue[0]) {
    try {
      await signalWithStart(deps, repo, sha, next.uploadIds, next.start);
      next.settle();
    } catch (err) {
      next.settle(err);
    }
    queue.shift();
  }
  perClient.delete(slot);
}

async function signalWithStart(
  deps: NudgeDeps,
  repo: string,
  sha: string,
  uploadIds: string[],
  { commit = {}, priority }: WorkflowStart,
): Promise<void> {
  const { pipeline, temporal } = deps.config;
  const workflowId = commitWorkflowId(repo, sha);
  const args: CommitWorkflowInput = {
    repo,
    sha,
    settings: {
      debounceMs: pipeline.debounceMs,
      maxDebounceMs: pipeline.maxDebounceMs,
      idleTimeoutMs: pipeline.idleTimeoutMs,
      maxParallel: pipeline.maxParallel,
      processChunk: pipeline.processChunk,
      maxBatch: pipeline.maxBatch,
      shadowTimeoutMs: pipeline.shadowTimeoutMs,
    },
  };
  await deps.client.workflow.signalWithStart(commitWorkflow, {
    workflowId,
    taskQueue: temporal.taskQueue,
    args: [args],
    signal: uploadSignal,
    signalArgs: [{ uploadId: uploadIds[0]!, more: uploadIds.length > 1 ? uploadIds.slice(1) : undefined }],
    // Set when the run starts (a running workflow keeps its own): the commit's metadata is
    // recorded before its first upload, so the run that upload starts has them.
    typedSearchAttributes: [
      { key: RepoSlug, value: repo },
      { key: CommitSha, value: sha },
      ...(commit.branch !== undefined ? [{ key: Branch, value: commit.branch }] : []),
      ...(commit.pullRequest !== undefined ? [{ key: PullRequest, value: String(commit.pullRequest) }] : []),
      ...(priority !== undefined ? [{ key: Priority, value: String(priority.key) }] : []),
    ],
    // The run's workflow and activity tasks, and its children's, go in this order when backlogged.
    priority: priority !== undefined ? { priorityKey: priority.key } : undefined,
    staticSummary: `Coverage of ${repo} @ ${sha.slice(0, 12)}`,
  });
}
