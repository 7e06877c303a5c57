import type { ParseLimits } from '../coverage/limits';
import type { ModeDecider } from '../flags/mode-flag';
import type { RegistrationDeps } from '../services/register-upload';
import type { BlobStore } from '../storage/blob-store';
import type { Store } from '../storage/store';

/** Everything the activities touch, injected so tests can wrap or replace any of it. */
export interface ActivityDeps {
  blobs: BlobStore;
  store: Store;
  decideMode: ModeDecider;
  limits?: Partial<ParseLimits>;
  /** Intermediate reports merged per group before the groups are merged (tree-merge fan-in). */
  mergeFanIn?: number;
  /** A processor chunk's reports are written together until they reach this many bytes (8 MiB by default). */
  partMaxBytes?: number;
  /**
   * The Temporal client the reconciler describes and nudges commit workflows with, and the
   * configuration a nudge starts them with; workers have it, the other activities need none.
   */
  temporal?: Pick<RegistrationDeps, 'client' | 'config'>;
  /** Where feedback goes (the notifier's activities); workers have it from the configuration. */
  feedback?: FeedbackDeps;
}

export interface FeedbackDeps {
  /** GitHub's REST API base (TRIBUTARY_GITHUB_API_URL). */
  githubApiUrl: string;
  /** Base of the commit page links in statuses, comments and webhook bodies. */
  publicUrl: string;
  /** The HTTP client of every delivery (tests may wrap it to inject faults). */
  fetch?: typeof fetch;
}
