import { Coverage, Layout } from '../layout';
import { Sparkline } from '../sparkline';
import { repoUrl } from '../urls';
import { shortSha, timeText } from '../format';

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
        <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
          <table>
            <caption>Each repository's latest coverage on its default branch, and its trend over the last reports</caption>
            <thead>
              <tr>
                <th scope="col">Repository</th>
                <th scope="col">Default branch</th>
                <th scope="col" class="num">Coverage</th>
                <th scope="col">Trend</th>
                <th scope="col">Latest report</th>
              </tr>
            </thead>
            <tbody>
              {props.repos.map((r) => (
                <tr>
                  <th scope="row">
                    <a href={repoUrl(r.slug)}>{r.slug}</a>
                  </th>
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
                        <code>{shortSha(r.latest.sha)}</code> <time datetime={r.latest.at.toISOString()}>{timeText(r.latest.at)}</time>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
