/**
 * Local HTTP servers standing in for GitHub's REST API and for a webhook receiver. They record
 * every request as received (method, path with query, headers, raw body) and answer as the real
 * services do; faults are injected by the answers a test queues.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../src/feedback/webhook';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export class StandIn {
  readonly requests: Recorded[] = [];
  private server!: Server;
  url = '';

  constructor(private readonly answer: (req: Recorded, self: StandIn) => Answer) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(rec);
        const a = this.answer(rec, this);
        res.writeHead(a.status, { 'Content-Type': 'application/json', ...a.headers });
        res.end(a.body === undefined ? '' : JSON.stringify(a.body));
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
}

/**
 * GitHub as documented: statuses answer 201 with the status; comments are listed 2 per page
 * here (so pagination is exercised) with a Link header, created (201) and updated (200).
 */
export class GitHubStandIn extends StandIn {
  readonly statuses: { sha: string; body: Record<string, unknown> }[] = [];
  readonly comments = new Map<number, { id: number; issue: number; body: string }>();
  private nextId = 1000;
  /** Answers to give before the real ones (faults), in order. */
  readonly faults: Answer[] = [];

  constructor(readonly token: string) {
    super((req, self) => (self as GitHubStandIn).handle(req));
  }

  addComment(issue: number, body: string): number {
    const id = this.nextId++;
    this.comments.set(id, { id, issue, body });
    return id;
  }

  private handle(req: Recorded): Answer {
    const fault = this.faults.shift();
    if (fault) return fault;
    const u = new URL(req.path, 'http://x');
    let m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]+)$/.exec(u.pathname);
    if (req.method === 'POST' && m) {
      const body = JSON.parse(req.body) as Record<string, unknown>;
      this.statuses.push({ sha: m[3]!, body });
      return { status: 201, body: { id: this.statuses.length, ...body } };
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(u.pathname);
    if (m && req.method === 'GET') {
      const issue = Number(m[3]);
      const perPage = 2;
      const page = Number(u.searchParams.get('page') ?? '1');
      const all = [...this.comments.values()].filter((c) => c.issue === issue);
      const slice = all.slice((page - 1) * perPage, page * perPage);
      const last = Math.max(1, Math.ceil(all.length / perPage));
      const link = (p: number, rel: string) => `<${this.url}${u.pathname}?per_page=100&page=${p}>; rel="${rel}"`;
      const links = [...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []), ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : [])];
      return { status: 200, headers: links.length > 0 ? { Link: links.join(', ') } : {}, body: slice.map((c) => ({ id: c.id, body: c.body, user: { login: 'tributary-bot' } })) };
    }
    if (m && req.method === 'POST') {
      const id = this.addComment(Number(m[3]), (JSON.parse(req.body) as { body: string }).body);
      return { status: 201, body: { id, body: this.comments.get(id)!.body } };
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(u.pathname);
    if (m && req.method === 'PATCH') {
      const c = this.comments.get(Number(m[3]));
      if (!c) return { status: 404, body: { message: 'Not Found' } };
      c.body = (JSON.parse(req.body) as { body: string }).body;
      return { status: 200, body: { id: c.id, body: c.body } };
    }
    return { status: 404, body: { message: 'Not Found' } };
  }
}

/** A webhook receiver that checks every signature and answers `plan` in order, then 200. */
export class WebhookReceiver extends StandIn {
  readonly accepted: Recorded[] = [];
  readonly badSignatures: Recorded[] = [];

  constructor(
    readonly secret: string,
    readonly plan: number[] = [],
  ) {
    super((req, self) => (self as WebhookReceiver).handle(req));
  }

  private handle(req: Recorded): Answer {
    const ts = String(req.headers['x-tributary-timestamp'] ?? '');
    const sig = String(req.headers['x-tributary-signature'] ?? '');
    if (!verifyWebhookSignature(this.secret, ts, req.body, sig)) {
      this.badSignatures.push(req);
      return { status: 401, body: { error: 'bad signature' } };
    }
    const status = this.plan.shift() ?? 200;
    if (status >= 200 && status < 300) this.accepted.push(req);
    return { status, body: { ok: status < 300 } };
  }
}
