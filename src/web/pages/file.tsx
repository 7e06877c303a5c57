import type { CoverageTotals } from '../../coverage/totals';
import type { LineValue } from '../../coverage/types';
import { count, ranges, shortSha } from '../format';
import { Coverage, Layout } from '../layout';
import { blobUrl, commitUrl, repoUrl, withQuery } from '../urls';

export interface FileLine {
  line: number;
  value: LineValue;
  kind: 'hit' | 'miss' | 'partial' | 'skipped';
}

export interface FilePageProps {
  repo: string;
  sha: string;
  path: string;
  flags: string[];
  flag: string | undefined;
  totals: CoverageTotals | null;
  lines: FileLine[];
  source: string | null;
}

/** "3 hits", "1 of 2 branches", "partial", "missed". */
export function describeValue(v: LineValue, kind: FileLine['kind']): string {
  if (kind === 'skipped') return 'skipped';
  if (typeof v === 'string') {
    const [a, b] = v.split('/');
    return kind === 'hit' ? `all ${b} branches` : `${a} of ${b} branches`;
  }
  if (v === true) return 'partial';
  return v === 0 ? 'missed' : `${v} hit${v === 1 ? '' : 's'}`;
}

export function FilePage(p: FilePageProps) {
  const base = blobUrl(p.repo, p.sha, p.path);
  const byLine = new Map(p.lines.map((l) => [l.line, l]));
  const missed = p.lines.filter((l) => l.kind === 'miss').map((l) => l.line);
  const partial = p.lines.filter((l) => l.kind === 'partial').map((l) => l.line);
  const sourceLines = p.source === null ? null : p.source.replace(/\r?\n$/, '').split(/\r?\n/);
  const rows: { n: number; text: string | null; cov: FileLine | undefined }[] =
    sourceLines === null ? p.lines.map((l) => ({ n: l.line, text: null, cov: l })) : sourceLines.map((text, i) => ({ n: i + 1, text, cov: byLine.get(i + 1) }));
  return (
    <Layout
      title={`${p.path} · ${p.repo} @ ${shortSha(p.sha)}`}
      crumbs={[
        { href: repoUrl(p.repo), text: p.repo },
        { href: commitUrl(p.repo, p.sha), text: shortSha(p.sha) },
        { href: base, text: p.path },
      ]}
    >
      <h1 class="filename">{p.path}</h1>
      <form method="get" action={base} class="filter">
        <label for="flag">Flag</label>{' '}
        <select id="flag" name="flag">
          <option value="" selected={p.flag === undefined}>
            all uploads
          </option>
          {p.flags.map((f) => (
            <option value={f} selected={f === p.flag}>
              {f}
            </option>
          ))}
        </select>{' '}
        <button type="submit">Show</button>
        {p.flag !== undefined && (
          <>
            {' '}
            <a href={base}>clear</a>
          </>
        )}
      </form>
      {p.totals === null ? (
        <p id="file-empty">{p.flag === undefined ? 'This file has no coverage in this commit.' : `No upload flagged ${p.flag} covers this file.`}</p>
      ) : (
        <>
          <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
            <table id="file-totals">
              <caption>Totals of {p.path}{p.flag === undefined ? '' : ` (flag ${p.flag})`}</caption>
              <thead>
                <tr>
                  <th scope="col" class="num">Coverage</th>
                  <th scope="col" class="num">Lines</th>
                  <th scope="col" class="num">Hits</th>
                  <th scope="col" class="num">Misses</th>
                  <th scope="col" class="num">Partials</th>
                  <th scope="col" class="num">Branches</th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <td class="num" data-total="coverage"><Coverage value={p.totals.coverage} /></td>
                  <td class="num" data-total="lines">{count(p.totals.lines)}</td>
                  <td class="num" data-total="hits">{count(p.totals.hits)}</td>
                  <td class="num" data-total="misses">{count(p.totals.misses)}</td>
                  <td class="num" data-total="partials">{count(p.totals.partials)}</td>
                  <td class="num" data-total="branches">{count(p.totals.branches)}</td>
                </tr>
              </tbody>
            </table>
          </div>
          <dl class="facts">
            <dt>Missed lines</dt>
            <dd id="missed-ranges">{missed.length === 0 ? 'none' : ranges(missed)}</dd>
            <dt>Partial lines</dt>
            <dd id="partial-ranges">{partial.length === 0 ? 'none' : ranges(partial)}</dd>
          </dl>
          {sourceLines === null && <p class="muted">The uploads carried no source for this file: only its reported lines are shown.</p>}
          <div class="scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways on narrow screens)">
            <table id="file-lines" class="lines">
              <caption>{sourceLines === null ? 'Reported lines' : 'Source'} with their coverage</caption>
              <thead>
                <tr>
                  <th scope="col" class="num">Line</th>
                  <th scope="col">Coverage</th>
                  {sourceLines !== null && <th scope="col">Code</th>}
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr id={`L${r.n}`} class={r.cov === undefined ? undefined : `line-${r.cov.kind}`} data-line={r.n} data-value={r.cov === undefined ? undefined : String(r.cov.value)}>
                    <th scope="row" class="num">
                      <a href={`#L${r.n}`}>{r.n}</a>
                    </th>
                    <td class="cov-cell">{r.cov === undefined ? '' : describeValue(r.cov.value, r.cov.kind)}</td>
                    {sourceLines !== null && (
                      <td class="code">
                        <code>{r.text}</code>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <p>
        <a href={withQuery(commitUrl(p.repo, p.sha), {})}>Back to the commit</a>
      </p>
    </Layout>
  );
}
