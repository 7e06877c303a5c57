/**
 * A process run by `runProcess` for the lifecycle test: it starts `first`, `second` and `third`
 * (each a stoppable that takes a moment to stop and logs it), then serves until a signal. The
 * scenario (argv[2]) makes the start fail, the configuration bad, a stop fail, the start hang, or
 * the work end on its own.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../../src/config';
import { runProcess } from '../../src/lifecycle';

const scenario = process.argv[2] ?? 'serve';

runProcess(async (stack) => {
  if (scenario === 'bad-config') throw new ConfigError(['TEMPORAL_ADDRESS: expected host:port']);
  for (const name of ['first', 'second', 'third']) {
    if (scenario === 'start-fails' && name === 'third') throw new Error('third would not start');
    await sleep(5);
    stack.push(name, async () => {
      await sleep(20);
      if (scenario === 'stop-fails' && name === 'second') throw new Error('refused');
    });
    console.log(`started ${name}`);
    if (scenario === 'hangs' && name === 'second') await sleep(60_000);
  }
  if (scenario === 'work-ends') {
    await stack.unwind('work done');
    return;
  }
  setInterval(() => undefined, 60_000); // serves, as a listening server would
  console.log('ready');
});
