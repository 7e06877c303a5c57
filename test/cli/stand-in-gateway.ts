/**
 * A small stand-in for the gateway, implementing the HTTP contract for the routes the CLI uses,
 * with knobs to inject failures (5xx, dropped answers) and a record of every request, so CLI
 * tests can check retries, idempotency keys, long-poll parameters and tokens.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export const ADMIN_TOKEN = 'admin-secret';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
}

interface StandInUpload {
  id: string;
  repo: string;
  sha: string;
  session: number;
  body: Buffer;
  query: URLSearchParams;
  /** States still to go through, one per GET. */
  script: string[];
  state: string;
}

export const TOTALS = { files: 2, lines: 10, hits: 7, misses: 2, partials: 1, branches: 2, methods: 0, coverage: '70.00000', sessions: 0 };

/** Deliberately spaced and ordered oddly: `report --json` must print it exactly as sent. */
export const REPORT_TEXT = '{"files": {"b.ts": {"lines": {"1": 1}, "totals": {"files":1,"lines":1,"hits":1,"misses":0,"partials":0,"branches":0,"methods":0,"coverage":"100","sessions":0}}, "a.ts": {"lines": {"1": 0}, "totals": {"files":1,"lines":1,"hits":0,"misses":1,"partials":0,"branches":0,"methods":0,"coverage":"0","sessions":0}}}, "totals": {"files":2,"lines":2,"hits":1,"misses":1,"partials":0,"branches":0,"methods":0,"coverage":"50.00000","sessions":1}, "sessions": []}';

