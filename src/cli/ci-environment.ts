import { z } from 'zod';

/**
 * What the CI running `tributary upload` says about the commit, read from the variables each CI
 * documents; pure (environment in, metadata out) so every CI's set can be tested as it is. The
 * commit sha is not read: `--commit` names it (GitHub's GITHUB_SHA, for one, is the merge commit
 * of a pull request, not the commit the report is about), and neither is the parent, which none
 * of these CIs exports (GitLab's CI_COMMIT_BEFORE_SHA is the branch's previous tip, not the parent).
 */

export const CI_SERVICES = ['github-actions', 'gitlab', 'circleci', 'jenkins', 'buildkite'] as const;
export type CiService = (typeof CI_SERVICES)[number];

/** The upload API's own limits, so a value the server would refuse is dropped here, with a note. */
export const CiMetadataSchema = z.object({
  ciService: z.enum(CI_SERVICES),
  branch: z.string().min(1).max(1000).optional(),
  pullRequest: z.number().int().nonnegative().max(2_147_483_647).optional(),
  build: z.string().min(1).max(10_000).optional(),
  job: z.string().min(1).max(10_000).optional(),
  ciUrl: z.url({ protocol: /^https?$/ }).max(10_000).optional(),
});
export type CiMetadata = z.infer<typeof CiMetadataSchema>;

