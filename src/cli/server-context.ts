import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadUploadToken } from './credentials';
import { ApiError, HttpClient, ServerUnreachableError } from './http-client';
import { UsageError, type CliIo } from './io';
import { check, PortSchema, RetriesSchema, UrlSchema } from './validate';


/** Exit codes of every command that talks to the server. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export interface ServerOptions {
  url?: string;
  token?: string;
  adminToken?: string;
  retries?: string;
  json?: boolean;
}

/**
 * The gateway `npm start` runs on this machine, from the variables the server reads itself
 * (TRIBUTARY_API_PORT; TRIBUTARY_API_HOST unless it listens on every address), so a CLI next to
 * a server started with another port needs no --url.
 */
export function localServerUrl(env: Readonly<Record<string, string | undefined>>): string {
  const port = env.TRIBUTARY_API_PORT ? check(PortSchema, env.TRIBUTARY_API_PORT, 'TRIBUTARY_API_PORT') : 8080;
  const given = env.TRIBUTARY_API_HOST || '127.0.0.1';
  const host = given === '0.0.0.0' || given === '::' ? '127.0.0.1' : given;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The flags every server command shares; each also has an environment variable. */
export function addServerOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', `server URL (env TRIBUTARY_URL, default http://127.0.0.1:<TRIBUTARY_API_PORT or 8080>)`))
    .addOption(new Option('--token <token>', 'upload token of the repository (env TRIBUTARY_TOKEN)'))
    .addOption(new Option('--admin-token <token>', 'admin token (env TRIBUTARY_ADMIN_TOKEN, else <data folder>/admin-token)'))
    .addOption(new Option('--retries <n>', 'retries after connection errors and 5xx answers').default('4'))
    .option('--json', 'print JSON for scripts');
}

/** Where the server is and which tokens this invocation may use. */
export class ServerContext {
  readonly client: HttpClient;

  constructor(
    readonly io: CliIo,
    readonly options: ServerOptions,
  ) {
    const env = io.env ?? {};
    const url = check(UrlSchema, options.url ?? (env.TRIBUTARY_URL || undefined) ?? localServerUrl(env), 'server URL');
    this.client = new HttpClient({
      baseUrl: url,
      retries: check(RetriesSchema, options.retries ?? '4', '--retries'),
      onRetry: (what, delay) => {
        if (!options.json) io.stderr(`retrying in ${(delay / 1000).toFixed(1)}s (${what})\n`);
      },
    });
  }

  get env(): Readonly<Record<string, string | undefined>> {
    return this.io.env ?? {};
  }

  get baseUrl(): string {
    return this.client.baseUrl;
  }

  /**
   * The admin token: the flag, the environment, or the file the main command writes into its
   * data folder (so a local `npm start` needs no configuration).
   */
  adminToken(): string | undefined {
    const given = this.options.adminToken ?? this.env.TRIBUTARY_ADMIN_TOKEN;
    if (given) return given;
    const file = path.resolve(this.env.TRIBUTARY_DATA_DIR || '.data', 'admin-token');
    try {
      return readFileSync(file, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }

  requireAdminToken(): string {
    const token = this.adminToken();
    if (!token) {
      throw new UsageError('no admin token: pass --admin-token, set TRIBUTARY_ADMIN_TOKEN, or run where the main command keeps its data folder (TRIBUTARY_DATA_DIR, default .data)');
    }
    return token;
  }

  /** For one repository: its upload token (flag, env, saved credentials), else the admin token. */
  repoToken(slug?: string): string {
    const token =
      this.options.token ??
      this.env.TRIBUTARY_TOKEN ??
      (slug ? loadUploadToken(this.env, this.baseUrl, slug) : undefined) ??
      this.adminToken();
    if (!token) {
      throw new UsageError(
        `no token${slug ? ` for ${slug}` : ''}: pass --token, set TRIBUTARY_TOKEN, or create the repository with \`tributary repo create\` on this machine`,
      );
    }
    return token;
  }
}

/**
 * Runs a server command and turns its failure into an exit code and one line on stderr (or a
 * JSON error with --json): usage 2, unreachable or refused 3, anything the server rejected 1.
 */
export async function runServerCommand(io: CliIo, options: ServerOptions, body: (ctx: ServerContext) => Promise<number>): Promise<void> {
  io.setExitCode(await exitCodeOf(io, options, body));
}

async function exitCodeOf(io: CliIo, options: ServerOptions, body: (ctx: ServerContext) => Promise<number>): Promise<number> {
  try {
    return await body(new ServerContext(io, options));
  } catch (err) {
    const report = (code: string, message: string, exit: number, field?: string) => {
      if (options.json) io.stdout(`${JSON.stringify({ error: { code, message, ...(field ? { field } : {}) } })}\n`);
      io.stderr(`error: ${message}\n`);
      return exit;
    };
    if (err instanceof UsageError) return report('usage', err.message, EXIT.usage);
    if (err instanceof ServerUnreachableError) return report('unreachable', err.message, EXIT.unreachable);
    if (err instanceof ApiError) {
      const where = err.field ? ` (${err.field})` : '';
      if (err.isAuthFailure) {
        const hint = err.status === 401 ? 'the token is missing or unknown' : 'the token may not do this';
        return report(err.code, `${err.message}${where}: ${hint}`, EXIT.unreachable);
      }
      // The server judged the input invalid: the caller's mistake, like any usage error.
      if (err.status === 400 || err.status === 413 || err.status === 415) return report(err.code, `${err.message}${where}`, EXIT.usage, err.field);
      return report(err.code, `${err.message}${where}`, EXIT.failed, err.field);
    }
    throw err;
  }
}
