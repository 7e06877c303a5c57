/**
 * Readiness and feedback on a real dev server with the real pipeline and gateway: a commit
 * settles (afterNBuilds, the uploader's done) and only then sends its commit statuses to a
 * GitHub stand-in and its signed webhook to a receiver; a receiver failing twice gets one
 * accepted delivery after three tries; a repeated notification sends nothing again.
 */
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createActivities } from '../../src/activities';
import { coverageDelta } from '../../src/coverage/commit-compare';
import { displayPercent } from '../../src/coverage/ratio';
import { feedbackDepsOf } from '../../src/worker';
import { nudgeNotifier } from '../../src/services/notify';
import { notifyStateQuery, notifyWorkflowId } from '../../src/workflows/notify-contracts';
import { call, openHarness, type Harness } from '../api/harness';
import { CORPUS, newSha, type CorpusFile } from '../support/pipeline';
import { runNode } from '../support/run-child';
import { GitHubStandIn, WebhookReceiver } from '../feedback/stand-ins';

const TOKEN = 'ghp_feedback_test_token';
const SECRET = 'webhook-secret-for-tests';
const REPO_ROOT = path.resolve(__dirname, '../..');

let h: Harness;
let gh: GitHubStandIn;
let rx: WebhookReceiver;
const file = async (rel: string): Promise<CorpusFile> => ({ name: rel, body: await readFile(path.join(CORPUS, rel)) });

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Two decimals of a five-decimal percentage string, as the statuses show it. */
const pct = displayPercent;

before(async () => {
  gh = await new GitHubStandIn(TOKEN).start();
  rx = await new WebhookReceiver(SECRET).start();
  h = await openHarness(
    { TRIBUTARY_SETTLE_AFTER: '10m', TRIBUTARY_NOTIFY_IDLE_TIMEOUT: '2m', TRIBUTARY_GITHUB_API_URL: gh.url, TRIBUTARY_PUBLIC_URL: 'https://cov.example' },
    { notify: true },
  );
});
after(async () => {
  await h?.close();
  await gh?.stop();
  await rx?.stop();
});

