import { isGrpcServiceError } from '@temporalio/client';

/** The parts a Tributary process depends on, as messages and logs name them. */
export type Dependency = 'database' | 'blob store' | 'Temporal';

// Socket-level failures: the peer is not there (yet), or went away.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOTCONN',
]);

// A network file system that stopped answering; a full or read-only disk is not "unreachable".
const FS_UNREACHABLE_CODES = new Set(['EIO', 'ESTALE', 'ETIMEDOUT', 'ENOTCONN', 'EHOSTDOWN', 'EHOSTUNREACH', 'ENETUNREACH']);

// SQLSTATEs of a server that cannot serve now: connection exceptions (class 08), shutting down or
// starting up (57P01-57P03), too many connections (53300).
const PG_UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/;

// pg's own connection failures carry no code, only these messages.
const PG_CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i;

// gRPC status codes (fixed by the gRPC protocol): DEADLINE_EXCEEDED, UNAVAILABLE.
const TEMPORAL_UNAVAILABLE = new Set<number>([4, 14]);

type Loose = {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $fault?: unknown;
};

/** The error itself, its causes, and the members of an AggregateError (a failed dual-stack connect). */
function* chain(err: unknown, depth = 0): Generator<Loose> {
  if (typeof err !== 'object' || err === null || depth > 8) return;
  const e = err as Loose;
  yield e;
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* chain(inner, depth + 1);
  if (e.cause !== undefined) yield* chain(e.cause, depth + 1);
}

function classifyOne(e: Loose): Dependency | undefined {
  if (isGrpcServiceError(e)) return TEMPORAL_UNAVAILABLE.has(e.code) ? 'Temporal' : undefined;
  if (e.$metadata !== undefined) {
    // The AWS SDK tags every error it returns with $metadata: no HTTP status means no answer.
    const status = e.$metadata.httpStatusCode;
    if (status === undefined || (typeof status === 'number' && status >= 500)) return 'blob store';
    return e.name === 'TimeoutError' || e.name === 'RequestTimeout' ? 'blob store' : undefined;
  }
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && typeof e.syscall === 'string' && typeof e.path === 'string') {
    return FS_UNREACHABLE_CODES.has(code) ? 'blob store' : undefined;
  }
  if (code !== undefined && PG_UNAVAILABLE_STATES.test(code)) return 'database';
  // A bare socket error: the only TCP peer without its own error shape is PostgreSQL (pg).
  if (code !== undefined && NETWORK_CODES.has(code)) return 'database';
  if (typeof e.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message)) return 'database';
  return undefined;
}

/**
 * Which dependency an error says is unreachable (refused, reset, timed out, shutting down), or
 * undefined for any other error. The one classification the gateway (503) and the start-up wait
 * use, so "down" means the same everywhere.
 */
export function unavailableDependency(err: unknown): Dependency | undefined {
  for (const e of chain(err)) {
    const found = classifyOne(e);
    if (found !== undefined) return found;
  }
  return undefined;
}
