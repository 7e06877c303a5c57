import type { CommitView } from '../../api/commit-view';
import type { UploadRow } from '../../storage/store';
import { count, shortSha } from '../format';
import { Coverage, Layout } from '../layout';
import type { SortOrder, TreeNode, TreeSort } from '../tree';
import { Treemap } from '../treemap';
import { blobUrl, commitUrl, linkable, repoUrl, withQuery } from '../urls';
import { CommitLink, NoValue, PullLink, StateBadge, Time, TotalCells, TotalCols, type TotalField } from '../components/cells';
import { Col, RowHead, ScrollTable, SortCol, sortedBy } from '../components/table';
import { Section } from '../components/section';

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

/** The merged report's totals, every figure. */
const COMMIT_TOTALS = ['coverage', 'lines', 'hits', 'misses', 'partials', 'branches', 'methods', 'files', 'sessions'] as const satisfies readonly TotalField[];

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
        State: <StateBadge id="commit-state" state={view.state} />
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
        <dd>{m.pullRequest === undefined ? '—' : <PullLink id="pull-link" repo={view.repo} number={m.pullRequest} />}</dd>
        <dt>Parent</dt>
        <dd>{m.parentSha === undefined ? '—' : <CommitLink repo={view.repo} sha={m.parentSha} />}</dd>
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
          {linkable(m.ciUrl) && (
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

      <Section id="totals" title="Totals">
        {t === null ? (
          <p>No report saved yet.</p>
        ) : (
          <ScrollTable id="totals-table" caption="Coverage of the merged report" head={<TotalCols fields={COMMIT_TOTALS} />}>
            <tr>
              <TotalCells totals={t} fields={COMMIT_TOTALS} />
            </tr>
          </ScrollTable>
        )}
      </Section>

      <Section id="uploads" title="Uploads">
        <ScrollTable
          id="upload-list"
          caption={`${p.uploads.length} uploads (sessions) of this commit`}
          head={
            <>
              <Col num>Session</Col>
              <Col>Name</Col>
              <Col>Flags</Col>
              <Col>State</Col>
              <Col>Error</Col>
              <Col num>Warnings</Col>
              <Col>CI</Col>
              <Col>Uploaded</Col>
            </>
          }
        >
          {p.uploads.map((u, i) => {
            const v = view.uploads[i]!;
            return (
              <tr id={`upload-${u.uploadId}`} data-upload={u.uploadId}>
                <RowHead num>{u.session}</RowHead>
                <td>{u.name ?? <NoValue />}</td>
                <td>{u.flags.length === 0 ? <NoValue /> : u.flags.map((f) => <span class="flag">{f}</span>)}</td>
                <td>
                  <StateBadge state={v.state} live />
                </td>
                <td data-upload-error>{v.error === null ? '' : `${v.error.code}: ${v.error.message}`}</td>
                <td class="num">{v.warnings}</td>
                <td>{linkable(u.ciUrl) ? <a href={u.ciUrl}>{u.job ?? u.build ?? 'CI run'}</a> : (u.job ?? u.build ?? '—')}</td>
                <td>
                  <Time at={u.createdAt} />
                </td>
              </tr>
            );
          })}
        </ScrollTable>
      </Section>

      <Section id="files" title="Files">
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
            <ScrollTable
              id="file-tree"
              caption={`${p.folder === '' ? 'The root folder' : p.folder}: ${count(p.totalNodes)} entries${pages > 1 ? `, page ${p.page} of ${pages}` : ''}; ${sortedBy(SORT_LABELS[p.sort], p.order)}`}
              head={
                <>
                  {(['name', 'coverage', 'misses', 'lines'] as const).map((s) => (
                    <SortCol
                      sort={s}
                      label={SORT_LABELS[s]}
                      num={s !== 'name'}
                      current={p.sort}
                      order={p.order}
                      defaultOrder={defaultOrder(s)}
                      href={(order) => treeUrl({ sort: s, order, page: 1 })}
                    />
                  ))}
                  <Col num>Hits</Col>
                  <Col num>Partials</Col>
                  <Col num>Files</Col>
                </>
              }
            >
              {p.nodes.map((n) => (
                <tr data-path={n.path} data-kind={n.kind}>
                  <RowHead>
                    <a href={nodeHref(n)}>
                      {n.name}
                      {n.kind === 'folder' ? '/' : ''}
                    </a>
                  </RowHead>
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
            </ScrollTable>
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
      </Section>
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
