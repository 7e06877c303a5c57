import type { PatchTotals } from '../../coverage/commit-comparison';
import type { CoverageTotals } from '../../coverage/totals';
import type { LineValue } from '../../coverage/types';
import { ranges, shortSha } from '../format';
import { Layout } from '../layout';
import { blobUrl, commitUrl, repoUrl, withQuery } from '../urls';
import { TotalCells, TotalCols, type TotalField } from '../components/cells';
import { FlagSelect } from '../components/filter';
import { PatchFacts } from '../components/patch-facts';
import { Col, RowHead, ScrollTable } from '../components/table';
import { Section } from '../components/section';

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
  /**
   * The file's part of the commit's stored diff: its patch lines (added or changed, not moved)
   * and their coverage; null when the commit has no diff stored.
   */
  patch: { lines: number[]; totals: PatchTotals } | null;
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

/** A file's totals: its sessions and files are not its own figures. */
const FILE_TOTALS = ['coverage', 'lines', 'hits', 'misses', 'partials', 'branches'] as const satisfies readonly TotalField[];

export function FilePage(p: FilePageProps) {
  const base = blobUrl(p.repo, p.sha, p.path);
  const byLine = new Map(p.lines.map((l) => [l.line, l]));
  const missed = p.lines.filter((l) => l.kind === 'miss').map((l) => l.line);
  const partial = p.lines.filter((l) => l.kind === 'partial').map((l) => l.line);
  const sourceLines = p.source === null ? null : p.source.replace(/\r?\n$/, '').split(/\r?\n/);
  const patchSet = new Set(p.patch?.lines ?? []);
  const marked = patchSet.size > 0;
  // Without the source, a patch line the report does not list (a brace, a blank) still gets its row, so every patch line shows.
  const numbers = sourceLines === null ? [...new Set([...p.lines.map((l) => l.line), ...patchSet])].sort((a, b) => a - b) : sourceLines.map((_, i) => i + 1);
  const rows: { n: number; text: string | null; cov: FileLine | undefined }[] = numbers.map((n) => ({ n, text: sourceLines === null ? null : (sourceLines[n - 1] ?? ''), cov: byLine.get(n) }));
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
        <FlagSelect flags={p.flags} flag={p.flag} />{' '}
        <button type="submit">Show</button>
        {p.flag !== undefined && (
          <>
            {' '}
            <a href={base}>clear</a>
          </>
        )}
      </form>
      <PatchSummary patch={p.patch} />
      {p.totals === null ? (
        <p id="file-empty">{p.flag === undefined ? 'This file has no coverage in this commit.' : `No upload flagged ${p.flag} covers this file.`}</p>
      ) : (
        <>
          <ScrollTable id="file-totals" caption={`Totals of ${p.path}${p.flag === undefined ? '' : ` (flag ${p.flag})`}`} head={<TotalCols fields={FILE_TOTALS} />}>
            <tr>
              <TotalCells totals={p.totals} fields={FILE_TOTALS} />
            </tr>
          </ScrollTable>
          <dl class="facts">
            <dt>Missed lines</dt>
            <dd id="missed-ranges">{missed.length === 0 ? 'none' : ranges(missed)}</dd>
            <dt>Partial lines</dt>
            <dd id="partial-ranges">{partial.length === 0 ? 'none' : ranges(partial)}</dd>
          </dl>
          {sourceLines === null && <p class="muted">The uploads carried no source for this file: only its reported lines{marked ? ' and patch lines' : ''} are shown.</p>}
          <ul class="legend" aria-label="Legend">
            <li>
              <span class="swatch line-hit">hit</span> covered
            </li>
            <li>
              <span class="swatch line-partial">partial</span> some branches taken
            </li>
            <li>
              <span class="swatch line-miss">missed</span> not covered
            </li>
            {marked && (
              <li>
                <span class="swatch patch-swatch" aria-hidden="true">
                  +
                </span>{' '}
                patch: added or changed in this commit (the Patch column says so in words)
              </li>
            )}
          </ul>
          <ScrollTable
            id="file-lines"
            class="lines"
            caption={`${sourceLines === null ? 'Reported lines' : 'Source'} with their coverage`}
            head={
              <>
                {marked && <Col class="patch-col">Patch</Col>}
                <Col num>Line</Col>
                <Col>Coverage</Col>
                {sourceLines !== null && <Col>Code</Col>}
              </>
            }
          >
            {rows.map((r) => (
              <tr
                id={`L${r.n}`}
                class={[r.cov === undefined ? '' : `line-${r.cov.kind}`, patchSet.has(r.n) ? 'patch-line' : ''].filter(Boolean).join(' ') || undefined}
                data-line={r.n}
                data-value={r.cov === undefined ? undefined : String(r.cov.value)}
                data-patch={patchSet.has(r.n) ? '' : undefined}
              >
                {marked && (
                  <td class="patch-mark">
                    {patchSet.has(r.n) && (
                      <>
                        <span aria-hidden="true">+</span>
                        <span class="sr-only">patch line</span>
                      </>
                    )}
                  </td>
                )}
                <RowHead num>
                  <a href={`#L${r.n}`}>{r.n}</a>
                </RowHead>
                <td class="cov-cell">{r.cov === undefined ? (patchSet.has(r.n) ? 'not coverable' : '') : describeValue(r.cov.value, r.cov.kind)}</td>
                {sourceLines !== null && (
                  <td class="code">
                    <code>{r.text}</code>
                  </td>
                )}
              </tr>
            ))}
          </ScrollTable>
        </>
      )}
      <p>
        <a href={withQuery(commitUrl(p.repo, p.sha), {})}>Back to the commit</a>
      </p>
    </Layout>
  );
}

/** The file's patch coverage, or why there is none. */
function PatchSummary(props: { patch: FilePageProps['patch'] }) {
  const { patch } = props;
  if (patch === null) return <p id="file-patch-none" class="muted">No diff is stored for this commit, so its patch is unknown (upload with <code>--diff-base</code>).</p>;
  if (patch.lines.length === 0) return <p id="file-patch-none" class="muted">This commit's diff does not add or change lines of this file.</p>;
  return (
    <Section id="patch-heading" title="Patch coverage">
      <dl class="facts" id="file-patch">
        <dt>Patch lines</dt>
        <dd id="patch-ranges">{ranges(patch.lines)}</dd>
        <PatchFacts patch={patch.totals} />
      </dl>
    </Section>
  );
}
