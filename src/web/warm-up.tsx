import type { CommitView } from '../api/commit-view';
import { readFileTotals, serializeFileTotals } from '../coverage/report-format';
import type { PathTotals } from '../coverage/totals';
import { html } from './layout';
import { CommitPage, defaultOrder } from './pages/commit';
import { folderChildren, sortNodes } from './tree';
import { PRIORITY_KEYS } from '../services/commit-priority';

/**
 * Renders a made-up commit page of a few thousand files once, when the gateway starts, so the
 * first person to open a real one does not pay for compiling the page's code (reading per-file
 * totals, folder sums, sorting, the treemap, rendering): a few hundred milliseconds on a fresh
 * process, against some 30 ms once warm. Nothing is read or written but memory.
 */
export function warmUpPages(): void {
  const files: PathTotals[] = [];
  for (let i = 0; i < 2000; i++) {
    const lines = 20 + (i % 7);
    const hits = lines - (i % 5);
    files.push({ path: `src/pkg${i % 40}/file${i}.ts`, totals: { files: 1, lines, hits, misses: lines - hits, partials: 0, branches: 0, methods: 0, coverage: ((hits / lines) * 100).toFixed(5) } });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const read = readFileTotals(serializeFileTotals(files));
  const sum = (k: 'lines' | 'hits' | 'misses') => files.reduce((n, f) => n + f.totals[k], 0);
  const view: CommitView = {
    repo: 'warm/up',
    sha: '0'.repeat(40),
    state: 'complete',
    // With totals, so the totals table is rendered too (its cells are components of their own).
    totals: { files: files.length, lines: sum('lines'), hits: sum('hits'), misses: sum('misses'), partials: 0, branches: 0, methods: 0, sessions: 1, coverage: ((sum('hits') / sum('lines')) * 100).toFixed(5) },
    mode: null,
    experimentOutcome: null,
    metadata: {},
    priority: { key: PRIORITY_KEYS.unknown, reason: 'unknown' },
    uploads: [],
  };
  for (const path of ['', 'src']) {
    const { folder, nodes } = folderChildren(read, path);
    for (const sort of ['name', 'misses'] as const) {
      const sorted = sortNodes(nodes, sort, defaultOrder(sort));
      html(
        <CommitPage
          view={view}
          uploads={[]}
          workflowId="warm-up"
          workflowUrl={null}
          folder={folder}
          nodes={sorted.slice(0, 100)}
          totalNodes={nodes.length}
          page={1}
          pageSize={100}
          sort={sort}
          order={defaultOrder(sort)}
          eventsUrl={null}
          treemapNodes={nodes}
          compareHref={null}
        />,
      );
    }
  }
}
