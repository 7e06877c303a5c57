import { hierarchy, treemap, treemapSquarify } from 'd3-hierarchy';
import { coverageFill, percent } from './format';
import type { TreeNode } from './tree';

/**
 * The current folder's children as a treemap: area by lines, colour by coverage, laid out by
 * d3-hierarchy on the server and drawn as SVG, each tile a link with a title (its name and
 * figures) for screen readers and pointers alike.
 */
export function Treemap(props: { nodes: TreeNode[]; href: (n: TreeNode) => string; label: string }) {
  const width = 960;
  const height = 320;
  // The largest tiles only: beyond a few hundred, tiles are too small to see or to hit.
  const shown = [...props.nodes].filter((n) => n.lines > 0).sort((a, b) => b.lines - a.lines).slice(0, 300);
  if (shown.length === 0) return null;
  type Datum = { node?: TreeNode; children?: Datum[] };
  const root = hierarchy<Datum>({ children: shown.map((node) => ({ node })) }).sum((d) => d.node?.lines ?? 0);
  const laid = treemap<Datum>().tile(treemapSquarify).size([width, height]).paddingInner(2).round(true)(root);
  return (
    <figure class="treemap">
      <svg viewBox={`0 0 ${width} ${height}`} role="group" aria-label={props.label}>
        {laid.leaves().map((leaf) => {
          const n = leaf.data.node!;
          const w = leaf.x1 - leaf.x0;
          const h = leaf.y1 - leaf.y0;
          const title = `${n.name}${n.kind === 'folder' ? '/' : ''}: ${percent(n.coverage)} of ${n.lines} lines, ${n.misses} missed`;
          return (
            <a href={props.href(n)} aria-label={title}>
              <rect x={leaf.x0} y={leaf.y0} width={w} height={h} fill={coverageFill(n.coverage)}>
                <title>{title}</title>
              </rect>
              {w > 60 && h > 18 && (
                <text x={leaf.x0 + 4} y={leaf.y0 + 14} class="tile-label" aria-hidden="true">
                  {n.name.length * 7 > w - 8 ? `${n.name.slice(0, Math.max(1, Math.floor((w - 8) / 7) - 1))}…` : n.name}
                </text>
              )}
            </a>
          );
        })}
      </svg>
      <figcaption>Treemap of this folder: area by lines, colour by coverage (red low, green high).</figcaption>
    </figure>
  );
}
