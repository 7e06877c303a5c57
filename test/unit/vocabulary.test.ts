/** Repository slugs: OWNER/NAME with a nested owner (GitLab subgroups), and the paths built from them. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { repoPath, commitPath } from '../../src/api/views';
import { decodeSlug } from '../../src/codecov/protocol';
import { loadConfig } from '../../src/config';
import { MAX_SLUG_LENGTH, MAX_SLUG_SEGMENTS, REPO_OWNER, RepoSlugSchema, splitRepoSlug } from '../../src/vocabulary';

const deep = (n: number) => Array.from({ length: n }, (_, i) => `g${i}`).join('/');

describe('RepoSlugSchema', () => {
  test('accepts OWNER/NAME with an owner of one or more segments, up to the bounds', () => {
    for (const slug of ['acme/app', 'group/sub/app', 'a/b/c/d/repo', 'My.Org/sub_group-1/app.js', deep(MAX_SLUG_SEGMENTS), `${'a'.repeat(100)}/${'b'.repeat(100)}/${'c'.repeat(53)}`]) {
      assert.equal(RepoSlugSchema.safeParse(slug).success, true, slug);
    }
    assert.equal(`${'a'.repeat(100)}/${'b'.repeat(100)}/${'c'.repeat(53)}`.length, MAX_SLUG_LENGTH);
  });

  test('refuses a single segment, empty or bad segments, too deep or too long, and says what it expects', () => {
    const bad = [
      'app',
      '',
      'group//app',
      '/group/app',
      'group/app/',
      'group/-sub/app',
      'group/.hidden/app',
      'group/sub/a..b/../x',
      'group/sub app/x',
      'group:::sub::::app',
      'group%2Fsub/app',
      deep(MAX_SLUG_SEGMENTS + 1),
      `${'a'.repeat(100)}/${'b'.repeat(100)}/${'c'.repeat(54)}`,
      `g/${'x'.repeat(101)}/app`,
    ];
    for (const slug of bad) {
      const r = RepoSlugSchema.safeParse(slug);
      assert.equal(r.success, false, slug);
      assert.match(r.error!.issues[0]!.message, /^expected OWNER\/NAME/, slug);
    }
    assert.match(RepoSlugSchema.safeParse('app').error!.issues[0]!.message, /one or more segments joined by \/.*at most 20 segments/);
  });

  test("a path segment's owner: one or more segments, never the name's extra one", () => {
    assert.ok(REPO_OWNER.test('group'));
    assert.ok(REPO_OWNER.test('group/sub'));
    assert.ok(REPO_OWNER.test(deep(MAX_SLUG_SEGMENTS - 1)));
    assert.ok(!REPO_OWNER.test(deep(MAX_SLUG_SEGMENTS)));
    assert.ok(!REPO_OWNER.test('group/'));
    assert.ok(!REPO_OWNER.test('group//sub'));
  });

  test('the Codecov encoding of every depth decodes to a slug the schema takes', () => {
    for (const [encoded, slug] of [
      ['acme::::app', 'acme/app'],
      ['group:::sub::::app', 'group/sub/app'],
      ['a:::b:::c::::repo', 'a/b/c/repo'],
    ] as const) {
      assert.equal(decodeSlug(encoded), slug);
      assert.equal(RepoSlugSchema.parse(decodeSlug(encoded)), slug);
    }
  });

  test('config lists of repositories take nested slugs', () => {
    assert.deepEqual(loadConfig({ TRIBUTARY_REVERIFY_REPOS: 'acme/app,group/sub/app' }).reverify.repositories, ['acme/app', 'group/sub/app']);
  });
});

describe('splitRepoSlug and the API path', () => {
  test('the name is the last segment, the owner everything before it', () => {
    assert.deepEqual(splitRepoSlug('acme/app'), { owner: 'acme', name: 'app' });
    assert.deepEqual(splitRepoSlug('group/sub/app'), { owner: 'group/sub', name: 'app' });
    assert.deepEqual(splitRepoSlug('a/b/c/repo'), { owner: 'a/b/c', name: 'repo' });
  });

  test('a nested owner is one path segment with its slashes as %2F', () => {
    assert.equal(repoPath('acme/app'), '/api/v1/repos/acme/app');
    assert.equal(repoPath('group/sub/app'), '/api/v1/repos/group%2Fsub/app');
    assert.equal(commitPath('a/b/c/repo', 'abc1234'), '/api/v1/repos/a%2Fb%2Fc/repo/commits/abc1234');
  });
});
