/**
 * Start and stop of Tributary's processes (the main command, the worker, the gateway), one way:
 * what a start brings up goes on a stack of named stoppables, unwound in reverse on SIGINT or
 * SIGTERM (exit 0) or when the start fails (exit 1, the error printed after the unwinding).
 */
import { DatabaseLockedError } from './storage/pglite-lock';
import { ConfigError } from './config';
import { DependencyWaitError } from './shared/wait-for';

export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export interface LifecycleOutput {
  log(line: string): void;
  error(line: string): void;
}

/** Things started, stopped last-first; a stop that fails is reported and the unwinding goes on. */
export class StopStack {
  private readonly started: Stoppable[] = [];
  private unwinding: Promise<void> | undefined;

  constructor(private readonly out: LifecycleOutput = { log: (l) => console.log(l), error: (l) => console.error(l) }) {}

  get stopping(): boolean {
    return this.unwinding !== undefined;
  }

  get empty(): boolean {
    return this.started.length === 0;
  }

  /** Registers what was just started: it stops before everything registered earlier. */
  push(name: string, stop: () => Promise<void>): void {
    this.started.push({ name, stop });
  }

  /** Stops everything once, whoever asks first (a signal, a failure, the work ending); later calls wait for it. */
  unwind(reason: string): Promise<void> {
    this.unwinding ??= this.stopAll(reason);
    return this.unwinding;
  }

  private async stopAll(reason: string): Promise<void> {
    this.out.log(`\n${reason}: stopping…`);
    // Popped one at a time, so what a start still under way pushes meanwhile is stopped too.
    for (let s = this.started.pop(); s !== undefined; s = this.started.pop()) {
      try {
        await s.stop();
        this.out.log(`  stopped ${s.name}`);
      } catch (err) {
        this.out.error(`  could not stop ${s.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

/** What a failed start prints: our own errors as their message, anything else with its stack. */
export function describeStartError(err: unknown): string {
  if (err instanceof ConfigError || err instanceof DependencyWaitError || err instanceof DatabaseLockedError) return err.message;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

export interface RunOptions {
  signals?: NodeJS.Signals[];
  out?: LifecycleOutput;
}

/**
 * Runs an entry point. `start` pushes what it starts onto the stack and resolves once the process
 * is up (a server keeps it alive) or its work is done (it unwinds the stack itself first). On a
 * signal the stack unwinds and the process exits 0; if `start` fails, it unwinds and exits 1.
 */
export function runProcess(start: (stack: StopStack) => Promise<void>, opts: RunOptions = {}): void {
  const out = opts.out ?? { log: (l: string) => console.log(l), error: (l: string) => console.error(l) };
  const stack = new StopStack(out);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    signalled = true;
    void stack.unwind(signal).then(() => process.exit(0));
  };
  for (const signal of opts.signals ?? ['SIGINT', 'SIGTERM']) process.on(signal, onSignal);
  start(stack).catch(async (err: unknown) => {
    // A start cut short by a signal is that signal's stop, which exits 0 once it is done.
    if (signalled) return;
    // Nothing started yet (a bad configuration): the error alone says it.
    if (!stack.empty || stack.stopping) await stack.unwind('error');
    out.error(describeStartError(err));
    process.exit(1);
  });
}
