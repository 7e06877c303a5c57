import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPathResolver, normalizePath } from '../../../src/coverage/paths';

describe('normalizePath', () => {
  const cases: [raw: string, expected: string][] = [
    ['src/a.js', 'src/a.js'],
    ['./src/a.js', 'src/a.js'],
    ['././src/./a.js', 'src/a.js'],
    ['/src/a.js', 'src/a.js'],
    ['src\\lib\\a.js', 'src/lib/a.js'],
    ['src//lib///a.js', 'src/lib/a.js'],
    ['/home/runner/work/repo/repo/src/a.js', 'src/a.js'],
    ['/Users/runner/work/repo/repo/src/a.js', 'src/a.js'],
    ['/home/travis/build/owner/repo/src/a.js', 'src/a.js'],
    ['/Users/travis/build/owner/repo/src/a.js', 'src/a.js'],
    ['/builds/group/project/src/a.js', 'src/a.js'],
    ['/home/circleci/project/src/a.js', 'src/a.js'],
    ['/root/project/src/a.js', 'src/a.js'],
    ['/var/lib/jenkins/workspace/job-name/src/a.js', 'src/a.js'],
    ['/var/jenkins_home/workspace/job/src/a.js', 'src/a.js'],
    ['/github/workspace/src/a.js', 'src/a.js'],
    ['/go/src/github.com/owner/repo/pkg/a.go', 'pkg/a.go'],
    ['/home/user/go/src/github.com/owner/repo/pkg/a.go', 'pkg/a.go'],
    ['/home/vsts/work/1/s/src/a.cs', 'src/a.cs'],
    ['/opt/atlassian/pipelines/agent/build/src/a.js', 'src/a.js'],
    ['/drone/src/src/a.js', 'src/a.js'],
    ['D:\\a\\repo\\repo\\src\\a.cs', 'src/a.cs'],
    ['D:/a/repo/repo/src/a.cs', 'src/a.cs'],
    ['D:\\a\\1\\s\\src\\a.cs', 'src/a.cs'],
    ['C:\\projects\\repo\\src\\a.cs', 'src/a.cs'],
    ['C:\\Users\\me\\repo\\src\\a.cs', 'Users/me/repo/src/a.cs'],
    ['c:/tmp/a.c', 'tmp/a.c'],
    ['file:///home/runner/work/r/r/a.js', 'a.js'],
    ['/usr/src/app/a.js', 'usr/src/app/a.js'],
    ['/home/runner/work/repo/a.js', 'home/runner/work/repo/a.js'], // too short to be a checkout
  ];
  for (const [raw, expected] of cases) {
    test(`${raw} -> ${expected}`, () => {
      assert.equal(normalizePath(raw), expected);
      assert.equal(normalizePath(normalizePath(raw)), expected, 'idempotent');
    });
  }
});

