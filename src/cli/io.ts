import { createReadStream } from 'node:fs';

/** What commands need from the process, so tests can run them in memory. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  open(file: string): AsyncIterable<Uint8Array>;
  setExitCode(code: number): void;
  /** Environment variables (TRIBUTARY_URL, tokens, folders); the process environment by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Set only when stdout is a terminal: progress bars and live status lines are drawn here. */
  terminal?: NodeJS.WritableStream & Partial<Pick<NodeJS.WriteStream, 'columns' | 'isTTY' | 'cursorTo' | 'moveCursor' | 'clearLine'>>;
}

/** A problem with how the command was called (bad option, unreadable file): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function processIo(): CliIo {
  // A reader that stops early (`tributary report … | head`) closes the pipe: that is not an error
  // of ours, so end quietly instead of dying on an unhandled EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  return {
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
    open: readFileChunks,
    setExitCode: (code) => {
      process.exitCode = code;
    },
    env: process.env,
    terminal: process.stdout.isTTY ? process.stdout : undefined,
  };
}

/** Streams a file from disk; a missing or unreadable file is a usage error, not a parse error. */
export async function* readFileChunks(file: string): AsyncGenerator<Uint8Array> {
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'permission denied';
      throw new UsageError(`cannot read ${file}: ${why}`);
    }
    throw err;
  } finally {
    stream.destroy();
  }
}
