import type { QueueView } from '../../api/routes/queue';
import type { VerificationRow } from '../../storage/store';
import { count, shortSha } from '../format';
import { Layout } from '../layout';
import { RepoLink, Time } from '../components/cells';
import { Col, RowHead, ScrollTable } from '../components/table';
import { commitUrl } from '../urls';

const seconds = (s: number | null) => (s === null ? '—' : s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`);

export function QueuePage(p: { queue: QueueView; verifications: VerificationRow[] }) {
  const q = p.queue;
  return (
    <Layout title="Queue" crumbs={[{ href: '/queue', text: 'Queue' }]}>
      <h1>Upload queue</h1>
      <p>
        Read at <Time at={new Date(q.at)} /> (the database's clock).
      </p>
      <ScrollTable
        id="queue-total"
        caption="All repositories"
        head={
          <>
            <Col num>Waiting</Col>
            <Col num>Processing</Col>
            <Col num>Oldest wait</Col>
            <Col num>Estimated wait</Col>
          </>
        }
      >
        <tr>
          <td class="num" data-figure="waiting">
            {count(q.total.waiting)}
          </td>
          <td class="num" data-figure="processing">
            {count(q.total.processing)}
          </td>
          <td class="num">{seconds(q.total.oldestWaitingAge)}</td>
          <td class="num">{seconds(q.total.estimatedWait)}</td>
        </tr>
      </ScrollTable>
      <h2>Queue times and throughput</h2>
      <ScrollTable
        id="queue-windows"
        caption="Uploads whose processing started in the window"
        head={
          <>
            <Col>Window</Col>
            <Col num>Started</Col>
            <Col num>Queue time p50</Col>
            <Col num>Queue time p95</Col>
            <Col num>Merged per minute</Col>
          </>
        }
      >
        {q.windows.map((w) => (
          <tr>
            <RowHead>last {w.minutes} minutes</RowHead>
            <td class="num">{count(w.started)}</td>
            <td class="num">{seconds(w.queueTimeP50)}</td>
            <td class="num">{seconds(w.queueTimeP95)}</td>
            <td class="num">{w.mergedPerMinute.toFixed(2)}</td>
          </tr>
        ))}
      </ScrollTable>
      <h2>Backlog per repository</h2>
      {q.repositories.length === 0 ? (
        <p>Nothing waiting or processing.</p>
      ) : (
        <ScrollTable
          id="queue-repos"
          caption="Repositories with uploads waiting or processing"
          head={
            <>
              <Col>Repository</Col>
              <Col num>Waiting</Col>
              <Col num>Processing</Col>
              <Col num>Oldest wait</Col>
            </>
          }
        >
          {q.repositories.map((r) => (
            <tr>
              <RowHead>
                <RepoLink slug={r.repo} />
              </RowHead>
              <td class="num">{count(r.waiting)}</td>
              <td class="num">{count(r.processing)}</td>
              <td class="num">{seconds(r.oldestWaitingAge)}</td>
            </tr>
          ))}
        </ScrollTable>
      )}
      <h2>Recent verifications</h2>
      {p.verifications.length === 0 ? (
        <p>No re-verification has run yet.</p>
      ) : (
        <ScrollTable
          id="verifications"
          caption="Scheduled re-verification outcomes, newest first"
          head={
            <>
              <Col>When</Col>
              <Col>Commit</Col>
              <Col>Outcome</Col>
              <Col num>Differing files</Col>
              <Col num>Differing lines</Col>
              <Col>Reason</Col>
            </>
          }
        >
          {p.verifications.map((v) => (
            <tr>
              <td>
                <Time at={v.createdAt} />
              </td>
              <RowHead>
                <a href={commitUrl(v.repo, v.sha)}>
                  {v.repo} @ <code>{shortSha(v.sha)}</code>
                </a>
              </RowHead>
              <td>{v.outcome}</td>
              <td class="num">{count(v.differingFiles)}</td>
              <td class="num">{count(v.differingLines)}</td>
              <td>{v.reason ?? ''}</td>
            </tr>
          ))}
        </ScrollTable>
      )}
    </Layout>
  );
}
