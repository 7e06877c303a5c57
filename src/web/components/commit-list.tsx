import type { ComponentChildren, VNode } from 'preact';
import type { CommitTotals } from '../../api/commit-view';
import type { ExperimentOutcome, PublicCommitState } from '../../vocabulary';
import { count, shortSha } from '../format';
import { compareUrl } from '../urls';
import { CommitLink, NoValue, PullLink, StateBadge, Time, TOTAL_LABELS, TotalCell, type TotalField } from './cells';
import { Col, RowHead, ScrollTable } from './table';

/** A commit as the lists show it (the repository's commits, a pull request's). */
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

interface Column {
  head: string;
  num?: boolean;
  cell: (c: CommitListRow, repo: string) => VNode;
}

function totalColumn(field: TotalField): Column {
  return { head: TOTAL_LABELS[field], num: true, cell: (c) => <TotalCell totals={c.totals} field={field} /> };
}

// Each column's header and cell are defined together, so a list that shows a column shows it alike.
const COLUMNS = {
  commit: {
    head: 'Commit',
    cell: (c, repo) => (
      <RowHead>
        <CommitLink repo={repo} sha={c.sha} />
      </RowHead>
    ),
  },
  branch: { head: 'Branch', cell: (c) => <td>{c.branch ?? <NoValue />}</td> },
  pullRequest: { head: 'PR', cell: (c, repo) => <td>{c.pullRequest === null ? <NoValue /> : <PullLink repo={repo} number={c.pullRequest} />}</td> },
  firstUpload: {
    head: 'First upload',
    cell: (c) => (
      <td>
        <Time at={c.createdAt} />
      </td>
    ),
  },
  state: {
    head: 'State',
    cell: (c) => (
      <td>
        <StateBadge state={c.state} />
      </td>
    ),
  },
  coverage: totalColumn('coverage'),
  hits: totalColumn('hits'),
  misses: totalColumn('misses'),
  partials: totalColumn('partials'),
  mode: { head: 'Mode', cell: (c) => <td>{c.mode ?? <NoValue />}</td> },
  experiment: { head: 'Experiment', cell: (c) => <td>{c.experimentOutcome ?? <NoValue />}</td> },
  uploads: { head: 'Uploads', num: true, cell: (c) => <td class="num">{count(c.uploads)}</td> },
  compare: {
    head: 'Compare',
    cell: (c, repo) => (
      <td>
        <a href={compareUrl(repo, { head: c.sha })}>
          with its base<span class="sr-only"> ({shortSha(c.sha)})</span>
        </a>
      </td>
    ),
  },
} satisfies Record<string, Column>;

export type CommitColumn = keyof typeof COLUMNS;

/** A table of commits, a row each (`data-sha`), with the columns asked for in their order. */
export function CommitList(props: { id: string; caption: ComponentChildren; repo: string; commits: readonly CommitListRow[]; columns: readonly CommitColumn[] }) {
  const columns: Column[] = props.columns.map((k) => COLUMNS[k]);
  return (
    <ScrollTable
      id={props.id}
      caption={props.caption}
      head={columns.map((c) => (
        <Col num={c.num}>{c.head}</Col>
      ))}
    >
      {props.commits.map((c) => (
        <tr data-sha={c.sha}>{columns.map((col) => col.cell(c, props.repo))}</tr>
      ))}
    </ScrollTable>
  );
}
