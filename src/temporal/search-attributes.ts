import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes of commit workflows and re-verification runs: operators filter on these in the Web UI. */
export const RepoSlug = defineSearchAttributeKey('RepoSlug', SearchAttributeType.KEYWORD);
export const CommitSha = defineSearchAttributeKey('CommitSha', SearchAttributeType.KEYWORD);
export const UploadMode = defineSearchAttributeKey('UploadMode', SearchAttributeType.KEYWORD);
export const UploadCount = defineSearchAttributeKey('UploadCount', SearchAttributeType.INT);
export const Outcome = defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD);
export const ExperimentOutcome = defineSearchAttributeKey('ExperimentOutcome', SearchAttributeType.KEYWORD);
/** The commit's branch and pull request, as CI reported them when its workflow started. */
export const Branch = defineSearchAttributeKey('Branch', SearchAttributeType.KEYWORD);
export const PullRequest = defineSearchAttributeKey('PullRequest', SearchAttributeType.KEYWORD);

/** The commit's task priority key, "1" first (src/services/commit-priority.ts). */
export const Priority = defineSearchAttributeKey('Priority', SearchAttributeType.KEYWORD);

/** Of re-verification runs: commits compared so far (match or mismatch), and the mismatches among them. */
export const VerifiedCommits = defineSearchAttributeKey('VerifiedCommits', SearchAttributeType.INT);
export const Mismatches = defineSearchAttributeKey('Mismatches', SearchAttributeType.INT);

/**
 * SQL visibility stores (the dev server's SQLite, PostgreSQL) have three columns per type for
 * custom attributes: at most three Int, so the pull request and priority are Keywords.
 */
export const SEARCH_ATTRIBUTES = [RepoSlug, CommitSha, UploadMode, UploadCount, Outcome, ExperimentOutcome, Branch, PullRequest, Priority, VerifiedCommits, Mismatches];

const CLI_TYPE_NAMES: Record<string, string> = { KEYWORD: 'Keyword', INT: 'Int', TEXT: 'Text', BOOL: 'Bool' };

/** `Name=Type` as the Temporal CLI spells a search attribute. */
export function cliSearchAttributeSpecs(): string[] {
  return SEARCH_ATTRIBUTES.map((k) => `${k.name}=${CLI_TYPE_NAMES[k.type] ?? k.type}`);
}

/** `--search-attribute Name=Type` arguments for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return cliSearchAttributeSpecs().flatMap((spec) => ['--search-attribute', spec]);
}
