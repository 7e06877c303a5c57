import type { CommitTotals } from '../../api/commit-view';
import type { ExperimentOutcome, PublicCommitState } from '../../vocabulary';
import { count, percent, shortSha, timeText } from '../format';
import { Coverage, JsonData, Layout } from '../layout';
import { commitUrl, pullUrl, repoUrl, withQuery } from '../urls';

export interface CommitListRow {
  sha: string;
  branch: string | null;
  pullRequest: number | null;
  createdAt: Date;
  state: PublicCommitState;
  totals: CommitTotals | null;
  mode: string | null;
  experimentOutcome: ExperimentOutcome | null;
  uploads: number;
}

export interface RepositoryPageProps {
  slug: string;
  branches: string[];
  /** The branch filter, when one is chosen. */
  branch: string | undefined;
  /** The branch the chart shows: the filter's, else the default branch. */
  chartBranch: string;
  chart: { t: number; coverage: number; sha: string }[];
  commits: CommitListRow[];
  /** The `before` of the next (older) page, when there is one. */
  older: string | undefined;
}

export function RepositoryPage(p: RepositoryPageProps) {
  const base = repoUrl(p.slug);
  return (
    <Layout title={p.slug} crumbs={[{ href: base, text: p.slug }]} scripts={['uplot.js', 'chart.js']} styles={['uplot.css']}>
      <h1>{p.slug}</h1>
      <section aria-labelledby="trend">
        <h2 id="trend">Coverage on {p.chartBranch}</h2>
        {p.chart.length === 0 ? (
          <p>No saved report on {p.chartBranch} yet.</p>
        ) : (
          <>
            <div id="coverage-chart" class="chart" data-source="chart-data" data-label={`Coverage on ${p.chartBranch}`} />
            <JsonData id="chart-data" value={p.chart} />
            <details>
              <summary>Chart data as a table</summary>
              <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
                <table>
                  <caption>Coverage of the last {p.chart.length} reports on {p.chartBranch}, oldest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Commit</th>
                      <th scope="col">Uploaded</th>
                      <th scope="col" class="num">Coverage</th>
                    </tr>
                  </thead>
                  <tbody>
                    {p.chart.map((pt) => (
                      <tr>
                        <td>
                          <a href={commitUrl(p.slug, pt.sha)}>
                            <code>{shortSha(pt.sha)}</code>
                          </a>
                        </td>
                        <td>{timeText(new Date(pt.t * 1000))}</td>
                        <td class="num">{percent(String(pt.coverage))}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          </>
        )}
      </section>
      <section aria-labelledby="commits">
        <h2 id="commits">Commits</h2>
        <form method="get" action={base} class="filter">
          <label for="branch">Branch</label>{' '}
          <select id="branch" name="branch">
            <option value="" selected={p.branch === undefined}>
              all branches
            </option>
            {p.branches.map((b) => (
              <option value={b} selected={b === p.branch}>
                {b}
              </option>
            ))}
          </select>{' '}
          <button type="submit">Filter</button>
        </form>
        {p.commits.length === 0 ? (
          <p>No commits{p.branch === undefined ? '' : ` on ${p.branch}`} yet.</p>
        ) : (
          <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
            <table id="commit-list">
              <caption>Commits{p.branch === undefined ? '' : ` on ${p.branch}`}, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Commit</th>
                  <th scope="col">Branch</th>
                  <th scope="col">PR</th>
                  <th scope="col">First upload</th>
                  <th scope="col">State</th>
                  <th scope="col" class="num">Coverage</th>
                  <th scope="col" class="num">Hits</th>
                  <th scope="col" class="num">Misses</th>
                  <th scope="col" class="num">Partials</th>
                  <th scope="col">Mode</th>
                  <th scope="col">Experiment</th>
                  <th scope="col" class="num">Uploads</th>
                </tr>
              </thead>
              <tbody>
                {p.commits.map((c) => (
                  <tr data-sha={c.sha}>
                    <th scope="row">
                      <a href={commitUrl(p.slug, c.sha)}>
                        <code>{shortSha(c.sha)}</code>
                      </a>
                    </th>
                    <td>{c.branch ?? <span class="muted">—</span>}</td>
                    <td>{c.pullRequest === null ? <span class="muted">—</span> : <a href={pullUrl(p.slug, c.pullRequest)}>#{c.pullRequest}</a>}</td>
                    <td>
                      <time datetime={c.createdAt.toISOString()}>{timeText(c.createdAt)}</time>
                    </td>
                    <td>
                      <span class={`state state-${c.state}`}>{c.state}</span>
                    </td>
                    <td class="num">
                      <Coverage value={c.totals?.coverage} />
                    </td>
                    <td class="num">{c.totals === null ? '—' : count(c.totals.hits)}</td>
                    <td class="num">{c.totals === null ? '—' : count(c.totals.misses)}</td>
                    <td class="num">{c.totals === null ? '—' : count(c.totals.partials)}</td>
                    <td>{c.mode ?? <span class="muted">—</span>}</td>
                    <td>{c.experimentOutcome ?? <span class="muted">—</span>}</td>
                    <td class="num">{count(c.uploads)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {p.older !== undefined && (
          <p>
            <a rel="next" href={withQuery(base, { branch: p.branch, before: p.older })}>
              Older commits
            </a>
          </p>
        )}
      </section>
    </Layout>
  );
}
