import type { BaseSource, CommitComparison, FileComparison, PatchTotals } from '../../coverage/commit-comparison';
import type { ComparisonGap } from '../../services/comparison';
import { count, shortSha } from '../format';
import { Coverage, Layout } from '../layout';
import type { SortOrder } from '../tree';
import { blobUrl, commitUrl, compareUrl, repoUrl, withQuery } from '../urls';
import { CommitLink, Delta, NoValue, StateBadge, TotalCells, TotalCols, type TotalField } from '../components/cells';
import { FlagSelect } from '../components/filter';
import { PatchFacts } from '../components/patch-facts';
import { Col, RowHead, ScrollTable, SortCol, sortedBy } from '../components/table';
import { Section } from '../components/section';

export const COMPARE_SORTS = ['path', 'change', 'base', 'head', 'delta', 'patch'] as const;
export type CompareSort = (typeof COMPARE_SORTS)[number];

export interface ComparePageProps {
  repo: string;
  head: string;
  /** The base asked for (`?base=`), when one was. */
  base: string | undefined;
  flag: string | undefined;
  /** The flags of both commits' uploads, for the filter. */
  flags: string[];
  sort: CompareSort;
  order: SortOrder;
  result: { ok: true; comparison: CommitComparison } | { ok: false; gap: ComparisonGap };
  /** The events of the commit that is still processing, for the live refresh. */
  eventsUrl: string | null;
}

const SORT_LABELS: Record<CompareSort, string> = { path: 'File', change: 'Change', base: 'Base', head: 'Head', delta: 'Delta', patch: 'Patch' };

export const BASE_SOURCE_TEXT: Record<BaseSource, string> = {
  given: 'the base asked for',
  pullRequest: "the pull request's base, which head's diff was taken against",
  parent: "head's recorded parent",
};

/** Names ascend by default; figures ascend too, so the largest drops and the worst patches come first. */
export function defaultCompareOrder(_sort: CompareSort): SortOrder {
  return 'asc';
}

const fileKey = (f: FileComparison, sort: CompareSort): string | number | null => {
  switch (sort) {
    case 'path':
      return f.path;
    case 'change':
      return f.change;
    case 'base':
      return f.base === null ? null : Number(f.base.coverage);
    case 'head':
      return f.head === null ? null : Number(f.head.coverage);
    case 'delta':
      return f.coverageDelta === null ? null : Number(f.coverageDelta);
    case 'patch':
      return f.patch?.coverage == null ? null : Number(f.patch.coverage);
  }
};

/** The changed files in the order asked for; files without the figure last, ties by path. */
export function sortFiles(files: readonly FileComparison[], sort: CompareSort, order: SortOrder): FileComparison[] {
  const dir = order === 'asc' ? 1 : -1;
  return [...files].sort((a, b) => {
    const x = fileKey(a, sort);
    const y = fileKey(b, sort);
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
    } else if (x !== y) {
      return (x < y ? -1 : 1) * dir;
    }
    return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  });
}

/** The totals both commits are shown with, and the change in each. */
const COMPARE_TOTALS = ['coverage', 'lines', 'hits', 'misses', 'partials', 'files'] as const satisfies readonly TotalField[];

/** The base commit, linked, and how it was chosen. */
export function BaseCommit(props: { repo: string; comparison: CommitComparison }) {
  const { baseSource } = props.comparison;
  return (
    <>
      <CommitLink repo={props.repo} sha={props.comparison.base.sha} />
      {baseSource !== undefined && <> ({BASE_SOURCE_TEXT[baseSource]})</>}
    </>
  );
}

function PatchText(props: { patch: PatchTotals | null }) {
  const { patch } = props;
  if (patch === null) return <NoValue />;
  if (patch.coverage === null) return <span class="muted">no coverable line</span>;
  return (
    <>
      <Coverage value={patch.coverage} /> <span class="muted">of {count(patch.lines)}</span>
    </>
  );
}

