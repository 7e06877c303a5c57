import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { CliIo } from './io';
import { EXIT } from './server-context';

/**
 * Runs `fn` with a client of the configured Temporal server (without TEMPORAL_ADDRESS, the
 * embedded dev server `npm start` runs), for the commands that talk to Temporal rather than the
 * gateway. An unreachable server is one clear line and EXIT.unreachable. The client is loaded here
 * only, so the other commands start without it.
 */
export async function withTemporalClient(config: Config, io: CliIo, fn: (client: Client, address: string) => Promise<number>): Promise<number> {
  const [{ Client: TemporalClient }, { connectClient }] = await Promise.all([import('@temporalio/client'), import('../temporal/connection.js')]);
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
  let connection;
  try {
    connection = await connectClient(config, address);
  } catch (err) {
    io.stderr(`error: cannot reach Temporal at ${address}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.unreachable;
  }
  try {
    return await fn(new TemporalClient({ connection, namespace: config.temporal.namespace }), address);
  } finally {
    await connection.close();
  }
}
