import { Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config';

type Shared = Pick<ConnectionOptions & NativeConnectionOptions, 'address' | 'tls' | 'apiKey'>;

function options(config: Config, address: string): Shared {
  return {
    address,
    tls: config.temporal.tls || Boolean(config.temporal.apiKey) ? {} : undefined,
    apiKey: config.temporal.apiKey,
  };
}

export function connectClient(config: Config, address: string): Promise<Connection> {
  return Connection.connect(options(config, address));
}

export function connectWorker(config: Config, address: string): Promise<NativeConnection> {
  return NativeConnection.connect(options(config, address));
}
