import { Coverage, Layout } from '../layout';
import { Sparkline } from '../sparkline';
import { shortSha } from '../format';
import { RepoLink, Time } from '../components/cells';
import { Col, RowHead, ScrollTable } from '../components/table';

export interface HomeRow {
  slug: string;
  branch: string;
  latest: { sha: string; coverage: string; at: Date } | null;
  trend: number[];
}

export function HomePage(props: { repos: HomeRow[] }) {
  return (
    <Layout title="Repositories">
      <h1>Repositories</h1>
      {props.repos.length === 0 ? (
        <p>No repository to show. Create one with <code>tributary repo create OWNER/NAME</code>, or log in to see private ones.</p>
      ) : (
        <ScrollTable
          caption="Each repository's latest coverage on its default branch, and its trend over the last reports"
          head={
            <>
              <Col>Repository</Col>
              <Col>Default branch</Col>
              <Col num>Coverage</Col>
              <Col>Trend</Col>
              <Col>Latest report</Col>
            </>
          }
        >
          {props.repos.map((r) => (
            <tr>
              <RowHead>
                <RepoLink slug={r.slug} />
              </RowHead>
              <td>{r.branch}</td>
              <td class="num">
                <Coverage value={r.latest?.coverage} />
              </td>
              <td>
                <Sparkline values={r.trend} label={`${r.slug} coverage over its last ${r.trend.length} reports on ${r.branch}`} />
              </td>
              <td>
                {r.latest === null ? (
                  <span class="muted">none yet</span>
                ) : (
                  <>
                    <code>{shortSha(r.latest.sha)}</code> <Time at={r.latest.at} />
                  </>
                )}
              </td>
            </tr>
          ))}
        </ScrollTable>
      )}
    </Layout>
  );
}
