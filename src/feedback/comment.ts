/**
 * The pull-request comment, in GitHub-flavoured Markdown: pure, the same text the GitHub adapter
 * sends. It opens with a hidden marker by which the adapter finds its own comment to update.
 */
import type { CommitComparison, FileComparison, PatchTotals } from '../coverage/commit-comparison';
import type { ReportTotals } from '../coverage/totals';
import { percentUnits, showDelta, showPercent } from './percent';
import type { CommitStatus } from './statuses';

export const COMMENT_MARKER = '<!-- tributary:pull-request-comment -->';

/** Files listed at most, the largest changes first. */
export const COMMENT_MAX_FILES = 10;

export interface CommentInput {
  repo: string;
  headSha: string;
  headTotals: ReportTotals;
  comparison: CommitComparison | null;
  statuses: readonly CommitStatus[];
  /** The commit's page. */
  commitUrl: string;
}

export function renderComment(input: CommentInput): string {
  const { comparison, headTotals } = input;
  const out: string[] = [COMMENT_MARKER, `## Coverage of \`${input.headSha.slice(0, 7)}\``, ''];
  if (comparison === null) {
    out.push(`Coverage is **${pct(headTotals.coverage)}** (${headTotals.hits} of ${headTotals.lines} lines). No base report to compare against.`, '');
  } else {
    const b = comparison.base.totals;
    const h = comparison.head.totals;
    out.push(
      `Coverage is **${pct(h.coverage)}** (${showDelta(percentUnits(comparison.coverageDelta))}) compared to \`${comparison.base.sha.slice(0, 7)}\`.`,
      `Patch coverage: ${patchLine(comparison.patch)}.`,
      '',
      `| | \`${comparison.base.sha.slice(0, 7)}\` (base) | \`${comparison.head.sha.slice(0, 7)}\` (head) | ± |`,
      '| --- | ---: | ---: | ---: |',
      `| Coverage | ${pct(b.coverage)} | ${pct(h.coverage)} | ${showDelta(percentUnits(comparison.coverageDelta))} |`,
      countRow('Files', b.files, h.files),
      countRow('Lines', b.lines, h.lines),
      countRow('Hits', b.hits, h.hits),
      countRow('Misses', b.misses, h.misses),
      countRow('Partials', b.partials, h.partials),
      '',
    );
    const files = largestChanges(comparison.files);
    if (files.length > 0) {
      out.push(
        comparison.files.length > files.length ? `### Files with the largest changes (${files.length} of ${comparison.files.length})` : '### Changed files',
        '',
        '| File | Base | Head | ± | Patch |',
        '| --- | ---: | ---: | ---: | ---: |',
        ...files.map(fileRow),
        '',
      );
    }
  }
  if (input.statuses.length > 0) {
    out.push(...input.statuses.map((s) => `- ${s.state === 'success' ? '✅' : '❌'} \`${s.context}\`: ${escapeCell(s.description)}`), '');
  }
  out.push(`[Full report](${input.commitUrl})`);
  return out.join('\n') + '\n';
}

function patchLine(p: PatchTotals | null): string {
  if (p === null) return 'unknown (no diff stored for this commit)';
  if (p.coverage === null) return 'no coverable line changed';
  return `**${pct(p.coverage)}** of ${p.lines} changed lines (${p.hits} hit, ${p.misses} missed, ${p.partials} partial)`;
}

function countRow(label: string, base: number, head: number): string {
  const d = head - base;
  return `| ${label} | ${base} | ${head} | ${d > 0 ? `+${d}` : String(d)} |`;
}

/**
 * The files whose coverage moved most (added and removed files count as their whole coverage),
 * then those with the most patch lines; ties by path, so the comment is the same every time.
 */
export function largestChanges(files: readonly FileComparison[], max = COMMENT_MAX_FILES): FileComparison[] {
  const weight = (f: FileComparison) => {
    if (f.coverageDelta !== null) return Math.abs(percentUnits(f.coverageDelta));
    const side = f.head ?? f.base;
    return side === null ? 0 : percentUnits(side.coverage);
  };
  return [...files]
    .sort((a, b) => weight(b) - weight(a) || (b.patch?.lines ?? 0) - (a.patch?.lines ?? 0) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .slice(0, max);
}

function fileRow(f: FileComparison): string {
  const name = `\`${escapeCode(f.path)}\`${f.change === 'added' ? ' (new)' : f.change === 'removed' ? ' (removed)' : ''}`;
  const base = f.base === null ? '—' : pct(f.base.coverage);
  const head = f.head === null ? '—' : pct(f.head.coverage);
  const delta = f.coverageDelta === null ? '—' : showDelta(percentUnits(f.coverageDelta));
  const patch = f.patch === null || f.patch.coverage === null ? '—' : pct(f.patch.coverage);
  return `| ${name} | ${base} | ${head} | ${delta} | ${patch} |`;
}

function pct(coverage: string): string {
  return showPercent(percentUnits(coverage));
}

/** A table cell's text: a pipe would end the cell. */
function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A path inside backticks in a table cell: pipes escaped, backticks (rare in paths) dropped. */
function escapeCode(path: string): string {
  return escapeCell(path.replace(/`/g, "'"));
}