export function ComparePage(p: ComparePageProps) {
  const self = (q: { sort?: CompareSort; order?: SortOrder }) =>
    withQuery(`${repoUrl(p.repo)}/compare`, {
      base: p.base,
      head: p.head,
      flag: p.flag,
      sort: (q.sort ?? p.sort) === 'path' ? undefined : (q.sort ?? p.sort),
      order: (q.order ?? p.order) === defaultCompareOrder(q.sort ?? p.sort) ? undefined : (q.order ?? p.order),
    });
  return (
    <Layout
      title={`Compare ${shortSha(p.head)} · ${p.repo}`}
      crumbs={[
        { href: repoUrl(p.repo), text: p.repo },
        { href: commitUrl(p.repo, p.head), text: shortSha(p.head) },
        { href: compareUrl(p.repo, { head: p.head, base: p.base }), text: 'compare' },
      ]}
      scripts={p.eventsUrl === null ? [] : ['live.js']}
    >
      <h1>
        Compare <code>{shortSha(p.head)}</code>
        {p.result.ok && (
          <>
            {' '}
            with <code>{shortSha(p.result.comparison.base.sha)}</code>
          </>
        )}
      </h1>
      <form method="get" action={`${repoUrl(p.repo)}/compare`} class="filter">
        <input type="hidden" name="head" value={p.head} />
        <label for="base">Base</label> <input id="base" name="base" value={p.base ?? ''} size={12} placeholder="default" pattern="[0-9a-fA-F]{7,64}" />{' '}
        <FlagSelect flags={p.flags} flag={p.flag} />{' '}
        <button type="submit">Compare</button>
      </form>
      {p.result.ok ? <Comparison {...p} comparison={p.result.comparison} self={self} /> : <Gap {...p} gap={p.result.gap} />}
    </Layout>
  );
}

function Gap(p: ComparePageProps & { gap: ComparisonGap }) {
  const { gap } = p;
  switch (gap.kind) {
    case 'no_base':
      return (
        <p id="compare-state" class="notice" data-state="no-base">
          No base is known for <code>{shortSha(p.head)}</code>: it has no recorded parent (<code>tributary upload --parent</code>) and no diff with its base (<code>--diff-base</code>). Enter a base above to compare.
        </p>
      );
    case 'no_report':
      return (
        <p id="compare-state" class="notice" data-state="no-report">
          The {gap.side} commit <CommitLink repo={p.repo} sha={gap.sha} /> has no report{gap.side === 'base' ? '; choose another base above' : ' yet'}.
        </p>
      );
    case 'not_complete':
      return (
        <p id="commit-status" class="notice" role="status" data-state="not-complete" data-events={p.eventsUrl ?? undefined}>
          The {gap.side} commit <CommitLink repo={p.repo} sha={gap.sha} /> is <StateBadge id="commit-state" state="processing" />: its report is about to
          change, so the comparison waits for it. This page reloads itself when it is complete; without JavaScript, reload it.
        </p>
      );
  }
}

