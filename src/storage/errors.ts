import type { IdempotencyScope } from '../vocabulary';

/** The write would break a uniqueness rule (a slug taken, an upload id used by another commit). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** A workflow run that is no longer the commit's current run tried to claim or take over. */
export class SupersededRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SupersededRunError';
  }
}

/** The idempotency key is taken on this commit by an upload with a different body. */
export class IdempotencyConflictError extends ConflictError {
  constructor(
    readonly idempotencyKey: string,
    readonly scope: IdempotencyScope,
    /** The upload that holds the key. */
    readonly uploadId: string,
  ) {
    super(`idempotency key ${JSON.stringify(idempotencyKey)} is already used by upload ${uploadId}, whose body differs`);
    this.name = 'IdempotencyConflictError';
  }
}

/** The repository (or commit) named does not exist. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}
