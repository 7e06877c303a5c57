/**
 * GitHub: commit statuses and the pull-request comment, over the REST API (api.github.com, or a
 * GitHub Enterprise server's https://HOST/api/v3 through TRIBUTARY_GITHUB_API_URL).
 *
 * - Statuses: "Create a commit status", `POST /repos/{owner}/{repo}/statuses/{sha}` with
 *   `{state, target_url, description, context}`, answered 201
 *   (https://docs.github.com/en/rest/commits/statuses#create-a-commit-status).
 * - Comments: a pull request's conversation comments are issue comments: "List issue comments",
 *   `GET /repos/{owner}/{repo}/issues/{issue_number}/comments?per_page=100` paged by the `Link`
 *   header's rel="next" (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api);
 *   "Update an issue comment", `PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}`; "Create
 *   an issue comment", `POST /repos/{owner}/{repo}/issues/{issue_number}/comments`, both `{body}`
 *   (https://docs.github.com/en/rest/issues/comments).
 * - Every request: `Authorization: Bearer <token>`, `Accept: application/vnd.github+json`,
 *   `X-GitHub-Api-Version: 2022-11-28` and a `User-Agent` (https://docs.github.com/en/rest/about-the-rest-api/api-versions,
 *   https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api).
 * - Rate limits: 403 or 429 with `Retry-After`, or with `x-ratelimit-remaining: 0` until
 *   `x-ratelimit-reset` (epoch seconds), are retried then; other 403s are a refusal
 *   (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).
 */
import { bodyExcerpt, DeliveryError, retryAfterMs, send, USER_AGENT, type CommitStatusRequest, type FeedbackProvider, type PullRequestCommentRequest, type SendResult } from './provider';

export interface GitHubOptions {
  /** https://api.github.com, or GitHub Enterprise's https://HOST/api/v3; no trailing slash. */
  apiUrl: string;
  token: string;
  /** OWNER/NAME on GitHub. */
  repository: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** Pages of comments read at most while looking for ours (100 each). */
const MAX_COMMENT_PAGES = 50;

interface IssueComment {
  id: number;
  body?: string | null;
}

export class GitHubProvider implements FeedbackProvider {
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly repoPath: string;

  constructor(private readonly opts: GitHubOptions) {
    this.fetchFn = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    const [owner = '', name = ''] = opts.repository.split('/');
    this.repoPath = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
  }

  async setCommitStatus(req: CommitStatusRequest): Promise<SendResult> {
    const res = await this.request('POST', `${this.repoPath}/statuses/${encodeURIComponent(req.sha)}`, {
      state: req.state,
      target_url: req.targetUrl,
      description: req.description,
      context: req.context,
    });
    return { statusCode: res.status };
  }

  async upsertPullRequestComment(req: PullRequestCommentRequest): Promise<SendResult> {
    const existing = await this.findComment(req.pullRequest, req.marker);
    const res =
      existing === null
        ? await this.request('POST', `${this.repoPath}/issues/${req.pullRequest}/comments`, { body: req.body })
        : await this.request('PATCH', `${this.repoPath}/issues/comments/${existing.id}`, { body: req.body });
    return { statusCode: res.status };
  }

  /** Our comment on the pull request (the first holding the marker), following every page. */
  private async findComment(pullRequest: number, marker: string): Promise<IssueComment | null> {
    let url: string | null = `${this.opts.apiUrl}${this.repoPath}/issues/${pullRequest}/comments?per_page=100`;
    for (let page = 0; url !== null && page < MAX_COMMENT_PAGES; page++) {
      const res = await this.requestUrl('GET', url);
      const comments = (await res.json()) as unknown;
      if (!Array.isArray(comments)) throw new DeliveryError(`GET ${url}: expected a list of comments`, res.status, true);
      for (const c of comments as IssueComment[]) {
        if (typeof c.id === 'number' && typeof c.body === 'string' && c.body.includes(marker)) return c;
      }
      url = nextLink(res.headers.get('link'));
    }
    return null;
  }

  private request(method: string, path: string, body: unknown): Promise<Response> {
    return this.requestUrl(method, `${this.opts.apiUrl}${path}`, body);
  }

  private async requestUrl(method: string, url: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {
      Accept: 'application/vnd.github+json',
      Authorization: `Bearer ${this.opts.token}`,
      'X-GitHub-Api-Version': '2022-11-28',
      'User-Agent': USER_AGENT,
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await send(this.fetchFn, url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, this.timeoutMs);
    if (res.ok) return res;
    throw await githubError(method, url, res);
  }
}

async function githubError(method: string, url: string, res: Response): Promise<DeliveryError> {
  const text = await bodyExcerpt(res);
  const message = `${method} ${url}: ${res.status} ${text}`.trim();
  if (res.status === 403 || res.status === 429) {
    const after = retryAfterMs(res.headers.get('retry-after'));
    if (after !== undefined) return new DeliveryError(message, res.status, true, after);
    if (res.headers.get('x-ratelimit-remaining') === '0') {
      const reset = Number(res.headers.get('x-ratelimit-reset'));
      const wait = Number.isFinite(reset) ? retryAfterMs(String(Math.max(0, reset - Math.floor(Date.now() / 1000)))) : undefined;
      return new DeliveryError(message, res.status, true, wait);
    }
    // A secondary rate limit without headers: GitHub asks for at least a minute.
    if (res.status === 429 || /rate limit/i.test(text)) return new DeliveryError(message, res.status, true, 60_000);
    return new DeliveryError(message, res.status, false);
  }
  return new DeliveryError(message, res.status, res.status >= 500 || res.status === 408);
}

/** The rel="next" URL of a Link header (RFC 8288), if any. */
export function nextLink(link: string | null): string | null {
  if (link === null) return null;
  for (const part of link.split(',')) {
    const m = /^\s*<([^>]+)>\s*;(.*)$/.exec(part);
    if (m && /(^|;)\s*rel="?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/.test(m[2]!)) return m[1]!;
  }
  return null;
}