function Comparison(p: ComparePageProps & { comparison: CommitComparison; self: (q: { sort?: CompareSort; order?: SortOrder }) => string }) {
  const c = p.comparison;
  const rows = sortFiles(c.files, p.sort, p.order);
  const sides = [
    { label: 'Base', sha: c.base.sha, t: c.base.totals },
    { label: 'Head', sha: c.head.sha, t: c.head.totals },
  ];
  return (
    <>
      <dl class="facts">
        <dt>Base</dt>
        <dd id="compare-base" data-sha={c.base.sha} data-source={c.baseSource}>
          <BaseCommit repo={p.repo} comparison={c} />
        </dd>
        <dt>Head</dt>
        <dd>
          <CommitLink repo={p.repo} sha={c.head.sha} />
        </dd>
        {c.flag !== undefined && (
          <>
            <dt>Flag</dt>
            <dd>only the uploads flagged {c.flag}</dd>
          </>
        )}
      </dl>
      <Section id="compare-totals-heading" title="Totals">
        <ScrollTable
          id="compare-totals"
          caption="Coverage of both commits and the change"
          head={
            <>
              <Col>Commit</Col>
              <TotalCols fields={COMPARE_TOTALS} />
            </>
          }
        >
          {sides.map((s) => (
            <tr data-side={s.label.toLowerCase()}>
              <RowHead>
                {s.label} <code>{shortSha(s.sha)}</code>
              </RowHead>
              <TotalCells totals={s.t} fields={COMPARE_TOTALS} />
            </tr>
          ))}
          <tr data-side="delta">
            <RowHead>Change (points)</RowHead>
            {COMPARE_TOTALS.map((f) =>
              f === 'coverage' ? (
                <td class="num" id="compare-delta" data-value={c.coverageDelta}>
                  <Delta value={c.coverageDelta} />
                </td>
              ) : (
                <td class="num">{signed(c.head.totals[f] - c.base.totals[f])}</td>
              ),
            )}
          </tr>
        </ScrollTable>
      </Section>
      <Section id="patch-heading" title="Patch coverage">
        {c.patch === null ? (
          <p id="compare-patch-none" class="notice" data-state="no-diff">
            No diff is stored for <code>{shortSha(c.head.sha)}</code>, so its patch is unknown: upload with <code>tributary upload --diff-base REF</code> or <code>PUT …/commits/{'{sha}'}/diff</code>.
          </p>
        ) : (
          <dl class="facts" id="compare-patch">
            <PatchFacts patch={c.patch} />
          </dl>
        )}
      </Section>
      <Section id="changed-files" title="Changed files">
        {rows.length === 0 ? (
          <p>No file's coverage or presence differs, and the diff touches none.</p>
        ) : (
          <ScrollTable
            id="compare-files"
            caption={`${count(rows.length)} ${rows.length === 1 ? 'file' : 'files'} added, removed or changed; ${sortedBy(SORT_LABELS[p.sort], p.order)}`}
            head={COMPARE_SORTS.map((s) => (
              <SortCol
                sort={s}
                label={SORT_LABELS[s]}
                num={s !== 'path' && s !== 'change'}
                current={p.sort}
                order={p.order}
                defaultOrder={defaultCompareOrder(s)}
                href={(order) => `${p.self({ sort: s, order })}#changed-files`}
              />
            ))}
          >
            {rows.map((f) => (
              <tr data-path={f.path} data-change={f.change}>
                <RowHead>
                  <a href={f.head === null ? blobUrl(p.repo, c.base.sha, f.basePath ?? f.path) : withQuery(blobUrl(p.repo, c.head.sha, f.path), { flag: c.flag })}>{f.path}</a>
                  {f.basePath !== undefined && <span class="muted"> (was {f.basePath})</span>}
                </RowHead>
                <td>{f.change}</td>
                <td class="num" data-value={f.base?.coverage ?? ''}>
                  {f.base === null ? <NoValue /> : <Coverage value={f.base.coverage} />}
                </td>
                <td class="num" data-value={f.head?.coverage ?? ''}>
                  {f.head === null ? <NoValue /> : <Coverage value={f.head.coverage} />}
                </td>
                <td class="num" data-value={f.coverageDelta ?? ''}>
                  <Delta value={f.coverageDelta} />
                </td>
                <td class="num" data-value={f.patch?.coverage ?? ''} data-patch-lines={f.patch?.lines} data-patch-hits={f.patch?.hits}>
                  <PatchText patch={f.patch} />
                </td>
              </tr>
            ))}
          </ScrollTable>
        )}
      </Section>
    </>
  );
}

const signed = (n: number) => (n > 0 ? `+${count(n)}` : n < 0 ? `-${count(-n)}` : '0');
