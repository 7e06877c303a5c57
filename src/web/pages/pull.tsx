import type { CommitComparison } from '../../coverage/commit-comparison';
import type { ComparisonGap } from '../../services/comparison';
import { count, shortSha } from '../format';
import { Coverage, Layout } from '../layout';
import { Delta } from '../components/cells';
import { CommitList, type CommitListRow } from '../components/commit-list';
import { compareUrl, pullUrl, repoUrl } from '../urls';
import { BaseCommit } from './compare';
import { Section } from '../components/section';

export interface PullPageProps {
  repo: string;
  number: number;
  /** The commits recorded with the pull request, newest first. */
  commits: CommitListRow[];
  /** The newest commit's comparison with its base, or why there is none. */
  latest: { sha: string; result: { ok: true; comparison: CommitComparison } | { ok: false; gap: ComparisonGap } } | null;
}

export function PullPage(p: PullPageProps) {
  return (
    <Layout
      title={`Pull request #${p.number} · ${p.repo}`}
      crumbs={[
        { href: repoUrl(p.repo), text: p.repo },
        { href: pullUrl(p.repo, p.number), text: `#${p.number}` },
      ]}
    >
      <h1>Pull request #{p.number}</h1>
      {p.latest === null ? (
        <p id="pull-empty">No commit has been uploaded with pull request #{p.number}.</p>
      ) : (
        <>
          <Section id="latest" title={<>Latest head <code>{shortSha(p.latest.sha)}</code></>}>
            <LatestSummary repo={p.repo} sha={p.latest.sha} result={p.latest.result} />
          </Section>
          <Section id="pull-commits-heading" title="Commits">
            <CommitList
              id="pull-commits"
              caption={`Commits uploaded with pull request #${p.number}, newest first`}
              repo={p.repo}
              commits={p.commits}
              columns={['commit', 'branch', 'firstUpload', 'state', 'coverage', 'hits', 'misses', 'partials', 'uploads', 'compare']}
            />
          </Section>
        </>
      )}
    </Layout>
  );
}

function LatestSummary(props: { repo: string; sha: string; result: NonNullable<PullPageProps['latest']>['result'] }) {
  const link = (
    <a id="pull-compare-link" href={compareUrl(props.repo, { head: props.sha })}>
      The full comparison
    </a>
  );
  if (!props.result.ok) {
    const gap = props.result.gap;
    const why =
      gap.kind === 'no_base'
        ? 'No base is known for it (no recorded parent, no diff with its base).'
        : gap.kind === 'no_report'
          ? `The ${gap.side} commit ${shortSha(gap.sha)} has no report yet.`
          : `The ${gap.side} commit ${shortSha(gap.sha)} is still processing.`;
    return (
      <p id="pull-summary" data-state={gap.kind}>
        {why} {link}.
      </p>
    );
  }
  const c = props.result.comparison;
  return (
    <>
      <dl class="facts" id="pull-summary">
        <dt>Base</dt>
        <dd>
          <BaseCommit repo={props.repo} comparison={c} />
        </dd>
        <dt>Coverage</dt>
        <dd data-summary="coverage">
          <Coverage value={c.base.totals.coverage} /> → <Coverage value={c.head.totals.coverage} /> (<Delta value={c.coverageDelta} data-summary="delta" /> points)
        </dd>
        <dt>Patch</dt>
        <dd data-summary="patch">
          {c.patch === null ? (
            'unknown (no diff stored)'
          ) : c.patch.coverage === null ? (
            'no coverable line'
          ) : (
            <>
              <Coverage value={c.patch.coverage} /> of {count(c.patch.lines)} coverable lines ({count(c.patch.hits)} hit, {count(c.patch.misses)} missed, {count(c.patch.partials)} partial)
            </>
          )}
        </dd>
        <dt>Changed files</dt>
        <dd>{count(c.files.length)}</dd>
      </dl>
      <p>{link}.</p>
    </>
  );
}
