import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { commitSnapshot, commitView, isSettled, uploadView } from '../api/commit-view';
import { pollUntil } from '../api/long-poll';
import { queueView } from '../api/routes/queue';
import { filePatchTotals } from '../coverage/commit-compare';
import { filterSessions } from '../coverage/merge';
import { fileTotals } from '../coverage/totals';
import { classifyValue } from '../coverage/values';
import { loadPatchLines, resolveComparison } from '../services/comparison';
import type { Store } from '../storage/store';
import { type BlobStore } from '../storage/blob-store';
import { commitWorkflowId } from '../workflows/commit-contracts';
import type { Config } from '../config';
import { operatorPageAccess, repositoryPageAccess, visibleTo } from './access';
import { warmUpPages } from './warm-up';
import { registerAssets } from './assets';
import { html } from './layout';
import { CommitPage, defaultOrder } from './pages/commit';
import { ComparePage, defaultCompareOrder } from './pages/compare';
import { PullPage } from './pages/pull';
import { FilePage, type FileLine } from './pages/file';
import { HomePage, type HomeRow } from './pages/home';
import { NotFoundPage } from './pages/not-found';
import { QueuePage } from './pages/queue';
import { RepositoryPage } from './pages/repository';
import { noSources, type SourceReader } from './sources';
import { folderChildren, sortNodes, SummaryCache, type FileEntry } from './tree';
import { commitUrl, compareUrl, workflowUiUrl } from './urls';
import { BadRequest, BlobParams, CommitParams, CommitQuery, CompareQuery, FileQuery, parse, PullParams, RepoParams, RepositoryQuery } from './page-params';
import { listRows, loadFileEntries, loadReport, totalsOf } from './page-data';

/**
 * The web pages, server-rendered (preact to a string) from the same views as the API: home,
 * repository, commit (with live updates over server-sent events), file, and the operators' queue.
 * Registered as one encapsulated plugin, so the access layer's hooks and body parsers apply to
 * the pages alone.
 */

export interface WebDeps {
  config: Config;
  store: Store;
  blobs: BlobStore;
  client: Client;
  adminToken: string;
  sources?: SourceReader;
}

/** Files per page of the commit page's tree. */
export const TREE_PAGE_SIZE = 100;
const COMMITS_PER_PAGE = 50;
const CHART_POINTS = 200;
const SPARK_POINTS = 30;

/** Commits listed on a pull request's page; a pull request with more shows its newest. */
const PULL_COMMITS = 200;

