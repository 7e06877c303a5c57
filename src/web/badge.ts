import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { bearerToken, callerOfToken, canRead, type Caller } from '../api/auth';
import { notFound } from '../api/errors';
import { filterSessions } from '../coverage/merge';
import { readReport } from '../coverage/report-format';
import { reportTotals } from '../coverage/totals';
import type { BlobStore } from '../storage/blob-store';
import type { Store } from '../storage/store';
import { RepoSlugSchema } from '../vocabulary';
import { sessionOf } from './access';
import { coverageBadge, renderBadgeSvg, strongEtag } from './badge-svg';

export interface BadgeDeps {
  store: Store;
  blobs: BlobStore;
  /** The deployment's default branch (TRIBUTARY_DEFAULT_BRANCH), for repositories that name none. */
  defaultBranch: string;
  adminTokenHash: string;
}

/** What a badge shows: the commit it is of, and its coverage in percent (null: no line covered or not). */
export interface BadgeTotals {
  sha: string;
  coverage: number | null;
}

/**
 * The coverage of the branch's latest complete commit, or of the sessions of that commit that
 * carry `flag` (the report restricted with filterSessions). Null when the branch has no complete
 * commit. The one place badges get their number, so stored per-flag totals can replace the
 * filtering without touching the routes.
 */
export async function badgeTotals(deps: Pick<BadgeDeps, 'store' | 'blobs'>, repo: string, branch: string, flag?: string): Promise<BadgeTotals | null> {
  const saved = await deps.store.latestCompleteReport(repo, branch);
  if (saved === null) return null;
  let totals: { lines: number; coverage: string };
  if (flag === undefined) {
    totals = z.object({ lines: z.number(), coverage: z.string() }).parse(saved.totals);
  } else {
    const bytes = await deps.blobs.get(saved.reportKey);
    if (bytes === null) throw new Error(`commit report blob ${saved.reportKey} is missing`);
    totals = reportTotals(filterSessions(readReport(bytes), (s) => s.flags?.includes(flag) === true));
  }
  return { sha: saved.sha, coverage: totals.lines === 0 ? null : Number(totals.coverage) };
}

const BadgeQuery = z.object({
  branch: z.string().min(1).max(1000).optional(),
  flag: z.string().min(1).max(200).optional(),
});

/** `/badge/{owner}/{repo}.svg` and `.json`: a nested owner as its path (`group/sub/app.svg`) or with %2F. */
function parseBadgePath(rest: string): { slug: string; ext: 'svg' | 'json' } | null {
  const m = /^(.+)\.(svg|json)$/.exec(rest);
  if (!m) return null;
  const slug = RepoSlugSchema.safeParse(m[1]);
  return slug.success ? { slug: slug.data, ext: m[2] as 'svg' | 'json' } : null;
}

/** The badge routes: readable by anyone for a public repository, else with a session or a token of it; anything else is one 404. */
export async function registerBadges(app: FastifyInstance, deps: BadgeDeps): Promise<void> {
  const nothing = () => notFound('repository');

  async function callerOf(request: FastifyRequest): Promise<Caller | null> {
    const session = sessionOf(request);
    if (session !== null) return session;
    const token = bearerToken(request);
    return token === undefined ? null : callerOfToken(deps.store, deps.adminTokenHash, token);
  }

  app.get(
    '/badge/*',
    {
      // Badges are embedded by other sites (README pages, dashboards): their images load cross-origin.
      helmet: { crossOriginResourcePolicy: { policy: 'cross-origin' } },
      schema: { hide: true },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const parsed = parseBadgePath((request.params as { '*': string })['*']);
      const query = BadgeQuery.safeParse(request.query);
      if (parsed === null || !query.success) throw nothing();
      const repo = await deps.store.getRepository(parsed.slug);
      const isPublic = repo?.settings.public === true;
      if (!isPublic && (repo === null || !canRead(await callerOf(request), parsed.slug))) throw nothing();
      const branch = query.data.branch ?? repo!.settings.defaultBranch ?? deps.defaultBranch;
      const totals = await badgeTotals(deps, parsed.slug, branch, query.data.flag);
      const content = coverageBadge(totals?.coverage ?? null, query.data.flag === undefined ? 'coverage' : `${query.data.flag} coverage`);
      const [type, body] =
        parsed.ext === 'svg'
          ? ['image/svg+xml; charset=utf-8', renderBadgeSvg(content)]
          : ['application/json; charset=utf-8', JSON.stringify({ schemaVersion: 1, label: content.label, message: content.message, color: content.color })];
      const etag = strongEtag(body);
      void reply
        .header('etag', etag)
        // Public: any cache may keep it five minutes (shields and GitHub's camo honour it). Private:
        // only the asking browser, and only after asking again, since access may have changed.
        .header('cache-control', isPublic ? 'public, max-age=300' : 'private, no-cache')
        .header('vary', 'Cookie, Authorization');
      if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return reply.type(type).send(body);
    },
  );
}

/** If-None-Match compares weakly (RFC 9110 13.1.2): `W/` is ignored, `*` matches anything. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
