/** throttledHeartbeat: at most one heartbeat an interval, the first at once, none in a local activity. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { throttledHeartbeat } from '../../../src/activities/heartbeat';

async function beatsOf(env: MockActivityEnvironment, body: () => void): Promise<unknown[]> {
  const sent: unknown[] = [];
  env.on('heartbeat', (details: unknown) => sent.push(details));
  await env.run(async () => body());
  return sent;
}

test('within an interval only the first heartbeat is sent', async () => {
  const sent = await beatsOf(new MockActivityEnvironment(), () => {
    const beat = throttledHeartbeat(60_000);
    for (let i = 0; i < 5; i++) beat({ done: i });
  });
  assert.deepEqual(sent, [{ done: 0 }]);
});

test('each execution throttles on its own, and a zero interval sends every one', async () => {
  const sent = await beatsOf(new MockActivityEnvironment(), () => {
    const first = throttledHeartbeat(60_000);
    const second = throttledHeartbeat(60_000);
    first('a');
    second('b');
    const every = throttledHeartbeat(0);
    every(1);
    every(2);
  });
  assert.deepEqual(sent, ['a', 'b', 1, 2]);
});

test('a heartbeat after the interval is sent again', async () => {
  const env = new MockActivityEnvironment();
  const sent: unknown[] = [];
  env.on('heartbeat', (details: unknown) => sent.push(details));
  await env.run(async () => {
    const beat = throttledHeartbeat(20);
    beat('first');
    beat('suppressed');
    await new Promise((r) => setTimeout(r, 40));
    beat('after');
  });
  assert.deepEqual(sent, ['first', 'after']);
});

test('a local activity sends none', async () => {
  const sent = await beatsOf(new MockActivityEnvironment({ isLocal: true }), () => throttledHeartbeat(0)('x'));
  assert.deepEqual(sent, []);
});
