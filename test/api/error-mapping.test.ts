/**
 * The one error handler maps the domain's errors to the answers the routes gave when each caught
 * its own: status, code, message and field, with what the route's `config` says it was about.
 * Through a real Fastify app (no gateway around it), so the route config really reaches it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/client';
import { UnknownRepositoryError } from '../../src/services/register-upload';
import { ConflictError, IdempotencyConflictError, NotFoundError } from '../../src/storage/store';
import { errorHandler, type DomainErrorContext } from '../../src/api/errors';
import { partKey } from '../../src/api/idempotency';

/** The answer of a route with `config` whose handler throws `err`. */
async function answer(err: Error, config: DomainErrorContext = {}) {
  const app = Fastify();
  app.setErrorHandler(errorHandler);
  app.get('/x', { config }, async () => {
    throw err;
  });
  try {
    const res = await app.inject({ method: 'GET', url: '/x' });
    return { status: res.statusCode, body: res.json() as { error: { code: string; message: string; field?: string } } };
  } finally {
    await app.close();
  }
}

describe('domain errors in the error handler', () => {
  test('an unknown repository, a NotFoundError and a missing workflow are 404 naming what the route looked for', async () => {
    assert.deepEqual(await answer(new UnknownRepositoryError('a/b')), { status: 404, body: { error: { code: 'not_found', message: 'repository not found' } } });
    assert.deepEqual(await answer(new NotFoundError('repository a/b does not exist'), { missing: 'repository' }), {
      status: 404,
      body: { error: { code: 'not_found', message: 'repository not found' } },
    });
    assert.deepEqual(await answer(new WorkflowNotFoundError('gone', 'commit:a/b:1', undefined), { missing: 'task' }), {
      status: 404,
      body: { error: { code: 'not_found', message: 'task not found' } },
    });
    // A route that says nothing still answers 404, not 500.
    assert.equal((await answer(new NotFoundError('x'))).body.error.message, 'resource not found');
  });

  test('a ConflictError is 409 conflict with its message and the field the route names', async () => {
    assert.deepEqual(await answer(new ConflictError('repository a/b already exists'), { conflictField: 'slug' }), {
      status: 409,
      body: { error: { code: 'conflict', message: 'repository a/b already exists', field: 'slug' } },
    });
  });

  test('a reused Idempotency-Key names the key as sent and, for multipart, the part and its own key', async () => {
    const raw = await answer(new IdempotencyConflictError('k:1', 'raw', 'u-1'), { conflictField: 'Idempotency-Key' });
    assert.deepEqual(raw, {
      status: 409,
      body: {
        error: {
          code: 'idempotency_conflict',
          message:
            'Idempotency-Key "k:1" was already used on this commit for an upload with a different body (upload u-1); ' +
            'a retry must send the same bytes, a new upload needs a new key',
          field: 'Idempotency-Key',
        },
      },
    });
    // The request's key may hold colons itself: the part is what partKey appended.
    const multi = await answer(new IdempotencyConflictError(partKey('k:1', 2), 'multipart', 'u-2'));
    assert.equal(multi.status, 409);
    assert.equal(
      multi.body.error.message,
      'Idempotency-Key "k:1" was already used on this commit for file part 2 (key "k:1:2") with a different body (upload u-2); ' +
        'a retry must send the same bytes, a new upload needs a new key',
    );
    assert.equal(multi.body.error.field, 'Idempotency-Key');
  });

  test('anything else stays a 500 that shows nothing', async () => {
    assert.deepEqual(await answer(new Error('secret detail')), { status: 500, body: { error: { code: 'internal', message: 'internal error' } } });
  });
});
