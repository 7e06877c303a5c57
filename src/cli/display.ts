import readline from 'node:readline';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { CliIo } from './io';

/**
 * One status line per item. On a terminal the lines are redrawn in place; elsewhere (CI logs,
 * pipes) each change is printed once as its own line, with no escape codes.
 */
export interface StatusLines {
  set(key: string, text: string): void;
  /** Stops redrawing; the lines stay as they are. */
  done(): void;
}

export function statusLines(io: CliIo): StatusLines {
  return io.terminal ? new LiveLines(io.terminal) : new PlainLines(io);
}

class PlainLines implements StatusLines {
  private readonly last = new Map<string, string>();
  constructor(private readonly io: CliIo) {}

  set(key: string, text: string): void {
    if (this.last.get(key) === text) return;
    this.last.set(key, text);
    this.io.stdout(`${text}\n`);
  }

  done(): void {}
}

class LiveLines implements StatusLines {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private drawn = 0;
  constructor(private readonly out: NodeJS.WritableStream) {}

  set(key: string, text: string): void {
    if (!this.lines.has(key)) this.order.push(key);
    if (this.lines.get(key) === text) return;
    this.lines.set(key, text);
    this.redraw();
  }

  private redraw(): void {
    if (this.drawn > 0) readline.moveCursor(this.out, 0, -this.drawn);
    for (const key of this.order) {
      readline.clearLine(this.out, 0);
      readline.cursorTo(this.out, 0);
      this.out.write(`${this.lines.get(key) ?? ''}\n`);
    }
    this.drawn = this.order.length;
  }

  done(): void {}
}

/** Send progress: a bar per file on a terminal, a line per finished file elsewhere. */
export interface SendProgress {
  start(key: string, label: string, total: number): void;
  update(key: string, sent: number): void;
  /** `line` is the plain-output line; `label` the shorter one shown next to a finished bar. */
  finish(key: string, line: string, label: string): void;
  stop(): void;
}

export function sendProgress(io: CliIo, quiet: boolean): SendProgress {
  if (quiet) return { start() {}, update() {}, finish() {}, stop() {} };
  if (!io.terminal) {
    return {
      start() {},
      update() {},
      finish: (_key, line) => io.stdout(`${line}\n`),
      stop() {},
    };
  }
  const terminal = io.terminal;
  const multi = new MultiBar(
    {
      // cli-progress types its stream as a full WriteStream; it uses only write, isTTY, columns
      // and the cursor functions of readline, which any terminal here provides.
      stream: terminal as NodeJS.WriteStream,
      format: ' {bar} {percentage}% | {value}/{total} bytes | {label}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      // Redraw on every update too: small files finish between two scheduled frames.
      forceRedraw: true,
    },
    Presets.shades_classic,
  );
  const bars = new Map<string, SingleBar>();
  return {
    start(key, label, total) {
      bars.set(key, multi.create(Math.max(total, 1), 0, { label }));
    },
    update(key, sent) {
      bars.get(key)?.update(sent);
    },
    finish(key, _line, label) {
      const bar = bars.get(key);
      bar?.update(bar.getTotal(), { label });
    },
    stop() {
      multi.stop();
    },
  };
}
