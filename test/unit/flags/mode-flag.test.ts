import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createModeDecider } from '../../../src/flags/mode-flag';
import { decideRollout, parseRolloutSpec, rolloutBucket } from '../../../src/flags/rollout';
import type { UploadMode } from '../../../src/vocabulary';

const repos = Array.from({ length: 2000 }, (_, i) => `org${i % 37}/repo-${i}`);

describe('rollout', () => {
  test('buckets are stable, in [0, 1), and depend on the salt and the mode', () => {
    const b = rolloutBucket('acme/app', 'experiment', 's1');
    assert.equal(rolloutBucket('acme/app', 'experiment', 's1'), b);
    assert.ok(b >= 0 && b < 1);
    assert.notEqual(rolloutBucket('acme/app', 'experiment', 's2'), b);
    assert.notEqual(rolloutBucket('acme/app', 'serial', 's1'), b);
  });

  test('a proportion selects about that share of repositories', () => {
    const chosen = repos.filter((r) => decideRollout(r, { experiment: 0.25 }, 'salt')?.mode === 'experiment').length;
    assert.ok(chosen > 2000 * 0.2 && chosen < 2000 * 0.3, `${chosen} of 2000 chosen for 25%`);
  });

  test('raising a proportion only adds repositories to that mode', () => {
    const inMode = (p: number) => new Set(repos.filter((r) => decideRollout(r, { experiment: p, serial: 0.2 }, 'salt')?.mode === 'experiment'));
    const low = inMode(0.1);
    const high = inMode(0.3);
    assert.ok(high.size > low.size);
    for (const r of low) assert.ok(high.has(r), `${r} left the experiment when its proportion rose`);
  });

  test('raising one mode does not reshuffle repositories among the others', () => {
    const before = new Map(repos.map((r) => [r, decideRollout(r, { experiment: 0.1, serial: 0.3 }, 'salt')?.mode ?? 'default']));
    const after = new Map(repos.map((r) => [r, decideRollout(r, { experiment: 0.2, serial: 0.3 }, 'salt')?.mode ?? 'default']));
    for (const r of repos) {
      if (after.get(r) !== before.get(r)) assert.equal(after.get(r), 'experiment', `${r} moved from ${before.get(r)} to ${after.get(r)}`);
    }
  });

  test('parses the environment spelling and rejects nonsense', () => {
    assert.deepEqual(parseRolloutSpec('experiment=0.1, serial=0.05'), { experiment: 0.1, serial: 0.05 });
    assert.deepEqual(parseRolloutSpec(''), {});
    assert.throws(() => parseRolloutSpec('experiment=2'));
    assert.throws(() => parseRolloutSpec('fast=0.1'));
    assert.throws(() => parseRolloutSpec('serial='));
  });
});

describe('upload-mode flag through OpenFeature', () => {
  test('override, then rollout, then default; each with its reason', async () => {
    const overrides = new Map<string, UploadMode>([['acme/pinned', 'serial']]);
    const decide = await createModeDecider({
      getOverride: async (repo) => overrides.get(repo) ?? null,
      rollout: { experiment: 0.5 },
      salt: 'test',
      defaultMode: 'parallel',
    });
    assert.deepEqual(await decide('acme/pinned'), { mode: 'serial', reason: 'repository override: serial' });
    const rolled = repos.find((r) => decideRollout(r, { experiment: 0.5 }, 'test'));
    const notRolled = repos.find((r) => !decideRollout(r, { experiment: 0.5 }, 'test'));
    assert.ok(rolled && notRolled);
    const a = await decide(rolled);
    assert.equal(a.mode, 'experiment');
    assert.match(a.reason, /^rollout: experiment for 50\.0% of repositories \(bucket 0\.\d{4}\)$/);
    assert.deepEqual(await decide(notRolled), { mode: 'parallel', reason: 'default mode: parallel' });
  });

  test('a failing override lookup falls back to the default and says why', async () => {
    const decide = await createModeDecider({
      getOverride: async () => {
        throw new Error('database unreachable');
      },
      rollout: {},
      salt: 'test',
      defaultMode: 'serial',
    });
    const d = await decide('acme/app');
    assert.equal(d.mode, 'serial');
    assert.match(d.reason, /flag evaluation failed .*database unreachable/);
  });

  test('two deciders in one process keep their own providers', async () => {
    const a = await createModeDecider({ getOverride: async () => null, rollout: {}, salt: 's', defaultMode: 'serial' });
    const b = await createModeDecider({ getOverride: async () => null, rollout: {}, salt: 's', defaultMode: 'experiment' });
    assert.equal((await a('x/y')).mode, 'serial');
    assert.equal((await b('x/y')).mode, 'experiment');
  });
});
