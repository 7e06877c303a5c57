/**
 * CI detection from each CI's documented variables, as a job of that CI has them (including the
 * ones that must not be read: commit shas, GitLab's CI_COMMIT_BEFORE_SHA).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectCi } from '../../../src/cli/ci-environment';

const SHA = '4f2a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a';
const BASE = { PATH: '/usr/bin:/bin', HOME: '/home/runner', LANG: 'C.UTF-8' };

describe('detectCi', () => {
  test('outside a CI: nothing', () => {
    assert.equal(detectCi(BASE), undefined);
    assert.equal(detectCi({ ...BASE, CI: 'true' }), undefined, 'the generic CI variable names no service');
    assert.equal(detectCi({ ...BASE, GITHUB_ACTIONS: 'false', GITLAB_CI: '' }), undefined);
  });

  // https://docs.github.com/en/actions/reference/variables-reference
  const github = {
    ...BASE,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTOR: 'octocat',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_JOB: 'test',
    GITHUB_REF: 'refs/heads/feature/login',
    GITHUB_REF_NAME: 'feature/login',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_HEAD_REF: '',
    GITHUB_BASE_REF: '',
    GITHUB_REPOSITORY: 'octo-org/octo-repo',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_RUN_ID: '1658821493',
    GITHUB_RUN_NUMBER: '3',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: SHA,
    GITHUB_WORKFLOW: 'CI',
    RUNNER_OS: 'Linux',
  };

  test('GitHub Actions, a push: branch from GITHUB_REF_NAME, run, job and run URL; no PR', () => {
    assert.deepEqual(detectCi(github), {
      metadata: {
        ciService: 'github-actions',
        branch: 'feature/login',
        build: '1658821493',
        job: 'test',
        ciUrl: 'https://github.com/octo-org/octo-repo/actions/runs/1658821493',
      },
      ignored: [],
    });
  });

  test('GitHub Actions, a pull request: branch from GITHUB_HEAD_REF, PR from refs/pull/N/merge', () => {
    const pr = { ...github, GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/42/merge', GITHUB_REF_NAME: '42/merge', GITHUB_HEAD_REF: 'feature/login', GITHUB_BASE_REF: 'main' };
    const d = detectCi(pr);
    assert.equal(d?.metadata.branch, 'feature/login');
    assert.equal(d?.metadata.pullRequest, 42);
  });

  test('GitHub Actions, a tag: no branch', () => {
    const d = detectCi({ ...github, GITHUB_REF: 'refs/tags/v1.2.0', GITHUB_REF_NAME: 'v1.2.0', GITHUB_REF_TYPE: 'tag' });
    assert.equal(d?.metadata.branch, undefined);
    assert.equal(d?.metadata.build, '1658821493');
  });

  test('GitHub Enterprise: the run URL on its own server, a trailing slash dropped', () => {
    const d = detectCi({ ...github, GITHUB_SERVER_URL: 'https://ghe.example.com/' });
    assert.equal(d?.metadata.ciUrl, 'https://ghe.example.com/octo-org/octo-repo/actions/runs/1658821493');
  });

  // https://docs.gitlab.com/ci/variables/predefined_variables/
  const gitlab = {
    ...BASE,
    CI: 'true',
    GITLAB_CI: 'true',
    CI_SERVER_URL: 'https://gitlab.example.com',
    CI_PROJECT_PATH: 'group/project',
    CI_COMMIT_SHA: SHA,
    CI_COMMIT_BEFORE_SHA: '1111111111111111111111111111111111111111',
    CI_COMMIT_REF_NAME: 'main',
    CI_COMMIT_BRANCH: 'main',
    CI_PIPELINE_ID: '1000273',
    CI_PIPELINE_URL: 'https://gitlab.example.com/group/project/-/pipelines/1000273',
    CI_PIPELINE_SOURCE: 'push',
    CI_JOB_ID: '50001',
    CI_JOB_NAME: 'test:unit',
    CI_JOB_STAGE: 'test',
    CI_JOB_URL: 'https://gitlab.example.com/group/project/-/jobs/50001',
  };

  test('GitLab CI, a branch pipeline: ref name, pipeline, job name and job URL; CI_COMMIT_BEFORE_SHA is not the parent', () => {
    assert.deepEqual(detectCi(gitlab), {
      metadata: {
        ciService: 'gitlab',
        branch: 'main',
        build: '1000273',
        job: 'test:unit',
        ciUrl: 'https://gitlab.example.com/group/project/-/jobs/50001',
      },
      ignored: [],
    });
  });

  test('GitLab CI, a merge request pipeline: the source branch and the MR iid', () => {
    const mr = {
      ...gitlab,
      CI_PIPELINE_SOURCE: 'merge_request_event',
      CI_COMMIT_REF_NAME: 'refs/merge-requests/17/head',
      CI_COMMIT_BRANCH: '',
      CI_MERGE_REQUEST_IID: '17',
      CI_MERGE_REQUEST_ID: '9917',
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'fix-parser',
      CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
    };
    const d = detectCi(mr);
    assert.equal(d?.metadata.branch, 'fix-parser');
    assert.equal(d?.metadata.pullRequest, 17);
  });

  test('GitLab CI, a tag pipeline: no branch; without CI_JOB_NAME the job id', () => {
    const d = detectCi({ ...gitlab, CI_COMMIT_TAG: 'v2.0.0', CI_COMMIT_REF_NAME: 'v2.0.0', CI_COMMIT_BRANCH: '', CI_JOB_NAME: '' });
    assert.equal(d?.metadata.branch, undefined);
    assert.equal(d?.metadata.job, '50001');
  });

  // https://circleci.com/docs/reference/variables/
  const circle = {
    ...BASE,
    CI: 'true',
    CIRCLECI: 'true',
    CIRCLE_BRANCH: 'feature-x',
    CIRCLE_BUILD_NUM: '2045',
    CIRCLE_BUILD_URL: 'https://circleci.com/gh/acme/widgets/2045',
    CIRCLE_JOB: 'test',
    CIRCLE_PROJECT_REPONAME: 'widgets',
    CIRCLE_PROJECT_USERNAME: 'acme',
    CIRCLE_PULL_REQUEST: 'https://github.com/acme/widgets/pull/123',
    CIRCLE_PULL_REQUESTS: 'https://github.com/acme/widgets/pull/123',
    CIRCLE_SHA1: SHA,
    CIRCLE_WORKFLOW_ID: '0b4b3c6e-0d2e-4f4a-9a3c-5b1c2d3e4f5a',
  };

  test('CircleCI: branch, the PR number from its URL, build number, job and build URL', () => {
    assert.deepEqual(detectCi(circle), {
      metadata: {
        ciService: 'circleci',
        branch: 'feature-x',
        pullRequest: 123,
        build: '2045',
        job: 'test',
        ciUrl: 'https://circleci.com/gh/acme/widgets/2045',
      },
      ignored: [],
    });
    const noPr: Record<string, string> = { ...circle };
    delete noPr.CIRCLE_PULL_REQUEST;
    delete noPr.CIRCLE_PULL_REQUESTS;
    assert.equal(detectCi(noPr)?.metadata.pullRequest, undefined);
  });

  // https://www.jenkins.io/doc/book/pipeline/jenkinsfile/#using-environment-variables (env-vars.html)
  const jenkins = {
    ...BASE,
    JENKINS_URL: 'https://jenkins.example.com/',
    JENKINS_HOME: '/var/jenkins_home',
    BUILD_ID: '88',
    BUILD_NUMBER: '88',
    BUILD_TAG: 'jenkins-widgets-main-88',
    BUILD_URL: 'https://jenkins.example.com/job/widgets/job/main/88/',
    JOB_NAME: 'widgets/main',
    JOB_BASE_NAME: 'main',
    BRANCH_NAME: 'main',
    EXECUTOR_NUMBER: '0',
    NODE_NAME: 'built-in',
    WORKSPACE: '/var/jenkins_home/workspace/widgets_main',
    GIT_COMMIT: SHA,
  };

  test('Jenkins, a multibranch branch build: BRANCH_NAME, build number, job name and build URL', () => {
    assert.deepEqual(detectCi(jenkins), {
      metadata: {
        ciService: 'jenkins',
        branch: 'main',
        build: '88',
        job: 'widgets/main',
        ciUrl: 'https://jenkins.example.com/job/widgets/job/main/88/',
      },
      ignored: [],
    });
  });

  test('Jenkins, a multibranch pull request build: CHANGE_BRANCH (BRANCH_NAME is PR-7) and CHANGE_ID', () => {
    const d = detectCi({ ...jenkins, BRANCH_NAME: 'PR-7', CHANGE_ID: '7', CHANGE_BRANCH: 'topic', CHANGE_TARGET: 'main', CHANGE_URL: 'https://github.com/acme/widgets/pull/7' });
    assert.equal(d?.metadata.branch, 'topic');
    assert.equal(d?.metadata.pullRequest, 7);
  });

  test('Jenkins, a freestyle job with the Git plugin: GIT_BRANCH without its remote', () => {
    const freestyle: Record<string, string> = { ...jenkins, GIT_BRANCH: 'origin/release-1.x', JOB_NAME: 'widgets-release' };
    delete freestyle.BRANCH_NAME;
    const d = detectCi(freestyle);
    assert.equal(d?.metadata.branch, 'release-1.x');
    assert.equal(d?.metadata.job, 'widgets-release');
  });

  // https://buildkite.com/docs/pipelines/configure/environment-variables
  const buildkite = {
    ...BASE,
    CI: 'true',
    BUILDKITE: 'true',
    BUILDKITE_BRANCH: 'main',
    BUILDKITE_BUILD_ID: '01890b8a-4b6c-4a7e-9f3e-6f2b1c0d9e8a',
    BUILDKITE_BUILD_NUMBER: '1514',
    BUILDKITE_BUILD_URL: 'https://buildkite.com/acme/widgets/builds/1514',
    BUILDKITE_COMMIT: SHA,
    BUILDKITE_JOB_ID: '01890b8a-5c7d-4e8f-a0b1-c2d3e4f5a6b7',
    BUILDKITE_LABEL: ':test_tube: Tests',
    BUILDKITE_PIPELINE_SLUG: 'widgets',
    BUILDKITE_PULL_REQUEST: 'false',
    BUILDKITE_PULL_REQUEST_BASE_BRANCH: '',
  };

  test('Buildkite: branch, build number, job id and build URL; BUILDKITE_PULL_REQUEST "false" is no PR', () => {
    assert.deepEqual(detectCi(buildkite), {
      metadata: {
        ciService: 'buildkite',
        branch: 'main',
        build: '1514',
        job: '01890b8a-5c7d-4e8f-a0b1-c2d3e4f5a6b7',
        ciUrl: 'https://buildkite.com/acme/widgets/builds/1514',
      },
      ignored: [],
    });
    const pr = detectCi({ ...buildkite, BUILDKITE_BRANCH: 'topic', BUILDKITE_PULL_REQUEST: '88', BUILDKITE_PULL_REQUEST_BASE_BRANCH: 'main' });
    assert.equal(pr?.metadata.pullRequest, 88);
  });

  test('a value the server would refuse is left out and named; the rest is kept', () => {
    const d = detectCi({ ...buildkite, BUILDKITE_PULL_REQUEST: 'yes', BUILDKITE_BUILD_URL: 'ftp://buildkite.example/1' });
    assert.equal(d?.metadata.pullRequest, undefined);
    assert.equal(d?.metadata.ciUrl, undefined);
    assert.equal(d?.metadata.branch, 'main');
    assert.equal(d?.ignored.length, 2);
    assert.match(d!.ignored[0]!, /^BUILDKITE_PULL_REQUEST="yes": /);
    assert.match(d!.ignored[1]!, /^BUILDKITE_BUILD_URL="ftp:\/\/buildkite.example\/1": /);
  });

  test('no commit sha or parent is ever taken from the environment', () => {
    for (const env of [github, gitlab, circle, jenkins, buildkite]) {
      const text = JSON.stringify(detectCi(env));
      assert.doesNotMatch(text, new RegExp(SHA), 'the commit sha');
      assert.doesNotMatch(text, /1111111111/, 'GitLab CI_COMMIT_BEFORE_SHA');
    }
  });
});
