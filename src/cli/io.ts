import { closeSync, openSync, readSync } from 'node:fs';

/** What commands need from the process, so tests can run them in memory. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** A file's bytes for `parseReport`: a chunk may be reused once the next is requested. */
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

/** Bytes read per chunk. */
const READ_CHUNK = 1024 * 1024;

/**
 * Reads a file from disk in chunks that share one buffer: each chunk is valid until the next is
 * requested, which is how `parseReport` reads its input. Reading into the same memory each time
 * spares the kernel a fresh megabyte of pages per chunk (about 8% of the CPU of parsing a large
 * file); the reads are synchronous, one chunk at a time, because nothing else runs beside a
 * parse in the CLI. A missing or unreadable file is a usage error, not a parse error.
 */
export async function* readFileChunks(file: string): AsyncGenerator<Uint8Array> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw usageErrorOf(err, file) ?? err;
  }
  try {
    const buffer = Buffer.allocUnsafeSlow(READ_CHUNK);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, READ_CHUNK, null);
      } catch (err) {
        throw usageErrorOf(err, file) ?? err;
      }
      if (n === 0) return;
      yield buffer.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

function usageErrorOf(err: unknown, file: string): UsageError | null {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'ENOENT' && code !== 'EACCES' && code !== 'EISDIR') return null;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'permission denied';
  return new UsageError(`cannot read ${file}: ${why}`);
}
