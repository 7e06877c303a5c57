import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyContextConfig, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z, ZodError } from 'zod';
import { UnknownRepositoryError } from '../services/register-upload';
import { unavailableDependency, type Dependency } from '../shared/dependency-errors';
import { ConflictError, IdempotencyConflictError, NotFoundError } from '../storage/store';
import { splitPartKey } from './idempotency';

/** The body of every error answer: `{"error": {"code", "message", "field"?}}`. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** An error answered as it is: its status, a machine code and a message fit for the caller. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field !== undefined ? { field: this.field } : {}) } };
  }
}

export const unauthorized = () => new ApiError(401, 'unauthorized', 'a valid bearer token is required');
export const forbidden = () => new ApiError(403, 'forbidden', 'this token may not do that');
export const notFound = (what = 'resource') => new ApiError(404, 'not_found', `${what} not found`);
export const badRequest = (field: string, message: string) => new ApiError(400, 'invalid_input', message, field);
export const payloadTooLarge = (limit: number) =>
  new ApiError(413, 'payload_too_large', `the upload is larger than the limit of ${limit} bytes`);
export const unsupportedMediaType = (message: string) => new ApiError(415, 'unsupported_media_type', message);
export const requestTimeout = (idleMs: number) =>
  new ApiError(408, 'request_timeout', `the request body sent nothing for ${idleMs} ms; send it again`);

/** Seconds a client is asked to wait after a 503: long enough for a restart, short for a blip. */
export const RETRY_AFTER_SECONDS = 5;
export const unavailable = (dependency: Dependency) =>
  new ApiError(503, 'unavailable', `the ${dependency === 'Temporal' ? 'Temporal server' : dependency} is unreachable; retry in ${RETRY_AFTER_SECONDS} s`);

declare module 'fastify' {
  /**
   * What a route tells the error handler about its domain errors, as its `config`: the store's
   * errors name no HTTP field, and one kind of error means another resource on each route.
   */
  interface FastifyContextConfig {
    /** What a NotFoundError or WorkflowNotFoundError of this route did not find. */
    missing?: string;
    /** The request field a ConflictError of this route is about. */
    conflictField?: string;
    /** The route takes its token from `?token=` too (see bearerToken). */
    tokenInQuery?: boolean;
  }
}
export type DomainErrorContext = Pick<FastifyContextConfig, 'missing' | 'conflictField'>;

function idempotencyConflict(err: IdempotencyConflictError): ApiError {
  const multipart = err.scope === 'multipart';
  const { key, part } = multipart ? splitPartKey(err.idempotencyKey) : { key: err.idempotencyKey, part: '' };
  const what = multipart ? `file part ${part} (key ${JSON.stringify(err.idempotencyKey)})` : 'an upload';
  return new ApiError(
    409,
    'idempotency_conflict',
    `Idempotency-Key ${JSON.stringify(key)} was already used on this commit for ${what} with a different body ` +
      `(upload ${err.uploadId}); a retry must send the same bytes, a new upload needs a new key`,
    'Idempotency-Key',
  );
}

/** The domain's errors as answers; undefined for an error that is none of them. */
function domainError(err: unknown, context: DomainErrorContext): ApiError | undefined {
  if (err instanceof UnknownRepositoryError) return notFound('repository');
  if (err instanceof NotFoundError || err instanceof WorkflowNotFoundError) return notFound(context.missing);
  // The subclass first: a key reused with another body says which key and which part.
  if (err instanceof IdempotencyConflictError) return idempotencyConflict(err);
  if (err instanceof ConflictError) return new ApiError(409, 'conflict', err.message, context.conflictField);
  return undefined;
}

/** The first path segment of a validation issue: the query parameter, body property or path parameter. */
function fieldOf(path: readonly PropertyKey[] | string, context?: string): string {
  const segments = typeof path === 'string' ? path.split('/').filter(Boolean) : path.map(String);
  return segments[0] ?? context ?? 'body';
}

/** Turns anything thrown in a route into an ApiError; unknown errors become 500s (logged, not shown). */
export function toApiError(err: unknown, context: DomainErrorContext = {}): ApiError {
  if (err instanceof ApiError) return err;
  const domain = domainError(err, context);
  if (domain !== undefined) return domain;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const first = err.validation[0];
    const field = fieldOf(first?.instancePath ?? '', err.validationContext);
    return badRequest(field, `${field}: ${first?.message ?? 'invalid'}`);
  }
  if (err instanceof ZodError) {
    const first = err.issues[0];
    const field = fieldOf(first?.path ?? []);
    return badRequest(field, `${field}: ${first?.message ?? 'invalid'}`);
  }
  const fe = err as Partial<FastifyError>;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
      return new ApiError(413, 'payload_too_large', fe.message ?? 'the request is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedMediaType(fe.message ?? 'unsupported media type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return badRequest('body', fe.message ?? 'invalid body');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return unsupportedMediaType(fe.message ?? 'not a multipart request');
    default:
      break;
  }
  const dependency = unavailableDependency(err);
  if (dependency !== undefined) return unavailable(dependency);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors (malformed JSON and the like) keep their status.
    const field = fe.statusCode === 400 ? 'body' : undefined;
    return new ApiError(fe.statusCode, fe.statusCode === 400 ? 'invalid_input' : 'client_error', fe.message ?? 'bad request', field);
  }
  return new ApiError(500, 'internal', 'internal error');
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const api = toApiError(err, request.routeOptions.config);
  // A dependency that is down is an operational state, not a bug: a warning, once per request.
  if (api.statusCode === 503) request.log.warn({ err }, api.message);
  else if (api.statusCode >= 500) request.log.error({ err }, 'request failed');
  if (api.statusCode === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  // The rest of an oversized or stalled body is not worth reading: end the connection after the answer.
  if (api.statusCode === 413 || api.statusCode === 408) void reply.header('connection', 'close');
  void reply.code(api.statusCode).send(api.toBody());
}
