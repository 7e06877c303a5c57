/**
 * Which dependency an error says is down, on errors the real drivers produce: pg against a closed
 * port, the Temporal client against a closed port, the AWS SDK against a closed port, and the
 * file system; plus the start-up wait built on it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { Client as PgClient } from 'pg';
import { Connection } from '@temporalio/client';
import { S3Client, HeadObjectCommand } from '@aws-sdk/client-s3';
import { unavailableDependency } from '../../src/shared/dependency-errors';
import { DependencyWaitError, waitFor } from '../../src/shared/wait-for';
import { toApiError } from '../../src/api/errors';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function failure(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a failure');
}

describe('unavailable dependencies', () => {
  test('pg refused, Temporal refused, S3 refused: each named; its 503 says so', async () => {
    const port = await closedPort();
    const pgErr = await failure(() => new PgClient({ host: '127.0.0.1', port, user: 'x', database: 'x' }).connect());
    assert.equal(unavailableDependency(pgErr), 'database');

    const s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const s3Err = await failure(() => s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' })));
    s3.destroy();
    assert.equal(unavailableDependency(s3Err), 'blob store');

    // A connection that never connected: its calls fail with gRPC UNAVAILABLE.
    const lazy = Connection.lazy({ address: `127.0.0.1:${port}` });
    const lazyErr = await failure(() => lazy.withDeadline(Date.now() + 3_000, () => lazy.workflowService.getSystemInfo({})));
    await lazy.close();
    assert.equal(unavailableDependency(lazyErr), 'Temporal');

    const api = toApiError(lazyErr);
    assert.equal(api.statusCode, 503);
    assert.equal(api.code, 'unavailable');
    assert.match(api.message, /Temporal/);
    assert.match(toApiError(pgErr).message, /database/);
    assert.match(toApiError(s3Err).message, /blob store/);
  });

  test('other errors are not "unavailable": a missing file, a bad query, a plain error', async () => {
    const missing = await failure(() => readFile('/nonexistent/tributary'));
    assert.equal(unavailableDependency(missing), undefined);
    assert.equal(unavailableDependency(Object.assign(new Error('syntax error'), { code: '42601' })), undefined);
    assert.equal(unavailableDependency(new Error('boom')), undefined);
    assert.equal(toApiError(new Error('boom')).statusCode, 500);
    // PostgreSQL shutting down, or starting up, is.
    assert.equal(unavailableDependency(Object.assign(new Error('the database system is starting up'), { code: '57P03' })), 'database');
    // A network file system that stopped answering is the blob store.
    assert.equal(unavailableDependency(Object.assign(new Error('EIO'), { code: 'EIO', syscall: 'read', path: '/blobs/raw/x' })), 'blob store');
  });
});

describe('waitFor', () => {
  test('retries with one line per attempt until it works', async () => {
    const lines: string[] = [];
    let attempts = 0;
    const value = await waitFor(
      async () => {
        if (++attempts < 3) throw new Error(`refused #${attempts}`);
        return 'up';
      },
      { what: 'Temporal at h:1', timeoutMs: 0, log: (l) => lines.push(l), firstDelayMs: 10 },
    );
    assert.equal(value, 'up');
    assert.deepEqual(lines, ['waiting for Temporal at h:1: refused #1; retrying in 0s', 'waiting for Temporal at h:1: refused #2; retrying in 0s']);
  });

  test('gives up past its bound with the last reason; a final error ends it at once', async () => {
    const err = await failure(() =>
      waitFor(() => Promise.reject(new Error('refused')), { what: 'the database at db:5432', timeoutMs: 50, log: () => undefined, firstDelayMs: 10 }),
    );
    assert.ok(err instanceof DependencyWaitError);
    assert.match(err.message, /^gave up waiting for the database at db:5432 after \d+(\.\d)?s: refused$/);
    let attempts = 0;
    const final = await failure(() =>
      waitFor(
        () => {
          attempts++;
          return Promise.reject(new Error('password authentication failed'));
        },
        { what: 'the database', timeoutMs: 0, retryable: () => false },
      ),
    );
    assert.equal(attempts, 1);
    assert.match((final as Error).message, /password/);
  });
});
