/**
 * The start/stop helper of the main command, the worker and the gateway, on a real process:
 * signals unwind what started in reverse order and exit 0; a failing start unwinds what did start
 * and exits 1 with the error; a bad configuration is its message alone.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

interface Run {
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  until(text: string): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

function run(scenario: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/support/lifecycle-process.ts'), scenario], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    output: () => output,
    exited,
    async until(text) {
      const deadline = Date.now() + 30_000;
      while (!output.includes(text)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no "${text}" in:\n${output}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    kill: (signal) => child.kill(signal),
  };
}

const lines = (output: string) => output.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);

describe('lifecycle', { concurrency: true }, () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} stops what started in reverse order and exits 0`, async () => {
      const p = run('serve');
      await p.until('ready');
      p.kill(signal);
      assert.deepEqual(await p.exited, { code: 0, signal: null });
      assert.deepEqual(lines(p.output()), ['started first', 'started second', 'started third', 'ready', `${signal}: stopping…`, 'stopped third', 'stopped second', 'stopped first']);
    });
  }

  test('a failing start unwinds what did start, then prints the error and exits 1', async () => {
    const p = run('start-fails');
    assert.deepEqual(await p.exited, { code: 1, signal: null });
    const out = lines(p.output());
    assert.deepEqual(out.slice(0, 5), ['started first', 'started second', 'error: stopping…', 'stopped second', 'stopped first']);
    assert.match(out[5]!, /^Error: third would not start/);
    assert.ok(out.some((l) => l.startsWith('at ')), 'an unexpected error comes with its stack');
  });

  test('a bad configuration is printed as its message, nothing to stop, exit 1', async () => {
    const p = run('bad-config');
    assert.deepEqual(await p.exited, { code: 1, signal: null });
    assert.deepEqual(lines(p.output()), ['Invalid configuration:', '- TEMPORAL_ADDRESS: expected host:port']);
  });

  test('a stop that fails is reported and the rest still stops', async () => {
    const p = run('stop-fails');
    await p.until('ready');
    p.kill('SIGTERM');
    assert.deepEqual(await p.exited, { code: 0, signal: null });
    assert.deepEqual(lines(p.output()).slice(4), ['SIGTERM: stopping…', 'stopped third', 'could not stop second: refused', 'stopped first']);
  });

  test('a signal during the start stops what has started so far', async () => {
    const p = run('hangs');
    await p.until('started second');
    p.kill('SIGTERM');
    assert.deepEqual(await p.exited, { code: 0, signal: null });
    assert.deepEqual(lines(p.output()), ['started first', 'started second', 'SIGTERM: stopping…', 'stopped second', 'stopped first']);
  });

  test('work that ends on its own unwinds once and the process exits 0', async () => {
    const p = run('work-ends');
    assert.deepEqual(await p.exited, { code: 0, signal: null });
    assert.deepEqual(lines(p.output()), ['started first', 'started second', 'started third', 'work done: stopping…', 'stopped third', 'stopped second', 'stopped first']);
  });
});
