import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { ConfigError, loadConfig } from '../../src/config';
import { REVERIFY_CATCHUP_WINDOW, reverifyScheduleOptions } from '../../src/temporal/reverify-schedule';
import { REVERIFY_SCHEDULE_ID } from '../../src/workflows/reverify-contracts';

const load = (env: Record<string, string>) => loadConfig({ TRIBUTARY_DATA_DIR: '/tmp/tributary-config-test', ...env });

test('TRIBUTARY_REVERIFY_*: defaults, durations, cron expressions and repository lists', () => {
  assert.deepEqual(load({}).reverify, { timing: { kind: 'cron', expression: '17 3 * * *' }, sampleSize: 20, repositories: [], paused: false });
  assert.deepEqual(load({ TRIBUTARY_REVERIFY_SCHEDULE: '6h' }).reverify.timing, { kind: 'every', ms: 6 * 3_600_000 });
  assert.deepEqual(load({ TRIBUTARY_REVERIFY_SCHEDULE: ' */15  2-4 * * 1,3 ' }).reverify.timing, { kind: 'cron', expression: '*/15 2-4 * * 1,3' });
  assert.deepEqual(load({ TRIBUTARY_REVERIFY_REPOS: 'b/two, a/one,b/two' }).reverify.repositories, ['a/one', 'b/two']);
  assert.equal(load({ TRIBUTARY_REVERIFY_PAUSED: 'yes', TRIBUTARY_REVERIFY_SAMPLE: '0' }).reverify.paused, true);
  for (const [name, value] of [
    ['TRIBUTARY_REVERIFY_SCHEDULE', '30s'],
    ['TRIBUTARY_REVERIFY_SCHEDULE', '* * *'],
    ['TRIBUTARY_REVERIFY_SCHEDULE', 'rm -rf / * *'],
    ['TRIBUTARY_REVERIFY_SAMPLE', '-1'],
    ['TRIBUTARY_REVERIFY_REPOS', 'acme'],
    ['TRIBUTARY_REVERIFY_PAUSED', 'maybe'],
  ] as const) {
    assert.throws(() => load({ [name]: value }), (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.startsWith(`${name}:`)), `${name}=${value}`);
  }
});

test('the schedule options follow the configuration: spec, sample, filter, overlap SKIP, bounded catch-up, paused', () => {
  const cron = reverifyScheduleOptions(load({ TRIBUTARY_REVERIFY_REPOS: 'a/one', TRIBUTARY_REVERIFY_SAMPLE: '7', TEMPORAL_TASK_QUEUE: 'q1' }));
  assert.equal(cron.scheduleId, REVERIFY_SCHEDULE_ID);
  assert.deepEqual(cron.spec, { cronExpressions: ['17 3 * * *'], timezone: 'UTC' });
  assert.equal(cron.action.taskQueue, 'q1');
  assert.deepEqual(cron.action.args, [{ sampleSize: 7, repositories: ['a/one'], maxParallel: 16 }]);
  assert.deepEqual(cron.policies, { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: REVERIFY_CATCHUP_WINDOW });
  assert.equal(cron.state?.paused, false);
  const every = reverifyScheduleOptions(load({ TRIBUTARY_REVERIFY_SCHEDULE: '2h', TRIBUTARY_REVERIFY_PAUSED: 'true' }));
  assert.deepEqual(every.spec, { intervals: [{ every: 7_200_000 }] });
  assert.equal(every.state?.paused, true);
});