async function createRepo(slug: string, settings: Record<string, unknown>): Promise<string> {
  const res = await call(h.gateway.base, 'POST', '/api/v1/repos', { token: h.adminToken, json: { slug, settings } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.uploadToken as string;
}

async function uploadAndMerge(repo: string, sha: string, rel: string, parentSha?: string): Promise<void> {
  await h.p.upload(repo, sha, await file(rel), parentSha ? { commit: { parentSha } } : {});
  await until(`${rel} merged`, async () => ((await h.p.store.listUploads(repo, sha)).every((u) => u.state === 'merged') ? true : undefined));
}

const notifierState = (repo: string, sha: string) => h.env.client.workflow.getHandle(notifyWorkflowId(repo, sha)).query(notifyStateQuery);

describe('readiness and feedback on the dev server', () => {
  it('afterNBuilds=2: notifies only after the second upload; a receiver failing twice gets one delivery after 3 tries; a repeat sends nothing', async () => {
    const repo = 'acme/feedback';
    await createRepo(repo, { afterNBuilds: 2, github: { token: TOKEN }, webhooks: [{ url: `${rx.url}/hook`, secret: SECRET }] });
    const parent = newSha();
    const child = newSha();
    // The parent: two uploads settle it; its statuses have no base.
    await uploadAndMerge(repo, parent, 'negotiator-nyc/lcov.info');
    await uploadAndMerge(repo, parent, 'negotiator-c8/lcov.info');
    await until('the parent notified', async () => (rx.accepted.some((r) => r.body.includes(parent)) ? true : undefined));

    rx.plan.push(500, 503);
    await uploadAndMerge(repo, child, 'negotiator-nyc/lcov.info', parent);
    // One upload of two: nothing is sent, however long we look (the quiet period is 10 minutes).
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await notifierState(repo, child)).settledBy, null);
    assert.equal(gh.statuses.filter((s) => s.sha === child).length, 0);
    assert.equal((await h.p.store.listDeliveries(repo, { sha: child })).length, 0);

    await uploadAndMerge(repo, child, 'tomli-misc/coverage-py.lcov', parent);
    await until('the child webhook accepted', async () => (rx.accepted.some((r) => r.body.includes(child)) ? true : undefined));
    await until('the child statuses', async () => (gh.statuses.filter((s) => s.sha === child).length === 2 ? true : undefined));
    assert.equal((await notifierState(repo, child)).settledBy, 'after_n_builds');

    // The statuses' state and description from the two saved reports.
    const head = (await h.p.store.getCommitReport(repo, child))!.totals as { coverage: string };
    const base = (await h.p.store.getCommitReport(repo, parent))!.totals as { coverage: string };
    const delta = displayPercent(coverageDelta(base.coverage, head.coverage));
    const project = gh.statuses.find((s) => s.sha === child && s.body.context === 'tributary/project')!;
    assert.deepEqual(project.body, {
      state: Number(head.coverage) >= Number(base.coverage) ? 'success' : 'failure',
      description: `${pct(head.coverage)} (${delta.startsWith('-') && delta !== '-0.00%' ? delta : `+${delta.replace('-', '')}`}) compared to ${parent.slice(0, 7)}`,
      context: 'tributary/project',
      target_url: `https://cov.example/${repo}/commit/${child}`,
    });
    // This branch's comparison knows no diff (the compare engine brings it).
    const patch = gh.statuses.find((s) => s.sha === child && s.body.context === 'tributary/patch')!;
    assert.equal(patch.body.state, 'success');
    assert.equal(patch.body.description, 'No diff stored for this commit: patch coverage unknown');

    // Exactly one accepted delivery, three tries in the log (500, 503, 200).
    const accepted = rx.accepted.filter((r) => r.body.includes(child));
    assert.equal(accepted.length, 1);
    const event = JSON.parse(accepted[0]!.body);
    assert.equal(event.event, 'coverage.settled');
    assert.equal(event.repository, repo);
    assert.equal(event.commit.sha, child);
    assert.equal(event.comparison.base.sha, parent);
    assert.equal(event.comparison.head.totals.coverage, head.coverage);
    assert.equal(accepted[0]!.headers['x-tributary-delivery'], event.deliveryId);
    const tries = rx.requests.filter((r) => r.headers['x-tributary-delivery'] === event.deliveryId);
    assert.equal(tries.length, 3);
    const listed = await call(h.gateway.base, 'GET', `/api/v1/repos/acme/feedback/deliveries?sha=${child}`, { token: h.adminToken });
    assert.equal(listed.status, 200);
    const hook = listed.body.deliveries.find((d: { kind: string }) => d.kind === 'webhook');
    assert.equal(hook.state, 'sent');
    assert.equal(hook.attempts, 3);
    assert.deepEqual(hook.log.map((a: { statusCode: number | null }) => a.statusCode), [500, 503, 200]);
    assert.equal(listed.body.deliveries.filter((d: { state: string }) => d.state === 'sent').length, 3);

    // Redelivered: the activity retried after its send, and the same settled report notified again.
    const activities = createActivities({ ...h.p.deps, feedback: feedbackDepsOf(h.p.config) });
    assert.deepEqual(await activities.deliverFeedback({ deliveryId: event.deliveryId }), { state: 'sent', statusCode: 200 });
    const replanned = await activities.planFeedback({ repo, sha: child });
    assert.deepEqual(replanned.pending, []);
    assert.equal(replanned.known, 3);
    const before = { rx: rx.requests.length, gh: gh.requests.length };
    await nudgeNotifier({ client: h.env.client, config: h.p.config }, repo, child, { kind: 'done' });
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(rx.requests.length, before.rx);
    assert.equal(gh.requests.length, before.gh);
  });

  it('`tributary done` settles a commit before its expected uploads; a late upload notifies again', async () => {
    const repo = 'acme/done';
    const uploadToken = await createRepo(repo, { afterNBuilds: 5, webhooks: [{ url: `${rx.url}/done`, secret: SECRET }] });
    const sha = newSha();
    await uploadAndMerge(repo, sha, 'negotiator-nyc/lcov.info');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(rx.requests.filter((r) => r.body.includes(sha)).length, 0);

    const cli = await runNode(['bin/tributary.js', 'done', '--repo', repo, '--sha', sha, '--url', h.gateway.base, '--token', uploadToken], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(cli.code, 0, cli.stderr);
    await until('the done webhook', async () => (rx.accepted.some((r) => r.body.includes(sha)) ? true : undefined));
    assert.equal((await notifierState(repo, sha)).settledBy, 'done');
    const first = JSON.parse(rx.accepted.find((r) => r.body.includes(sha))!.body);

    // A late upload changes the report: a second notification with the new totals.
    await uploadAndMerge(repo, sha, 'negotiator-c8/lcov.info');
    await until('the second webhook', async () => (rx.accepted.filter((r) => r.body.includes(sha)).length === 2 ? true : undefined));
    const second = JSON.parse(rx.accepted.filter((r) => r.body.includes(sha))[1]!.body);
    assert.ok(second.report.version > first.report.version);
    assert.deepEqual(second.report.totals, (await h.p.store.getCommitReport(repo, sha))!.totals);
  });

  it('secrets are write-only in the settings API', async () => {
    const repo = 'acme/secrets';
    await createRepo(repo, { github: { token: TOKEN, repository: 'acme/real' }, webhooks: [{ url: 'https://hooks.example/x', secret: SECRET }] });
    const got = await call(h.gateway.base, 'GET', '/api/v1/repos/acme/secrets/settings', { token: h.adminToken });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.settings, { github: { token: '***', repository: 'acme/real' }, webhooks: [{ url: 'https://hooks.example/x', secret: '***' }] });
    assert.ok(!JSON.stringify((await call(h.gateway.base, 'GET', '/api/v1/repos', { token: h.adminToken })).body).includes(TOKEN));
    // Sending back what was read keeps the stored secrets.
    const put = await call(h.gateway.base, 'PUT', '/api/v1/repos/acme/secrets/settings', { token: h.adminToken, json: { ...got.body.settings, afterNBuilds: 3 } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.settings.github.token, '***');
    const stored = (await h.p.store.getRepository(repo))!.settings;
    assert.equal(stored.github?.token, TOKEN);
    assert.equal(stored.webhooks?.[0]?.secret, SECRET);
    assert.equal(stored.afterNBuilds, 3);
    // A new webhook without its secret is refused, naming the field.
    const bad = await call(h.gateway.base, 'PUT', '/api/v1/repos/acme/secrets/settings', { token: h.adminToken, json: { webhooks: [{ url: 'https://other.example/y' }] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'webhooks.0.secret');
  });
});
