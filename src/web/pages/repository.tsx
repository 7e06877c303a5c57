import { percent } from '../format';
import { JsonData, Layout } from '../layout';
import { CommitLink, Time } from '../components/cells';
import { CommitList, type CommitListRow } from '../components/commit-list';
import { FilterSelect } from '../components/filter';
import { Col, RowHead, ScrollTable } from '../components/table';
import { repoUrl, withQuery } from '../urls';
import { Section } from '../components/section';

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
      <Section id="trend" title={`Coverage on ${p.chartBranch}`}>
        {p.chart.length === 0 ? (
          <p>No saved report on {p.chartBranch} yet.</p>
        ) : (
          <>
            <div id="coverage-chart" class="chart" data-source="chart-data" data-label={`Coverage on ${p.chartBranch}`} />
            <JsonData id="chart-data" value={p.chart} />
            <details>
              <summary>Chart data as a table</summary>
              <ScrollTable
                caption={`Coverage of the last ${p.chart.length} reports on ${p.chartBranch}, oldest first`}
                head={
                  <>
                    <Col>Commit</Col>
                    <Col>Uploaded</Col>
                    <Col num>Coverage</Col>
                  </>
                }
              >
                {p.chart.map((pt) => (
                  <tr>
                    <RowHead>
                      <CommitLink repo={p.slug} sha={pt.sha} />
                    </RowHead>
                    <td>
                      <Time at={new Date(pt.t * 1000)} />
                    </td>
                    <td class="num">{percent(String(pt.coverage))}</td>
                  </tr>
                ))}
              </ScrollTable>
            </details>
          </>
        )}
      </Section>
      <Section id="commits" title="Commits">
        <form method="get" action={base} class="filter">
          <FilterSelect name="branch" label="Branch" all="all branches" values={p.branches} selected={p.branch} />{' '}
          <button type="submit">Filter</button>
        </form>
        {p.commits.length === 0 ? (
          <p>No commits{p.branch === undefined ? '' : ` on ${p.branch}`} yet.</p>
        ) : (
          <CommitList
            id="commit-list"
            caption={`Commits${p.branch === undefined ? '' : ` on ${p.branch}`}, newest first`}
            repo={p.slug}
            commits={p.commits}
            columns={['commit', 'branch', 'pullRequest', 'firstUpload', 'state', 'coverage', 'hits', 'misses', 'partials', 'mode', 'experiment', 'uploads']}
          />
        )}
        {p.older !== undefined && (
          <p>
            <a rel="next" href={withQuery(base, { branch: p.branch, before: p.older })}>
              Older commits
            </a>
          </p>
        )}
      </Section>
    </Layout>
  );
}
