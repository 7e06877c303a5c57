import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GitHubProvider, nextLink } from '../../src/feedback/github';
import { DeliveryError } from '../../src/feedback/provider';
import { signWebhook, WebhookProvider } from '../../src/feedback/webhook';
import { COMMENT_MARKER } from '../../src/feedback/comment';
import { GitHubStandIn, WebhookReceiver } from './stand-ins';

const SHA = 'a'.repeat(40);
const TOKEN = 'ghp_test_token_0123456789';

describe('GitHub adapter against a stand-in of the REST API', () => {
  let gh: GitHubStandIn;
  before(async () => {
    gh = await new GitHubStandIn(TOKEN).start();
  });
  after(() => gh.stop());

  const provider = () => new GitHubProvider({ apiUrl: gh.url, token: TOKEN, repository: 'acme/app' });

  it('creates a commit status with the documented path, headers and body', async () => {
    gh.requests.length = 0;
    const res = await provider().setCommitStatus({ sha: SHA, context: 'tributary/project', state: 'success', description: '87.50% (+0.80%) compared to abc1234', targetUrl: 'https://cov.example/acme/app/commit/' + SHA });
    assert.equal(res.statusCode, 201);
    assert.equal(gh.requests.length, 1);
    const r = gh.requests[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.path, `/repos/acme/app/statuses/${SHA}`);
    assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(r.headers.accept, 'application/vnd.github+json');
    assert.equal(r.headers['x-github-api-version'], '2022-11-28');
    assert.ok(typeof r.headers['user-agent'] === 'string' && r.headers['user-agent'].length > 0);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body), {
      state: 'success',
      target_url: 'https://cov.example/acme/app/commit/' + SHA,
      description: '87.50% (+0.80%) compared to abc1234',
      context: 'tributary/project',
    });
  });

  it('creates the pull-request comment when none carries the marker, then updates it found on a later page', async () => {
    gh.requests.length = 0;
    gh.addComment(7, 'first human comment');
    gh.addComment(7, 'second human comment');
    gh.addComment(7, 'third human comment');
    await provider().upsertPullRequestComment({ pullRequest: 7, body: `${COMMENT_MARKER}\nv1`, marker: COMMENT_MARKER });
    // Two pages listed (Link rel="next" followed), then one POST.
    assert.deepEqual(
      gh.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /repos/acme/app/issues/7/comments?per_page=100', 'GET /repos/acme/app/issues/7/comments?per_page=100&page=2', 'POST /repos/acme/app/issues/7/comments'],
    );
    assert.deepEqual(JSON.parse(gh.requests[2]!.body), { body: `${COMMENT_MARKER}\nv1` });
    const ours = [...gh.comments.values()].find((c) => c.body.includes(COMMENT_MARKER))!;
    gh.addComment(7, 'a later human comment');

    gh.requests.length = 0;
    await provider().upsertPullRequestComment({ pullRequest: 7, body: `${COMMENT_MARKER}\nv2`, marker: COMMENT_MARKER });
    assert.deepEqual(
      gh.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /repos/acme/app/issues/7/comments?per_page=100', 'GET /repos/acme/app/issues/7/comments?per_page=100&page=2', `PATCH /repos/acme/app/issues/comments/${ours.id}`],
    );
    for (const r of gh.requests) assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(gh.comments.get(ours.id)!.body, `${COMMENT_MARKER}\nv2`);
    assert.equal([...gh.comments.values()].filter((c) => c.body.includes(COMMENT_MARKER)).length, 1);
  });

  it('answers rate limits as retryable with the wait GitHub asks for, and refusals as final', async () => {
    gh.faults.push({ status: 429, headers: { 'Retry-After': '7' }, body: { message: 'API rate limit exceeded' } });
    await assert.rejects(provider().setCommitStatus({ sha: SHA, context: 'c', state: 'success', description: 'd', targetUrl: 'http://x/' }), (e: unknown) => {
      assert.ok(e instanceof DeliveryError);
      return e.statusCode === 429 && e.retryable && e.retryAfterMs === 7000;
    });
    const reset = Math.floor(Date.now() / 1000) + 30;
    gh.faults.push({ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }, body: { message: 'API rate limit exceeded' } });
    await assert.rejects(provider().setCommitStatus({ sha: SHA, context: 'c', state: 'success', description: 'd', targetUrl: 'http://x/' }), (e: unknown) => {
      assert.ok(e instanceof DeliveryError);
      return e.retryable && e.retryAfterMs !== undefined && e.retryAfterMs > 25_000 && e.retryAfterMs <= 31_000;
    });
    gh.faults.push({ status: 403, body: { message: 'Resource not accessible by integration' } });
    await assert.rejects(provider().setCommitStatus({ sha: SHA, context: 'c', state: 'success', description: 'd', targetUrl: 'http://x/' }), (e: unknown) => e instanceof DeliveryError && !e.retryable && e.statusCode === 403);
    gh.faults.push({ status: 502, body: { message: 'bad gateway' } });
    await assert.rejects(provider().setCommitStatus({ sha: SHA, context: 'c', state: 'success', description: 'd', targetUrl: 'http://x/' }), (e: unknown) => e instanceof DeliveryError && e.retryable);
  });

  it('reads rel="next" from a Link header', () => {
    assert.equal(nextLink('<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"'), 'https://api.github.com/x?page=2');
    assert.equal(nextLink('<https://api.github.com/x?page=1>; rel="prev"'), null);
    assert.equal(nextLink(null), null);
  });
});

describe('webhook adapter against a receiver that verifies the signature', () => {
  const SECRET = 'whsec_0123456789abcdef';
  let rx: WebhookReceiver;
  before(async () => {
    rx = await new WebhookReceiver(SECRET, [500]).start();
  });
  after(() => rx.stop());

  it('signs HMAC-SHA256(secret, timestamp + "." + body) and sends the delivery id', async () => {
    const body = JSON.stringify({ event: 'coverage.settled', n: 1 });
    const hook = new WebhookProvider({ url: `${rx.url}/hook`, secret: SECRET, event: 'coverage.settled' });
    await assert.rejects(hook.sendEvent({ deliveryId: 'd-1', body }), (e: unknown) => e instanceof DeliveryError && e.retryable && e.statusCode === 500);
    const ok = await hook.sendEvent({ deliveryId: 'd-1', body });
    assert.equal(ok.statusCode, 200);
    assert.equal(rx.badSignatures.length, 0);
    assert.equal(rx.accepted.length, 1);
    const r = rx.accepted[0]!;
    assert.equal(r.body, body);
    assert.equal(r.headers['x-tributary-delivery'], 'd-1');
    assert.equal(r.headers['x-tributary-event'], 'coverage.settled');
    const ts = String(r.headers['x-tributary-timestamp']);
    const expected = 'sha256=' + createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex');
    assert.equal(r.headers['x-tributary-signature'], expected);
    assert.equal(signWebhook(SECRET, ts, body), expected);
  });

  it('a wrong secret is refused by the receiver', async () => {
    const hook = new WebhookProvider({ url: `${rx.url}/hook`, secret: 'another-secret-entirely', event: 'coverage.settled' });
    await assert.rejects(hook.sendEvent({ deliveryId: 'd-2', body: '{}' }), (e: unknown) => e instanceof DeliveryError && e.statusCode === 401);
    assert.equal(rx.badSignatures.length, 1);
  });
});