describe('createPathResolver', () => {
  test('without options it only normalises; empty paths are dropped', () => {
    const r = createPathResolver();
    assert.equal(r.resolve('/home/runner/work/x/x/lib/a.js'), 'lib/a.js');
    assert.equal(r.resolve('  '), null);
    assert.equal(r.resolve('./'), null);
  });

  test('repository files: longest suffix match, unresolvable paths dropped', () => {
    const r = createPathResolver({
      repoFiles: ['src/util/a.js', 'test/util/a.js', 'lib/a.js', 'src/b.js', 'README.md'],
    });
    assert.equal(r.resolve('/tmp/build/src/util/a.js'), 'src/util/a.js');
    assert.equal(r.resolve('C:\\ci\\test\\util\\a.js'), 'test/util/a.js');
    assert.equal(r.resolve('b.js'), 'src/b.js');
    assert.equal(r.resolve('src/b.js'), 'src/b.js');
    assert.equal(r.resolve('src/c.js'), null);
    assert.equal(r.resolve('other/x/a.js'), 'lib/a.js', 'ties go to the shortest path');
  });

  test('suffix ties do not depend on the order of the file list', () => {
    const files = ['pkg/z/util.go', 'pkg/a/util.go', 'pkg/b/util.go'];
    const a = createPathResolver({ repoFiles: files }).resolve('util.go');
    const b = createPathResolver({ repoFiles: [...files].reverse() }).resolve('util.go');
    assert.equal(a, 'pkg/a/util.go');
    assert.equal(b, a);
  });

  test('Cobertura source bases without a file list', () => {
    const r = createPathResolver();
    r.setSourceBases(['/home/runner/work/tomli/tomli/src']);
    assert.equal(r.resolve('tomli/_parser.py'), 'src/tomli/_parser.py');
    assert.equal(r.resolve('/home/runner/work/tomli/tomli/x.py'), 'x.py', 'absolute names ignore the bases');
    r.setSourceBases(['/opt/app']);
    assert.equal(r.resolve('pkg/a.py'), 'pkg/a.py', 'an unknown absolute base is the checkout root');
    r.setSourceBases(['src/']);
    assert.equal(r.resolve('pkg/a.py'), 'src/pkg/a.py', 'relative bases are joined');
  });

  test('Cobertura source bases with a file list: the first base that resolves wins', () => {
    const r = createPathResolver({ repoFiles: ['app/core/a.py', 'lib/core/a.py', 'lib/b.py'] });
    r.setSourceBases(['/build/nothing', '/build/lib', '/build/app']);
    assert.equal(r.resolve('core/a.py'), 'lib/core/a.py');
    assert.equal(r.resolve('b.py'), 'lib/b.py');
    r.setSourceBases(['/x/y']);
    assert.equal(r.resolve('gone.py'), null);
  });

  test('user fixes: replace, add and remove a prefix (Codecov semantics)', () => {
    const fix = (rules: string[], p: string) => createPathResolver({ fixes: rules }).resolve(p);
    assert.equal(fix(['src::lib'], 'src/a.js'), 'lib/a.js');
    assert.equal(fix(['src/::lib/'], 'src/a.js'), 'lib/a.js');
    assert.equal(fix(['::pkg'], 'a.go'), 'pkg/a.go');
    assert.equal(fix(['::pkg/'], 'pkg/a.go'), 'pkg/pkg/a.go', 'prefixes are added unconditionally');
    assert.equal(fix(['build/gen::'], 'build/gen/a.ts'), 'a.ts');
    assert.equal(fix(['/build/gen/::'], 'build/gen/a.ts'), 'a.ts', 'a leading slash of before is ignored');
    assert.equal(fix(['src::lib'], 'srcx/a.js'), 'libx/a.js', 'a plain prefix, as Codecov matches it');
    assert.equal(fix(['*/gen/::src/'], 'out/gen/a.ts'), 'src/a.ts', '* is one path segment');
    assert.equal(fix(['*/gen/::src/'], 'gen/a.ts'), 'gen/a.ts', '* needs at least one character');
    assert.equal(fix(['a/**/z/::'], 'a/b/c/z/f.c'), 'f.c', '** crosses segments');
    assert.equal(fix(['a.b::x'], 'aXb/f'), 'aXb/f', 'dots are literal');
    assert.equal(fix(['a/::x/', 'x/::y/'], 'a/f'), 'x/f', 'only the first matching rule applies');
    assert.equal(fix(['::a', 'a/b/::c/'], 'b/x'), 'c/x', 'prefixes are added before replacing');
    assert.equal(fix(['x::'], 'x'), null, 'a path fixed to nothing is dropped');
  });

  test('fixes apply after resolution against the repository files', () => {
    const r = createPathResolver({ repoFiles: ['src/a.js'], fixes: ['src/::lib/'] });
    assert.equal(r.resolve('/ci/checkout/src/a.js'), 'lib/a.js');
  });

  test('ignore globs apply last, to the fixed path', () => {
    const r = createPathResolver({ fixes: ['lib::vendor/lib'], ignore: ['vendor', '**/*.test.js', 'gen/?.ts'] });
    assert.equal(r.resolve('lib/a.js'), null);
    assert.equal(r.resolve('vendor/x/y.js'), null);
    assert.equal(r.resolve('src/deep/a.test.js'), null);
    assert.equal(r.resolve('a.test.js'), null);
    assert.equal(r.resolve('gen/a.ts'), null);
    assert.equal(r.resolve('gen/ab.ts'), 'gen/ab.ts');
    assert.equal(r.resolve('src/a.js'), 'src/a.js');
    assert.equal(r.resolve('vendored/a.js'), 'vendored/a.js');
  });

  test('a malformed fix rule is rejected up front', () => {
    assert.throws(() => createPathResolver({ fixes: ['no-separator'] }), /before::after/);
  });
});
