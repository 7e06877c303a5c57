import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { z } from 'zod';

/** The server could not be reached (or kept failing with 5xx): exit code 3. */
export class ServerUnreachableError extends Error {
  override readonly name = 'ServerUnreachableError';
}

const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

/** The server answered with an error status and the contract's `{"error": {...}}` body. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  get isAuthFailure(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** Exponential backoff with full jitter; `next()` returns the delay to wait before the next try. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly baseMs = 200,
    private readonly maxMs = 5_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The ceiling for the current attempt; grows 2x per attempt up to maxMs. */
  ceiling(): number {
    return Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
  }

  next(): number {
    const ceiling = this.ceiling();
    this.attempt++;
    // Half fixed, half random: spreads clients out without ever collapsing to zero.
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}

export interface RequestBody {
  /** Opens the body afresh for every attempt, so a retried upload sends the whole file again. */
  open(): Readable;
  length: number;
  contentType: string;
  /** Called with the bytes sent so far (per attempt). */
  onProgress?(sent: number): void;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  query?: Record<string, string | readonly string[] | undefined>;
  json?: unknown;
  body?: RequestBody;
  headers?: Record<string, string>;
  token?: string;
}

export interface ApiResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body exactly as sent, for commands that print it verbatim. */
  text: string;
}

export interface HttpClientOptions {
  baseUrl: string;
  /** How many times a request is retried after a connection error, a 5xx or a 429. */
  retries?: number;
  retryBaseMs?: number;
  /** Called before each retry, so the CLI can say what it is waiting for. */
  onRetry?(what: string, delayMs: number): void;
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

function isConnectionError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && CONNECTION_ERRORS.has(code)) return true;
  return err instanceof Error && /socket hang up/i.test(err.message);
}

/**
 * A small JSON client for the gateway over node:http: bodies are streamed with a known length
 * (so progress can be shown and nothing is buffered), and requests are retried with backoff on
 * connection errors, 5xx and 429. Retrying a POST is safe only with an Idempotency-Key, which
 * the caller sets; the same headers go out on every attempt.
 */
export class HttpClient {
  readonly baseUrl: string;
  private readonly retries: number;
  private readonly retryBaseMs: number;

  constructor(private readonly options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.retries = options.retries ?? 4;
    this.retryBaseMs = options.retryBaseMs ?? 250;
  }

  url(path: string, query?: RequestOptions['query']): URL {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      for (const v of typeof value === 'string' ? [value] : value) url.searchParams.append(key, v);
    }
    return url;
  }

  /** Sends the request; answers 2xx responses, throws ApiError or ServerUnreachableError. */
  async request(path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const url = this.url(path, options.query);
    const backoff = new Backoff(this.retryBaseMs, 8_000);
    for (let attempt = 0; ; attempt++) {
      let response: ApiResponse;
      try {
        response = await this.once(url, options);
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        if (attempt >= this.retries) {
          throw new ServerUnreachableError(`cannot reach ${this.baseUrl}: ${(err as Error).message || (err as NodeJS.ErrnoException).code}`);
        }
        const delay = backoff.next();
        this.options.onRetry?.(`${url.pathname}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, delay);
        await sleep(delay);
        continue;
      }
      if (response.status >= 200 && response.status < 300) return response;
      const retryable = response.status >= 500 || response.status === 429;
      if (retryable && attempt < this.retries) {
        const retryAfter = retryAfterMs(response.headers['retry-after']);
        const delay = retryAfter !== undefined && retryAfter > 0 ? Math.min(retryAfter, 30_000) : backoff.next();
        this.options.onRetry?.(`${url.pathname}: HTTP ${response.status}`, delay);
        await sleep(delay);
        continue;
      }
      throw toApiError(response, this.baseUrl);
    }
  }

  async json<T>(schema: z.ZodType<T>, path: string, options: RequestOptions = {}): Promise<{ value: T; response: ApiResponse }> {
    const response = await this.request(path, options);
    let data: unknown;
    try {
      data = JSON.parse(response.text);
    } catch {
      throw new ApiError(response.status, 'bad_response', `the server at ${this.baseUrl} did not answer JSON`);
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw new ApiError(response.status, 'bad_response', `unexpected answer from ${path}: ${z.prettifyError(parsed.error)}`);
    }
    return { value: parsed.data, response };
  }

  private once(url: URL, options: RequestOptions): Promise<ApiResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: Buffer | undefined;
    if (options.json !== undefined) {
      payload = Buffer.from(JSON.stringify(options.json));
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    } else if (options.body) {
      headers['content-type'] = options.body.contentType;
      headers['content-length'] = String(options.body.length);
    }
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<ApiResponse>((resolve, reject) => {
      const req = transport.request(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      if (payload) {
        req.end(payload);
      } else if (options.body) {
        const body = options.body;
        const source = body.open();
        let sent = 0;
        source.on('data', (chunk: Buffer) => {
          sent += chunk.length;
          body.onProgress?.(sent);
        });
        source.on('error', (err) => req.destroy(err));
        source.pipe(req);
      } else {
        req.end();
      }
    });
  }
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date (RFC 9110); undefined when absent or invalid. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function toApiError(response: ApiResponse, baseUrl: string): Error {
  let parsed: z.infer<typeof ErrorBodySchema> | undefined;
  try {
    const r = ErrorBodySchema.safeParse(JSON.parse(response.text));
    if (r.success) parsed = r.data;
  } catch {
    // Not JSON: a proxy or a different server; described by the status alone.
  }
  if (response.status >= 500 && !parsed) {
    return new ServerUnreachableError(`the server at ${baseUrl} keeps failing: HTTP ${response.status}`);
  }
  if (response.status >= 500) {
    return new ServerUnreachableError(`the server at ${baseUrl} keeps failing: HTTP ${response.status} ${parsed?.error.code}: ${parsed?.error.message}`);
  }
  return new ApiError(response.status, parsed?.error.code ?? `http_${response.status}`, parsed?.error.message ?? `HTTP ${response.status}`, parsed?.error.field);
}
