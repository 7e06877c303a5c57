/**
 * CPU time of rendering the server-side pages to HTML, the templates alone (no request, no
 * database): the commit page with 100 tree rows and 3 uploads, the repository page with 50
 * commits, the pull-request page with 20 commits and its comparison, the compare page with 100
 * changed files. Each page is rendered `--renders` times per round after a warm-up; the figure is
 * the best round's process CPU time (user + system) per render, so other load on the machine
 * inflates it less than wall time would.
 *
 * Run: npx tsx bench/page-render.bench.ts [--renders 2000] [--rounds 3] [--root DIR]
 *   --root renders the pages of another source tree (with node_modules beside src), for a
 *   before/after comparison; the default is this checkout.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { CommitTotals } from '../src/api/commit-view';
import type { CommitComparison, FileComparison } from '../src/coverage/commit-comparison';
import type { CoverageTotals } from '../src/coverage/totals';
import type { UploadRow } from '../src/storage/store';
import type { CommitListRow } from '../src/web/components/commit-list';
import type { CommitPageProps } from '../src/web/pages/commit';
import type { ComparePageProps } from '../src/web/pages/compare';
import type { PullPageProps } from '../src/web/pages/pull';
import type { RepositoryPageProps } from '../src/web/pages/repository';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const RENDERS = Number(arg('renders', '2000'));
const ROUNDS = Number(arg('rounds', '3'));
const HERE = path.resolve(__dirname, '..');
const ROOT = path.resolve(arg('root', HERE));
if (!Number.isInteger(RENDERS) || RENDERS < 1) throw new Error('--renders must be a positive whole number');
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds must be a positive whole number');

const sha = (i: number) => i.toString(16).padStart(40, '0');
const at = new Date('2026-11-30T12:34:56Z');
const totals: CommitTotals = { files: 3, lines: 1234, hits: 1000, misses: 200, partials: 34, branches: 12, methods: 5, sessions: 2, coverage: '81.03728' };
const fileTotals: CoverageTotals = { files: 1, lines: 10, hits: 8, misses: 2, partials: 0, branches: 0, methods: 0, coverage: '80.00000' };

function commitProps(): CommitPageProps {
  const nodes = Array.from({ length: 100 }, (_, i) => ({
    name: `file${i}.ts`,
    path: `src/file${i}.ts`,
    kind: i % 10 === 0 ? ('folder' as const) : ('file' as const),
    files: 1,
    lines: 100,
    hits: 80,
    misses: 15,
    partials: 5,
    coverage: (i % 100).toFixed(5),
  }));
  // Only the fields the page reads; the rest of an upload row is storage's.
  const uploads = Array.from({ length: 3 }, (_, i) => ({ uploadId: `u${i}`, session: i, flags: ['unit'], name: 'jest', build: 'b', job: 'j', ciUrl: 'https://ci.example/1', createdAt: at })) as unknown as UploadRow[];
  return {
    view: {
      repo: 'acme/app',
      sha: sha(1),
      state: 'complete',
      totals,
      mode: 'serial',
      experimentOutcome: 'match',
      metadata: { branch: 'main' },
      priority: { key: 2, reason: 'default_branch' },
      uploads: uploads.map(() => ({ state: 'merged', error: null, warnings: 0 })) as unknown as CommitPageProps['view']['uploads'],
    },
    uploads,
    workflowId: 'commit-acme-app',
    workflowUrl: null,
    folder: '',
    nodes,
    totalNodes: 250,
    page: 1,
    pageSize: 100,
    sort: 'name',
    order: 'asc',
    eventsUrl: null,
    treemapNodes: nodes,
    compareHref: null,
  };
}

const listRows = (n: number): CommitListRow[] =>
  Array.from({ length: n }, (_, i) => ({ sha: sha(i), branch: 'main', pullRequest: i % 3 === 0 ? 7 : null, createdAt: at, state: 'complete', totals, mode: 'serial', experimentOutcome: null, uploads: 3 }));

function comparison(): CommitComparison {
  const files: FileComparison[] = Array.from({ length: 100 }, (_, i) => ({
    path: `src/f${i}.ts`,
    change: 'changed',
    base: fileTotals,
    head: fileTotals,
    coverageDelta: '0.00000',
    patch: { lines: 4, hits: 3, misses: 1, partials: 0, coverage: '75.00000' },
  }));
  return { base: { sha: sha(2), totals }, head: { sha: sha(1), totals }, coverageDelta: '0.00000', patch: { lines: 4, hits: 3, misses: 1, partials: 0, coverage: '75.00000' }, files, baseSource: 'parent' };
}

const repositoryProps = (): RepositoryPageProps => ({ slug: 'acme/app', branches: ['main'], branch: undefined, chartBranch: 'main', chart: [], commits: listRows(50), older: undefined });
const pullProps = (): PullPageProps => ({ repo: 'acme/app', number: 7, commits: listRows(20), latest: { sha: sha(1), result: { ok: true, comparison: comparison() } } });
const compareProps = (): ComparePageProps => ({ repo: 'acme/app', head: sha(1), base: undefined, flag: undefined, flags: [], sort: 'path', order: 'asc', eventsUrl: null, result: { ok: true, comparison: comparison() } });

// The pages of another tree are its own modules: typed here by this tree's props, which is what
// a before/after comparison of the same pages wants.
type Page<P> = (props: P) => unknown;

async function load<P>(file: string, name: string): Promise<Page<P>> {
  const mod = (await import(path.join(ROOT, 'src/web/pages', file))) as Record<string, Page<P>>;
  return mod[name]!;
}

async function main() {
  if (ROOT !== HERE && process.env.PAGE_RENDER_IN_ROOT === undefined) {
    // tsx compiles a tree's JSX by that tree's tsconfig, found from the working folder.
    const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, PAGE_RENDER_IN_ROOT: '1' } });
    process.exitCode = child.status ?? 1;
    return;
  }
  const req = createRequire(path.join(ROOT, 'package.json'));
  const { h } = req('preact') as { h: (page: unknown, props: unknown) => unknown };
  const { html } = (await import(path.join(ROOT, 'src/web/layout.tsx'))) as { html: (node: unknown) => string };
  const renderer =
    <P>(page: Page<P>, props: P) =>
    () =>
      html(h(page, props));
  const cases: { name: string; render: () => string }[] = [
    { name: 'commit page, 100 tree rows, 3 uploads', render: renderer(await load<CommitPageProps>('commit.tsx', 'CommitPage'), commitProps()) },
    { name: 'repository page, 50 commits', render: renderer(await load<RepositoryPageProps>('repository.tsx', 'RepositoryPage'), repositoryProps()) },
    { name: 'pull-request page, 20 commits', render: renderer(await load<PullPageProps>('pull.tsx', 'PullPage'), pullProps()) },
    { name: 'compare page, 100 files', render: renderer(await load<ComparePageProps>('compare.tsx', 'ComparePage'), compareProps()) },
  ];
  for (const c of cases) for (let i = 0; i < 300; i++) c.render();
  console.log(`pages of ${ROOT === HERE ? 'this checkout' : 'another tree'}, ${RENDERS} renders a round, best of ${ROUNDS} rounds; load average ${os.loadavg()[0]!.toFixed(2)}`);
  console.log('| page | CPU per render (µs) | HTML (KiB) |');
  console.log('| --- | ---: | ---: |');
  for (const c of cases) {
    let best = Infinity;
    let bytes = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = process.cpuUsage();
      for (let i = 0; i < RENDERS; i++) bytes = c.render().length;
      const u = process.cpuUsage(t0);
      best = Math.min(best, (u.user + u.system) / RENDERS);
    }
    console.log(`| ${c.name} | ${best.toFixed(0)} | ${(bytes / 1024).toFixed(1)} |`);
  }
}

void main();
