import type { PatchTotals } from '../../coverage/commit-comparison';
import { count } from '../format';
import { Coverage } from '../layout';

/**
 * A patch's coverage and its coverable lines, as the facts of a `dl` (a commit's patch on the
 * compare page, a file's on the file page); `data-patch-total` names each figure.
 */
export function PatchFacts(props: { patch: PatchTotals }) {
  const t = props.patch;
  return (
    <>
      <dt>Coverage</dt>
      <dd data-patch-total="coverage" data-value={t.coverage ?? ''}>
        {t.coverage === null ? 'no coverable line in the patch' : <Coverage value={t.coverage} />}
      </dd>
      <dt>Coverable lines</dt>
      <dd>
        <span data-patch-total="lines">{count(t.lines)}</span>: <span data-patch-total="hits">{count(t.hits)}</span> hit,{' '}
        <span data-patch-total="misses">{count(t.misses)}</span> missed, <span data-patch-total="partials">{count(t.partials)}</span> partial
      </dd>
    </>
  );
}
