import type { CommitView } from '../../api/commit-view';
import type { UploadRow } from '../../storage/store';
import { count, shortSha, timeText } from '../format';
import { Coverage, Layout } from '../layout';
import type { SortOrder, TreeNode, TreeSort } from '../tree';
import { Treemap } from '../treemap';
import { blobUrl, commitUrl, pullUrl, repoUrl, withQuery } from '../urls';

export interface CommitPageProps {
  view: CommitView;
  uploads: UploadRow[];
  workflowId: string;
  workflowUrl: string | null;
  /** The folder shown ('' for the root) and its children, sorted, one page of them. */
  folder: string;
  nodes: TreeNode[];
  totalNodes: number;
  page: number;
  pageSize: number;
  sort: TreeSort;
  order: SortOrder;
  /** Where live updates come from while the commit is processing. */
  eventsUrl: string | null;
  treemapNodes: TreeNode[];
  /** The comparison with the commit's base, when one is known. */
  compareHref: string | null;
}

const SORT_LABELS: Record<TreeSort, string> = { name: 'Name', coverage: 'Coverage', misses: 'Misses', lines: 'Lines' };

export function CommitPage(p: CommitPageProps) {
  const { view } = p;
  const base = commitUrl(view.repo, view.sha);
  const t = view.totals;
  const m = view.metadata;
  const treeUrl = (q: { path?: string; sort?: TreeSort; order?: SortOrder; page?: number }) =>
    withQuery(base, {
      path: (q.path ?? p.folder) || undefined,
      sort: (q.sort ?? p.sort) === 'name' ? undefined : (q.sort ?? p.sort),
      order: (q.order ?? p.order) === defaultOrder(q.sort ?? p.sort) ? undefined : (q.order ?? p.order),
      page: (q.page ?? 1) === 1 ? undefined : q.page,
    }) + '#files';
  const nodeHref = (n: TreeNode) => (n.kind === 'folder' ? treeUrl({ path: n.path, page: 1 }) : blobUrl(view.repo, view.sha, n.path));
  const pages = Math.max(1, Math.ceil(p.totalNodes / p.pageSize));
  const crumbs = folderCrumbs(p.folder);
  return (
    <Layout
      title={`${view.repo} @ ${shortSha(view.sha)}`}
      crumbs={[
        { href: repoUrl(view.repo), text: view.repo },
        { href: base, text: shortSha(view.sha) },
      ]}
      scripts={p.eventsUrl === null ? [] : ['live.js']}
    >
      <h1>
        Commit <code>{shortSha(view.sha)}</code>
      </h1>
      <p id="commit-status" role="status" data-events={p.eventsUrl ?? undefined}>
        State: <span id="commit-state" class={`state state-${view.state}`}>{view.state}</span>
        {p.eventsUrl !== null && <span class="muted"> · this page follows the processing live; without JavaScript, reload it to see progress.</span>}
      </p>
      <dl class="facts">
        <dt>Full sha</dt>
        <dd>
          <code>{view.sha}</code>
        </dd>
        <dt>Branch</dt>
        <dd>{m.branch ?? '—'}</dd>
        <dt>Pull request</dt>
        <dd>{m.pullRequest === undefined ? '—' : <a id="pull-link" href={pullUrl(view.repo, m.pullRequest)}>#{m.pullRequest}</a>}</dd>
        <dt>Parent</dt>
        <dd>{m.parentSha === undefined ? '—' : <a href={commitUrl(view.repo, m.parentSha)}><code>{shortSha(m.parentSha)}</code></a>}</dd>
        <dt>Compare</dt>
        <dd>
          {p.compareHref === null ? (
            <span class="muted">no base known (no parent, no diff)</span>
          ) : (
            <a id="compare-link" href={p.compareHref}>
              With its base: deltas and patch coverage
            </a>
          )}
        </dd>
        <dt>CI</dt>
        <dd>
          {[m.ciService, m.build && `build ${m.build}`, m.job && `job ${m.job}`].filter(Boolean).join(', ') || '—'}
          {m.ciUrl !== undefined && /^https?:\/\//.test(m.ciUrl) && (
            <>
              {' '}
              (<a href={m.ciUrl}>CI run</a>)
            </>
          )}
        </dd>
        <dt>Mode</dt>
        <dd id="commit-mode">{view.mode ?? '—'}</dd>
        <dt>Experiment</dt>
        <dd id="commit-experiment">{view.experimentOutcome ?? '—'}</dd>
        <dt>Priority</dt>
        <dd>
          {view.priority.key} ({view.priority.reason.replace(/_/g, ' ')})
        </dd>
        <dt>Workflow</dt>
        <dd>
          {p.workflowUrl === null ? (
            <code>{p.workflowId}</code>
          ) : (
            <a id="workflow-link" href={p.workflowUrl}>
              <code>{p.workflowId}</code> in the Temporal Web UI
            </a>
          )}
        </dd>
      </dl>

      <section aria-labelledby="totals">
        <h2 id="totals">Totals</h2>
        {t === null ? (
          <p>No report saved yet.</p>
        ) : (
          <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
            <table id="totals-table">
              <caption>Coverage of the merged report</caption>
              <thead>
                <tr>
                  <th scope="col" class="num">Coverage</th>
                  <th scope="col" class="num">Lines</th>
                  <th scope="col" class="num">Hits</th>
                  <th scope="col" class="num">Misses</th>
                  <th scope="col" class="num">Partials</th>
                  <th scope="col" class="num">Branches</th>
                  <th scope="col" class="num">Methods</th>
                  <th scope="col" class="num">Files</th>
                  <th scope="col" class="num">Sessions</th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <td class="num" data-total="coverage">
                    <Coverage value={t.coverage} />
                  </td>
                  <td class="num" data-total="lines">{count(t.lines)}</td>
                  <td class="num" data-total="hits">{count(t.hits)}</td>
                  <td class="num" data-total="misses">{count(t.misses)}</td>
                  <td class="num" data-total="partials">{count(t.partials)}</td>
                  <td class="num" data-total="branches">{count(t.branches)}</td>
                  <td class="num" data-total="methods">{count(t.methods)}</td>
                  <td class="num" data-total="files">{count(t.files)}</td>
                  <td class="num" data-total="sessions">{count(t.sessions)}</td>
                </tr>
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="uploads">
        <h2 id="uploads">Uploads</h2>
        <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
          <table id="upload-list">
            <caption>{p.uploads.length} uploads (sessions) of this commit</caption>
            <thead>
              <tr>
                <th scope="col" class="num">Session</th>
                <th scope="col">Name</th>
                <th scope="col">Flags</th>
                <th scope="col">State</th>
                <th scope="col">Error</th>
                <th scope="col" class="num">Warnings</th>
                <th scope="col">CI</th>
                <th scope="col">Uploaded</th>
              </tr>
            </thead>
            <tbody>
              {p.uploads.map((u, i) => {
                const v = view.uploads[i]!;
                return (
                  <tr id={`upload-${u.uploadId}`} data-upload={u.uploadId}>
                    <th scope="row" class="num">
                      {u.session}
                    </th>
                    <td>{u.name ?? <span class="muted">—</span>}</td>
                    <td>{u.flags.length === 0 ? <span class="muted">—</span> : u.flags.map((f) => <span class="flag">{f}</span>)}</td>
                    <td>
                      <span class={`state state-${v.state}`} data-upload-state>
                        {v.state}
                      </span>
                    </td>
                    <td data-upload-error>{v.error === null ? '' : `${v.error.code}: ${v.error.message}`}</td>
                    <td class="num">{v.warnings}</td>
                    <td>{u.ciUrl !== null && /^https?:\/\//.test(u.ciUrl) ? <a href={u.ciUrl}>{u.job ?? u.build ?? 'CI run'}</a> : (u.job ?? u.build ?? '—')}</td>
                    <td>
                      <time datetime={u.createdAt.toISOString()}>{timeText(u.createdAt)}</time>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="files">
        <h2 id="files">Files</h2>
        {t === null ? (
          <p>The file tree appears once a report is saved.</p>
        ) : (
          <>
            <nav aria-label="Folder" class="path">
              <ol>
                <li>
                  <a href={treeUrl({ path: '', page: 1 })}>(root)</a>
                </li>
                {crumbs.map((c) => (
                  <li>
                    <a href={treeUrl({ path: c.path, page: 1 })} aria-current={c.path === p.folder ? 'page' : undefined}>
                      {c.name}
                    </a>
                  </li>
                ))}
              </ol>
            </nav>
            <Treemap nodes={p.treemapNodes} href={nodeHref} label={`Treemap of ${p.folder || 'the root folder'}`} />
            <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
              <table id="file-tree">
                <caption>
                  {p.folder === '' ? 'The root folder' : p.folder}: {count(p.totalNodes)} entries
                  {pages > 1 ? `, page ${p.page} of ${pages}` : ''}; sorted by {SORT_LABELS[p.sort].toLowerCase()}, {p.order === 'asc' ? 'ascending' : 'descending'}
                </caption>
                <thead>
                  <tr>
                    {(['name', 'coverage', 'misses', 'lines'] as const).map((s) => {
                      const active = p.sort === s;
                      const next: SortOrder = active ? (p.order === 'asc' ? 'desc' : 'asc') : defaultOrder(s);
                      return (
                        <th scope="col" class={s === 'name' ? undefined : 'num'} aria-sort={active ? (p.order === 'asc' ? 'ascending' : 'descending') : undefined}>
                          <a href={treeUrl({ sort: s, order: next, page: 1 })} data-sort={s}>
                            {SORT_LABELS[s]}
                            {active ? (p.order === 'asc' ? ' ▲' : ' ▼') : ''}
                          </a>
                        </th>
                      );
                    })}
                    <th scope="col" class="num">
                      Hits
                    </th>
                    <th scope="col" class="num">
                      Partials
                    </th>
                    <th scope="col" class="num">
                      Files
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {p.nodes.map((n) => (
                    <tr data-path={n.path} data-kind={n.kind}>
                      <th scope="row">
                        <a href={nodeHref(n)}>
                          {n.name}
                          {n.kind === 'folder' ? '/' : ''}
                        </a>
                      </th>
                      <td class="num" data-coverage={n.coverage}>
                        <Coverage value={n.coverage} />
                      </td>
                      <td class="num">{count(n.misses)}</td>
                      <td class="num">{count(n.lines)}</td>
                      <td class="num">{count(n.hits)}</td>
                      <td class="num">{count(n.partials)}</td>
                      <td class="num">{count(n.files)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {pages > 1 && (
              <nav aria-label="File pages" class="pager">
                {p.page > 1 && (
                  <a rel="prev" href={treeUrl({ page: p.page - 1 })}>
                    Previous
                  </a>
                )}
                <span>
                  Page {p.page} of {pages}
                </span>
                {p.page < pages && (
                  <a rel="next" href={treeUrl({ page: p.page + 1 })}>
                    Next
                  </a>
                )}
              </nav>
            )}
          </>
        )}
      </section>
    </Layout>
  );
}

/** Names ascend by default; figures descend (the worst files first for misses). */
export function defaultOrder(sort: TreeSort): SortOrder {
  return sort === 'name' || sort === 'coverage' ? 'asc' : 'desc';
}

function folderCrumbs(folder: string): { name: string; path: string }[] {
  if (folder === '') return [];
  const parts = folder.split('/');
  return parts.map((name, i) => ({ name, path: parts.slice(0, i + 1).join('/') }));
}
