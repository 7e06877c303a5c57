import type { CoverageTotals, ReportTotals } from '../../coverage/totals';
import type { PublicCommitState, PublicUploadState } from '../../vocabulary';
import { count, deltaClass, points, shortSha, timeText } from '../format';
import { Coverage } from '../layout';
import { commitUrl, pullUrl, repoUrl } from '../urls';
import { Col } from './table';

/** What stands in a cell or a fact that has no value: a muted dash. */
export function NoValue() {
  return <span class="muted">—</span>;
}

/** A commit by its short sha, linked to its page. */
export function CommitLink(props: { repo: string; sha: string }) {
  return (
    <a href={commitUrl(props.repo, props.sha)}>
      <code>{shortSha(props.sha)}</code>
    </a>
  );
}

export function RepoLink(props: { slug: string }) {
  return <a href={repoUrl(props.slug)}>{props.slug}</a>;
}

export function PullLink(props: { repo: string; number: number; id?: string }) {
  return (
    <a id={props.id} href={pullUrl(props.repo, props.number)}>
      #{props.number}
    </a>
  );
}

/** A time as people read it (UTC), with the exact instant for machines. */
export function Time(props: { at: Date }) {
  return <time datetime={props.at.toISOString()}>{timeText(props.at)}</time>;
}

/**
 * A commit's or an upload's state as a badge. `live` marks an upload's badge, which live.js
 * rewrites as the upload's events arrive (the commit's own is found by its id).
 */
export function StateBadge(props: { state: PublicCommitState | PublicUploadState; id?: string; live?: boolean }) {
  return (
    <span id={props.id} class={`state state-${props.state}`} data-upload-state={props.live === true ? true : undefined}>
      {props.state}
    </span>
  );
}

/** A change in percentage points with its sign, classed up or down. */
export function Delta(props: { value: string | null; 'data-summary'?: string }) {
  return (
    <span class={deltaClass(props.value)} data-summary={props['data-summary']}>
      {points(props.value)}
    </span>
  );
}

/** A figure of a totals record: coverage or one of its counts. */
export type TotalField = keyof ReportTotals;

export const TOTAL_LABELS: Record<TotalField, string> = {
  coverage: 'Coverage',
  lines: 'Lines',
  hits: 'Hits',
  misses: 'Misses',
  partials: 'Partials',
  branches: 'Branches',
  methods: 'Methods',
  files: 'Files',
  sessions: 'Sessions',
};

/** The headers of totals columns, in the order their cells come in. */
export function TotalCols(props: { fields: readonly TotalField[] }) {
  return (
    <>
      {props.fields.map((f) => (
        <Col num>{TOTAL_LABELS[f]}</Col>
      ))}
    </>
  );
}

/**
 * One figure of a totals record in its cell, named by `data-total` (the coverage cell also
 * carries the exact figure as `data-value`); a dash where there are no totals yet.
 */
export function TotalCell<T extends CoverageTotals>(props: { totals: T | null; field: keyof T & TotalField }) {
  const { totals, field } = props;
  if (field === 'coverage') {
    return (
      <td class="num" data-total="coverage" data-value={totals?.coverage}>
        <Coverage value={totals?.coverage} />
      </td>
    );
  }
  const n = totals === null ? undefined : totals[field];
  return (
    <td class="num" data-total={field}>
      {typeof n === 'number' ? count(n) : '—'}
    </td>
  );
}

/** The cells of a totals row, one a field, under `TotalCols` of the same fields. */
export function TotalCells<T extends CoverageTotals>(props: { totals: T | null; fields: readonly (keyof T & TotalField)[] }) {
  return (
    <>
      {props.fields.map((f) => (
        <TotalCell totals={props.totals} field={f} />
      ))}
    </>
  );
}
