import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config';
import { waitFor } from '../shared/wait-for';

export type SharedConnectionOptions = Pick<ConnectionOptions & NativeConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'>;
type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/** What the client and the worker connection share: address, TLS (mTLS, CA, server name), API key. */
export function connectionOptions(config: Config, address: string): SharedConnectionOptions {
  const t = config.temporal;
  return {
    address,
    tls: t.tls ? (t.tlsConfig ?? {}) : undefined,
    apiKey: t.apiKey,
    ...(t.metadata && Object.keys(t.metadata).length > 0 ? { metadata: t.metadata } : {}),
  };
}

/**
 * The SDK's retry interceptor with a few fast attempts, under a deadline `ms` from the call's start
 * for calls without one of their own; every attempt shares it, so the whole call ends by then.
 */
function boundedRetries(ms: number): Interceptor {
  const retry = makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 4 }));
  return (callOptions, nextCall) => retry({ ...callOptions, deadline: callOptions.deadline ?? Date.now() + ms }, nextCall);
}

/**
 * The client connection of the gateway. The SDK's defaults retry an unreachable server for about
 * 20 s and let a call wait without end; a caller waiting on an HTTP answer is better served by a
 * quick 503: a few fast retries (a blip), a deadline per call (a server that does not answer),
 * and reconnect attempts at most 5 s apart, so the gateway notices a recovered server soon.
 */
export function connectClient(config: Config, address: string): Promise<Connection> {
  return Connection.connect({
    ...connectionOptions(config, address),
    connectTimeout: config.dependencyTimeoutMs,
    interceptors: [boundedRetries(config.dependencyTimeoutMs)],
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 5_000 },
  });
}

export function connectWorker(config: Config, address: string): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config, address));
}

/** A connection made by `connect`, waiting (up to TRIBUTARY_STARTUP_TIMEOUT) until Temporal answers. */
export function connectWhenReady<C>(config: Config, address: string, connect: (config: Config, address: string) => Promise<C>): Promise<C> {
  return waitFor(() => connect(config, address), { what: `Temporal at ${address}`, timeoutMs: config.startupTimeoutMs });
}