export interface CiDetection {
  metadata: CiMetadata;
  /** Variables set but unusable (a URL that is not http(s), a PR that is not a number), to print as notes. */
  ignored: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** An unset or empty variable is absent; Jenkins and others export empty ones. */
const EnvSchema = z.record(z.string(), z.string().optional()).transform((env) => (name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
});
type Read = z.output<typeof EnvSchema>;

/** Candidate values before validation; `from` names the variable for the note when it is refused. */
interface Found {
  branch?: Value;
  pullRequest?: Value;
  build?: Value;
  job?: Value;
  ciUrl?: Value;
}
interface Value {
  value: string;
  from: string;
}

const take = (read: Read, ...names: string[]): Value | undefined => {
  for (const from of names) {
    const value = read(from);
    if (value !== undefined) return { value, from };
  }
  return undefined;
};

/** `.../pull/12`, `refs/pull/12/merge`: the number after `pull/`. */
const pullFrom = (v: Value | undefined, pattern: RegExp): Value | undefined => {
  if (v === undefined) return undefined;
  const m = pattern.exec(v.value);
  return m === null ? undefined : { value: m[1]!, from: v.from };
};

const DETECTORS: Record<CiService, { present: (read: Read) => boolean; read: (read: Read) => Found }> = {
  'github-actions': {
    present: (read) => read('GITHUB_ACTIONS') === 'true',
    read: (read) => {
      const runId = read('GITHUB_RUN_ID');
      const server = read('GITHUB_SERVER_URL');
      const repository = read('GITHUB_REPOSITORY');
      return {
        // GITHUB_HEAD_REF is set only for pull requests, whose GITHUB_REF_NAME is `12/merge`;
        // a tag's GITHUB_REF_NAME is not a branch.
        branch: take(read, 'GITHUB_HEAD_REF') ?? (read('GITHUB_REF_TYPE') === 'tag' ? undefined : take(read, 'GITHUB_REF_NAME')),
        pullRequest: pullFrom(take(read, 'GITHUB_REF'), /^refs\/pull\/(\d+)\/(?:merge|head)$/),
        build: take(read, 'GITHUB_RUN_ID'),
        job: take(read, 'GITHUB_JOB'),
        ciUrl:
          runId !== undefined && server !== undefined && repository !== undefined
            ? { value: `${server.replace(/\/+$/, '')}/${repository}/actions/runs/${runId}`, from: 'GITHUB_SERVER_URL' }
            : undefined,
      };
    },
  },
  gitlab: {
    present: (read) => read('GITLAB_CI') === 'true',
    read: (read) => ({
      branch: take(read, 'CI_MERGE_REQUEST_SOURCE_BRANCH_NAME') ?? (read('CI_COMMIT_TAG') !== undefined ? undefined : take(read, 'CI_COMMIT_REF_NAME')),
      pullRequest: take(read, 'CI_MERGE_REQUEST_IID'),
      build: take(read, 'CI_PIPELINE_ID'),
      job: take(read, 'CI_JOB_NAME', 'CI_JOB_ID'),
      ciUrl: take(read, 'CI_JOB_URL', 'CI_PIPELINE_URL'),
    }),
  },
  circleci: {
    present: (read) => read('CIRCLECI') === 'true',
    read: (read) => ({
      branch: take(read, 'CIRCLE_BRANCH'),
      pullRequest: pullFrom(take(read, 'CIRCLE_PULL_REQUEST'), /\/pull\/(\d+)\/?$/),
      build: take(read, 'CIRCLE_BUILD_NUM'),
      job: take(read, 'CIRCLE_JOB'),
      ciUrl: take(read, 'CIRCLE_BUILD_URL'),
    }),
  },
  jenkins: {
    present: (read) => read('JENKINS_URL') !== undefined,
    read: (read) => {
      // A multibranch pull request build's BRANCH_NAME is `PR-12`; CHANGE_BRANCH is its branch.
      // The Git plugin's GIT_BRANCH names the remote-tracking branch (`origin/main`).
      const gitBranch = take(read, 'GIT_BRANCH');
      const branch = take(read, 'CHANGE_BRANCH', 'BRANCH_NAME') ?? (gitBranch && { ...gitBranch, value: gitBranch.value.replace(/^origin\//, '') });
      const change = take(read, 'CHANGE_ID');
      return {
        branch,
        // CHANGE_ID is a number for GitHub, GitLab and Bitbucket; other SCMs' ids are not PRs of ours.
        pullRequest: change !== undefined && /^\d+$/.test(change.value) ? change : undefined,
        build: take(read, 'BUILD_NUMBER'),
        job: take(read, 'JOB_NAME'),
        ciUrl: take(read, 'BUILD_URL'),
      };
    },
  },
  buildkite: {
    present: (read) => read('BUILDKITE') === 'true',
    read: (read) => {
      const pr = take(read, 'BUILDKITE_PULL_REQUEST');
      return {
        branch: take(read, 'BUILDKITE_BRANCH'),
        pullRequest: pr?.value === 'false' ? undefined : pr,
        build: take(read, 'BUILDKITE_BUILD_NUMBER'),
        job: take(read, 'BUILDKITE_JOB_ID'),
        ciUrl: take(read, 'BUILDKITE_BUILD_URL'),
      };
    },
  },
};

/**
 * The CI this process runs on and what it says about the commit, or undefined outside a known
 * CI. Each value is checked on its own: one the server would refuse is left out and named in
 * `ignored`, so a strange variable never fails an upload.
 */
export function detectCi(env: Env): CiDetection | undefined {
  // A copy: process.env is not a plain object, which zod's record refuses.
  const read = EnvSchema.parse({ ...env });
  const service = CI_SERVICES.find((s) => DETECTORS[s].present(read));
  if (service === undefined) return undefined;
  const found = DETECTORS[service].read(read);
  const metadata: CiMetadata = { ciService: service };
  const ignored: string[] = [];
  const fields = CiMetadataSchema.shape;
  const keep = <K extends keyof Found>(key: K, schema: z.ZodType<CiMetadata[K]>, raw: (v: string) => unknown = (v) => v) => {
    const v = found[key];
    if (v === undefined) return;
    const parsed = schema.safeParse(raw(v.value));
    if (parsed.success) metadata[key] = parsed.data;
    else ignored.push(`${v.from}=${JSON.stringify(v.value.slice(0, 200))}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  };
  keep('branch', fields.branch);
  keep('pullRequest', fields.pullRequest, (v) => (/^\d+$/.test(v) ? Number(v) : v));
  keep('build', fields.build);
  keep('job', fields.job);
  keep('ciUrl', fields.ciUrl);
  return { metadata: CiMetadataSchema.parse(metadata), ignored };
}
