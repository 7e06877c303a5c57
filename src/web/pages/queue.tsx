import type { QueueView } from '../../api/routes/queue';
import type { VerificationRow } from '../../storage/store';
import { count, shortSha, timeText } from '../format';
import { Layout } from '../layout';
import { commitUrl, repoUrl } from '../urls';

const seconds = (s: number | null) => (s === null ? '—' : s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`);

export function QueuePage(p: { queue: QueueView; verifications: VerificationRow[] }) {
  const q = p.queue;
  return (
    <Layout title="Queue" crumbs={[{ href: '/queue', text: 'Queue' }]}>
      <h1>Upload queue</h1>
      <p>
        Read at <time datetime={q.at}>{timeText(new Date(q.at))}</time> (the database's clock).
      </p>
      <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
        <table id="queue-total">
          <caption>All repositories</caption>
          <thead>
            <tr>
              <th scope="col" class="num">Waiting</th>
              <th scope="col" class="num">Processing</th>
              <th scope="col" class="num">Oldest wait</th>
              <th scope="col" class="num">Estimated wait</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td class="num" data-figure="waiting">{count(q.total.waiting)}</td>
              <td class="num" data-figure="processing">{count(q.total.processing)}</td>
              <td class="num">{seconds(q.total.oldestWaitingAge)}</td>
              <td class="num">{seconds(q.total.estimatedWait)}</td>
            </tr>
          </tbody>
        </table>
      </div>
      <h2>Queue times and throughput</h2>
      <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
        <table id="queue-windows">
          <caption>Uploads whose processing started in the window</caption>
          <thead>
            <tr>
              <th scope="col">Window</th>
              <th scope="col" class="num">Started</th>
              <th scope="col" class="num">Queue time p50</th>
              <th scope="col" class="num">Queue time p95</th>
              <th scope="col" class="num">Merged per minute</th>
            </tr>
          </thead>
          <tbody>
            {q.windows.map((w) => (
              <tr>
                <th scope="row">last {w.minutes} minutes</th>
                <td class="num">{count(w.started)}</td>
                <td class="num">{seconds(w.queueTimeP50)}</td>
                <td class="num">{seconds(w.queueTimeP95)}</td>
                <td class="num">{w.mergedPerMinute.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Backlog per repository</h2>
      {q.repositories.length === 0 ? (
        <p>Nothing waiting or processing.</p>
      ) : (
        <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
          <table id="queue-repos">
            <caption>Repositories with uploads waiting or processing</caption>
            <thead>
              <tr>
                <th scope="col">Repository</th>
                <th scope="col" class="num">Waiting</th>
                <th scope="col" class="num">Processing</th>
                <th scope="col" class="num">Oldest wait</th>
              </tr>
            </thead>
            <tbody>
              {q.repositories.map((r) => (
                <tr>
                  <th scope="row">
                    <a href={repoUrl(r.repo)}>{r.repo}</a>
                  </th>
                  <td class="num">{count(r.waiting)}</td>
                  <td class="num">{count(r.processing)}</td>
                  <td class="num">{seconds(r.oldestWaitingAge)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Recent verifications</h2>
      {p.verifications.length === 0 ? (
        <p>No re-verification has run yet.</p>
      ) : (
        <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
          <table id="verifications">
            <caption>Scheduled re-verification outcomes, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Commit</th>
                <th scope="col">Outcome</th>
                <th scope="col" class="num">Differing files</th>
                <th scope="col" class="num">Differing lines</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {p.verifications.map((v) => (
                <tr>
                  <td>
                    <time datetime={v.createdAt.toISOString()}>{timeText(v.createdAt)}</time>
                  </td>
                  <th scope="row">
                    <a href={commitUrl(v.repo, v.sha)}>
                      {v.repo} @ <code>{shortSha(v.sha)}</code>
                    </a>
                  </th>
                  <td>{v.outcome}</td>
                  <td class="num">{count(v.differingFiles)}</td>
                  <td class="num">{count(v.differingLines)}</td>
                  <td>{v.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