export class StandInGateway {
  readonly requests: RecordedRequest[] = [];
  readonly repos = new Map<string, { token: string; mode: string | null }>();
  readonly uploads = new Map<string, StandInUpload>();
  private readonly byKey = new Map<string, string>();
  /** The next N upload POSTs answer 503 without creating anything. */
  failNextPosts = 0;
  /** The next N upload POSTs create the upload, then drop the connection before answering. */
  dropNextPosts = 0;
  /** States an upload goes through, one per status GET, after `uploaded`. */
  script = ['processing', 'merged'];
  private server!: http.Server;
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: { code: 'internal', message: String(err) } }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addRepo(slug: string): string {
    const token = randomBytes(16).toString('hex');
    this.repos.set(slug, { token, mode: null });
    return token;
  }

  uploadRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/uploads'));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, bodyBytes: body.length });
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof value === 'string' ? value : JSON.stringify(value));
    };
    const fail = (status: number, code: string, message: string, field?: string) => send(status, { error: { code, message, ...(field ? { field } : {}) } });
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const isAdmin = token === ADMIN_TOKEN;
    const tokenRepo = [...this.repos].find(([, r]) => r.token === token)?.[0];
    if (!isAdmin && !tokenRepo) return fail(401, 'unauthorized', 'missing or unknown token');
    const mayRead = (slug: string) => isAdmin || tokenRepo === slug;

    let m: RegExpExecArray | null;
    if (req.method === 'POST' && url.pathname === '/api/v1/repos') {
      if (!isAdmin) return fail(403, 'forbidden', 'admin only');
      const { slug } = JSON.parse(body.toString()) as { slug: string };
      if (this.repos.has(slug)) return fail(409, 'repo_exists', `${slug} exists`);
      return send(201, { slug, uploadToken: this.addRepo(slug) });
    }
    if (req.method === 'PUT' && (m = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/mode$/.exec(url.pathname))) {
      if (!isAdmin) return fail(403, 'forbidden', 'admin only');
      const slug = `${m[1]}/${m[2]}`;
      const repo = this.repos.get(slug);
      if (!repo) return fail(404, 'not_found', 'no such repository');
      repo.mode = (JSON.parse(body.toString()) as { mode: string | null }).mode;
      return send(200, { slug, mode: repo.mode });
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/flags') {
      if (!isAdmin) return fail(403, 'forbidden', 'admin only');
      const overrides = [...this.repos].filter(([, r]) => r.mode).map(([slug, r]) => ({ slug, mode: r.mode }));
      return send(200, { defaultMode: 'parallel', rollout: { experiment: 0.1 }, overrides });
    }
    if (req.method === 'POST' && (m = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/uploads$/.exec(url.pathname))) {
      const slug = `${m[1]}/${m[2]}`;
      if (!this.repos.has(slug) || !mayRead(slug)) return fail(404, 'not_found', 'no such repository');
      if (this.failNextPosts > 0) {
        this.failNextPosts--;
        return fail(503, 'unavailable', 'try again');
      }
      // As the gateway: keys are per commit, and a key answers its upload only for the same body.
      const key = req.headers['idempotency-key'] as string | undefined;
      const keyOf = `${slug}:${m[3]}:${key}`;
      let upload = key ? this.uploads.get(this.byKey.get(keyOf) ?? '') : undefined;
      if (upload && !upload.body.equals(body)) {
        return fail(
          409,
          'idempotency_conflict',
          `Idempotency-Key ${JSON.stringify(key)} was already used on this commit for an upload with a different body (upload ${upload.id}); ` +
            'a retry must send the same bytes, a new upload needs a new key',
          'Idempotency-Key',
        );
      }
      const created = upload === undefined;
      if (!upload) {
        const session = [...this.uploads.values()].filter((u) => u.repo === slug && u.sha === m![3]).length;
        upload = { id: `up-${this.uploads.size + 1}`, repo: slug, sha: m[3]!, session, body, query: url.searchParams, script: [...this.script], state: 'uploaded' };
        if (body.includes('not a coverage report')) upload.script = ['processing', 'error'];
        this.uploads.set(upload.id, upload);
        if (key) this.byKey.set(keyOf, upload.id);
      }
      if (this.dropNextPosts > 0) {
        this.dropNextPosts--;
        req.socket.destroy();
        return;
      }
      return send(202, {
        uploads: [{ uploadId: upload.id, session: upload.session, state: 'uploaded', statusUrl: `/api/v1/uploads/${upload.id}`, created }],
        commitUrl: `/api/v1/repos/${slug}/commits/${upload.sha}`,
      });
    }
    if (req.method === 'GET' && (m = /^\/api\/v1\/uploads\/([^/]+)$/.exec(url.pathname))) {
      const upload = this.uploads.get(m[1]!);
      if (!upload || !mayRead(upload.repo)) return fail(404, 'not_found', 'no such upload');
      const next = upload.script.shift();
      if (next) upload.state = next;
      return send(200, this.uploadJson(upload));
    }
    if (req.method === 'GET' && (m = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)(\/report)?$/.exec(url.pathname))) {
      const slug = `${m[1]}/${m[2]}`;
      if (!this.repos.has(slug) || !mayRead(slug)) return fail(404, 'not_found', 'no such repository');
      const ups = [...this.uploads.values()].filter((u) => u.repo === slug && u.sha === m![3]);
      if (m[4]) {
        const file = url.searchParams.get('file');
        if (file === null) return send(200, REPORT_TEXT);
        const report = JSON.parse(REPORT_TEXT) as { files: Record<string, { totals: unknown }> };
        const one = report.files[file];
        if (!one) return fail(404, 'not_found', `no file ${file}`);
        return send(200, { files: { [file]: one }, totals: one.totals, sessions: [] });
      }
      const complete = ups.length > 0 && ups.every((u) => ['merged', 'error', 'cancelled'].includes(u.state));
      return send(200, {
        repo: slug,
        sha: m[3],
        state: complete ? 'complete' : ups.length === 0 ? 'pending' : 'processing',
        totals: complete ? { ...TOTALS, sessions: ups.filter((u) => u.state === 'merged').length } : null,
        mode: 'parallel',
        experimentOutcome: null,
        metadata: commitMetadata(ups),
        uploads: ups.map((u) => ({ uploadId: u.id, session: u.session, state: u.state, error: null })),
        reportUrl: `/api/v1/repos/${slug}/commits/${m[3]}/report`,
      });
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/tasks') {
      if (!isAdmin) return fail(403, 'forbidden', 'admin only');
      if (url.searchParams.has('status') && !['running', 'completed'].includes(url.searchParams.get('status')!)) return send(200, { tasks: [] });
      return send(200, {
        tasks: [
          {
            workflowId: 'commit/demo/app/abcdef1',
            runId: 'run-1',
            repo: 'demo/app',
            sha: 'abcdef1234567890',
            status: 'completed',
            mode: 'experiment',
            outcome: 'merged',
            experimentOutcome: 'match',
            uploadCount: 3,
            startTime: '2026-01-01T00:00:00.000Z',
            closeTime: '2026-01-01T00:00:05.000Z',
          },
        ],
      });
    }
    if (req.method === 'POST' && (m = /^\/api\/v1\/tasks\/(.+)\/cancel$/.exec(url.pathname))) {
      if (!isAdmin) return fail(403, 'forbidden', 'admin only');
      const id = decodeURIComponent(m[1]!);
      if (id !== 'commit/demo/app/abcdef1') return fail(404, 'not_found', 'no such workflow');
      return send(202, { workflowId: id, cancelRequested: true });
    }
    return fail(404, 'not_found', 'no such route');
  }

  private uploadJson(u: StandInUpload) {
    return {
      uploadId: u.id,
      repo: u.repo,
      sha: u.sha,
      session: u.session,
      state: u.state,
      error: u.state === 'error' ? { code: 'unrecognized_format', message: 'not a coverage report' } : null,
      timings: { createdAt: '2026-01-01T00:00:00.000Z', processingStartedAt: null, processedAt: null, mergedAt: null },
      commitUrl: `/api/v1/repos/${u.repo}/commits/${u.sha}`,
    };
  }
}

/** As the gateway records it: per field, the first upload (by session) that gave a value. */
function commitMetadata(ups: readonly { session: number; query: URLSearchParams }[]): Record<string, string | number> {
  const fields = { branch: 'branch', parent: 'parentSha', pr: 'pullRequest', ci_service: 'ciService', build: 'build', job: 'job', ci_url: 'ciUrl' } as const;
  const out: Record<string, string | number> = {};
  for (const u of [...ups].sort((a, b) => a.session - b.session)) {
    for (const [param, key] of Object.entries(fields)) {
      const v = u.query.get(param);
      if (v && out[key] === undefined) out[key] = key === 'pullRequest' ? Number(v) : v;
    }
  }
  return out;
}