export async function webPages(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const { store, blobs, client, config } = deps;
  const sources = deps.sources ?? noSources;
  const summaries = new SummaryCache<FileEntry[]>(32);

  // Pages are for people: the API's OpenAPI document leaves them out.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  registerAssets(app);
  // Before the first visitor, not on their request (see warm-up.tsx); a failure costs only speed.
  app.addHook('onReady', async () => {
    try {
      warmUpPages();
    } catch (err) {
      app.log.warn({ err }, 'warming up the pages failed');
    }
  });

  const page = (reply: FastifyReply, body: string, status = 200) =>
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
  const notFoundPage = (reply: FastifyReply, what: string, back?: { href: string; text: string }) => page(reply, html(<NotFoundPage what={what} back={back} />), 404);

  app.setErrorHandler((err, request, reply) => {
    if (err instanceof BadRequest) return page(reply, html(<NotFoundPage what={`Bad request: ${err.message}`} />), 400);
    request.log.error({ err }, 'page failed');
    return page(reply, html(<NotFoundPage what="Something went wrong on our side; try again in a moment." />), 500);
  });

  const repoOf = async (request: FastifyRequest, reply: FastifyReply) => {
    const p = RepoParams.safeParse(request.params);
    if (!p.success) {
      await notFoundPage(reply, 'No such repository.');
      return null;
    }
    const slug = `${p.data.owner}/${p.data.repo}`;
    const repository = await store.getRepository(slug);
    if (repository === null) {
      await notFoundPage(reply, `No repository ${slug}.`);
      return null;
    }
    return repository;
  };

  app.get('/', async (request, reply) => {
    const visible = visibleTo(request);
    const all = (await store.listRepositories()).map((r) => r.repository);
    const repos = visible.all ? all : all.filter((r) => visible.slugs.includes(r.slug));
    const series = await store.defaultBranchCoverage(
      repos.map((r) => r.slug),
      config.pipeline.defaultBranch,
      SPARK_POINTS,
    );
    const rows: HomeRow[] = repos.map((r) => {
      const points = (series.get(r.slug) ?? []).flatMap((pt) => {
        const t = totalsOf(pt.totals);
        return t === null ? [] : [{ ...pt, coverage: t.coverage }];
      });
      const last = points[points.length - 1];
      return {
        slug: r.slug,
        branch: r.settings.defaultBranch ?? config.pipeline.defaultBranch,
        latest: last === undefined ? null : { sha: last.sha, coverage: last.coverage, at: last.createdAt },
        trend: points.map((pt) => Number(pt.coverage)),
      };
    });
    return page(reply, html(<HomePage repos={rows} />));
  });

  app.get('/queue', { preHandler: operatorPageAccess }, async (_request, reply) => {
    const [snapshot, verifications] = await Promise.all([store.queueSnapshot(), store.listVerifications({ limit: 20 })]);
    return page(reply, html(<QueuePage queue={queueView(snapshot)} verifications={verifications} />));
  });

  app.get('/:owner/:repo', { preHandler: repositoryPageAccess }, async (request, reply) => {
    const repository = await repoOf(request, reply);
    if (repository === null) return reply;
    const slug = repository.slug;
    const q = parse(RepositoryQuery, request.query, 'repository page');
    const before = q.before === undefined ? undefined : { createdAt: new Date(Number(q.before.split('.')[0])), sha: q.before.split('.')[1]! };
    const chartBranch = q.branch ?? repository.settings.defaultBranch ?? config.pipeline.defaultBranch;
    const [items, branches, chart] = await Promise.all([
      store.listCommits({ repo: slug, branch: q.branch, limit: COMMITS_PER_PAGE + 1, before }),
      store.listBranches(slug),
      store.branchCoverage(slug, chartBranch, CHART_POINTS),
    ]);
    const shown = items.slice(0, COMMITS_PER_PAGE);
    const commits = await listRows(client, slug, shown);
    const last = shown[shown.length - 1];
    const older = items.length > COMMITS_PER_PAGE && last !== undefined ? `${last.createdAt.getTime()}.${last.sha}` : undefined;
    const points = chart.flatMap((pt) => {
      const t = totalsOf(pt.totals);
      return t === null ? [] : [{ t: Math.floor(pt.createdAt.getTime() / 1000), coverage: Number(t.coverage), sha: pt.sha }];
    });
    return page(reply, html(<RepositoryPage slug={slug} branches={branches} branch={q.branch} chartBranch={chartBranch} chart={points} commits={commits} older={older} />));
  });

  app.get('/:owner/:repo/commit/:sha', { preHandler: repositoryPageAccess }, async (request, reply) => {
    const p = CommitParams.safeParse(request.params);
    if (!p.success) return notFoundPage(reply, 'No such commit.');
    const repo = `${p.data.owner}/${p.data.repo}`;
    const { sha } = p.data;
    const q = parse(CommitQuery, request.query, 'commit page');
    const [found, diff] = await Promise.all([commitView(store, client, config.pipeline.defaultBranch, repo, sha), store.getCommitDiff(repo, sha)]);
    if (found === null) return notFoundPage(reply, `No commit ${sha} in ${repo}.`);
    // The base compare resolves: the diff's, else the parent (a commit with neither has none to link to).
    const compareHref = diff?.baseSha != null || found.view.metadata.parentSha !== undefined ? compareUrl(repo, { head: sha }) : null;
    const { view, snapshot } = found;
    const order = q.order ?? defaultOrder(q.sort);
    let folder = '';
    let nodes: ReturnType<typeof folderChildren>['nodes'] = [];
    if (snapshot.reportKey !== null) {
      const key = snapshot.reportKey;
      const files = await summaries.get(key, () => loadFileEntries(blobs, key, request.log));
      ({ folder, nodes } = folderChildren(files, q.path));
      if (nodes.length === 0 && q.path !== '') return notFoundPage(reply, `No folder ${q.path} in this report.`, { href: commitUrl(repo, sha), text: 'Back to the commit' });
    }
    const sorted = sortNodes(nodes, q.sort, order);
    const start = (q.page - 1) * TREE_PAGE_SIZE;
    const workflowId = commitWorkflowId(repo, sha);
    return page(
      reply,
      html(
        <CommitPage
          view={view}
          uploads={snapshot.uploads}
          workflowId={workflowId}
          workflowUrl={workflowUiUrl(config.temporal.uiUrl, config.temporal.namespace, workflowId)}
          folder={folder}
          nodes={sorted.slice(start, start + TREE_PAGE_SIZE)}
          totalNodes={nodes.length}
          page={q.page}
          pageSize={TREE_PAGE_SIZE}
          sort={q.sort}
          order={order}
          eventsUrl={isSettled(view) ? null : `${commitUrl(repo, sha)}/events`}
          treemapNodes={nodes}
          compareHref={compareHref}
        />,
      ),
    );
  });

  // Head against its base, from the comparison the compare API answers (one definition of every figure).
  app.get('/:owner/:repo/compare', { preHandler: repositoryPageAccess }, async (request, reply) => {
    const repository = await repoOf(request, reply);
    if (repository === null) return reply;
    const slug = repository.slug;
    const q = parse(CompareQuery, request.query, 'compare page');
    const result = await resolveComparison({ store, blobs }, slug, q.head, {
      requireComplete: true,
      ...(q.base !== undefined ? { baseSha: q.base } : {}),
      ...(q.flag !== undefined ? { flag: q.flag } : {}),
    });
    const baseSha = result.ok ? result.comparison.base.sha : q.base;
    const uploads = (await Promise.all([q.head, ...(baseSha === undefined ? [] : [baseSha])].map((s) => store.listUploads(slug, s)))).flat();
    const flags = [...new Set(uploads.flatMap((u) => u.flags))].sort();
    const eventsUrl = !result.ok && result.gap.kind === 'not_complete' ? `${commitUrl(slug, result.gap.sha)}/events` : null;
    const order = q.order ?? defaultCompareOrder(q.sort);
    return page(reply, html(<ComparePage repo={slug} head={q.head} base={q.base} flag={q.flag} flags={flags} sort={q.sort} order={order} result={result} eventsUrl={eventsUrl} />));
  });

  app.get('/:owner/:repo/pull/:number', { preHandler: repositoryPageAccess }, async (request, reply) => {
    const repository = await repoOf(request, reply);
    if (repository === null) return reply;
    const slug = repository.slug;
    const n = PullParams.safeParse(request.params);
    if (!n.success) return notFoundPage(reply, 'No such pull request: its number is a whole number.');
    const items = await store.listCommits({ repo: slug, pullRequest: n.data.number, limit: PULL_COMMITS });
    const commits = await listRows(client, slug, items);
    const newest = items[0];
    const latest = newest === undefined ? null : { sha: newest.sha, result: await resolveComparison({ store, blobs }, slug, newest.sha, { requireComplete: true }) };
    return page(reply, html(<PullPage repo={slug} number={n.data.number} commits={commits} latest={latest} />), latest === null ? 404 : 200);
  });

  // Server-sent events while the commit is processing: its state and uploads at each change,
  // read the way the status API's long-poll reads them, until it settles.
  app.get('/:owner/:repo/commit/:sha/events', { preHandler: repositoryPageAccess }, async (request, reply) => {
    const p = CommitParams.safeParse(request.params);
    if (!p.success) return notFoundPage(reply, 'No such commit.');
    const repo = `${p.data.owner}/${p.data.repo}`;
    const { sha } = p.data;
    if ((await store.getCommit(repo, sha)) === null) return notFoundPage(reply, `No commit ${sha} in ${repo}.`);
    const closed = new AbortController();
    request.raw.once('close', () => closed.abort());
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const fingerprint = (s: Awaited<ReturnType<typeof commitSnapshot>>) => JSON.stringify([s.state, s.totals, s.uploads.map((u) => [u.state, u.errorCode])]);
    let last = '';
    // A connection is held at most this long; EventSource reconnects by itself.
    const deadline = Date.now() + 5 * 60_000;
    try {
      while (!closed.signal.aborted && Date.now() < deadline) {
        const snap = await pollUntil(() => commitSnapshot(store, client, repo, sha), (s) => fingerprint(s) !== last || isSettled(s), 15_000, closed.signal);
        if (closed.signal.aborted) break;
        const now = fingerprint(snap);
        if (now !== last) {
          last = now;
          const data = { state: snap.state, totals: snap.totals, uploads: snap.uploads.map(uploadView) };
          res.write(`event: commit\ndata: ${JSON.stringify(data)}\n\n`);
        } else {
          res.write(': still processing\n\n');
        }
        if (isSettled(snap)) break;
      }
    } catch (err) {
      request.log.warn({ err }, 'commit events stopped');
    } finally {
      res.end();
    }
  });

  app.get('/:owner/:repo/commit/:sha/blob/*', { preHandler: repositoryPageAccess }, async (request, reply) => {
    const p = CommitParams.safeParse(request.params);
    const b = BlobParams.safeParse(request.params);
    if (!p.success || !b.success) return notFoundPage(reply, 'No such file.');
    const repo = `${p.data.owner}/${p.data.repo}`;
    const { sha } = p.data;
    const path = b.data['*'];
    const q = parse(FileQuery, request.query, 'file page');
    const back = { href: commitUrl(repo, sha), text: 'Back to the commit' };
    const [saved, uploads, patchLines] = await Promise.all([store.getCommitReport(repo, sha), store.listUploads(repo, sha), loadPatchLines({ store }, repo, sha)]);
    if (saved === null) return notFoundPage(reply, `No report saved for ${sha} in ${repo}.`, back);
    const full = await loadReport(blobs, saved.reportKey);
    if (full.file(path) === undefined) return notFoundPage(reply, `No file ${path} in this report.`, back);
    const flags = [...new Set(uploads.flatMap((u) => u.flags))].sort();
    // The upload rows carry the flags; the report's sessions are the uploads' session numbers.
    const flagged = new Set(uploads.filter((u) => q.flag !== undefined && u.flags.includes(q.flag)).map((u) => u.session));
    const report = q.flag === undefined ? full : filterSessions(full, (s) => flagged.has(s.id));
    const file = report.file(path);
    const lines: FileLine[] = [];
    if (file !== undefined) {
      for (let i = 0; i < file.lineCount; i++) {
        const value = file.value(i);
        lines.push({ line: file.lines[i]!, value, kind: classifyValue(value) });
      }
    }
    const source = await sources.read(repo, sha, path);
    const filePatch = patchLines?.get(path) ?? [];
    const patch = patchLines === null ? null : { lines: filePatch, totals: filePatchTotals(file, filePatch) };
    return page(
      reply,
      html(<FilePage repo={repo} sha={sha} path={path} flags={flags} flag={q.flag} totals={file === undefined ? null : fileTotals(file)} lines={lines} source={source} patch={patch} />),
    );
  });
}
