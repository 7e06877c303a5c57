import { splitRepoSlug } from '../vocabulary';

/**
 * The pages' URLs: `/{owner}/{repo}`, `…/commit/{sha}`, `…/commit/{sha}/blob/{path}`. A nested
 * owner (`group/sub`) is one segment with its slashes as %2F, as in the API's paths, so the
 * owner and name are never ambiguous; a file's path keeps its slashes.
 */
export function repoUrl(slug: string): string {
  const { owner, name } = splitRepoSlug(slug);
  return `/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}

export function commitUrl(slug: string, sha: string): string {
  return `${repoUrl(slug)}/commit/${encodeURIComponent(sha)}`;
}

export function blobUrl(slug: string, sha: string, path: string): string {
  return `${commitUrl(slug, sha)}/blob/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** A URL with its query, leaving out parameters without a value. */
export function withQuery(base: string, query: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? base : `${base}?${s}`;
}

/** The commit workflow in the Temporal Web UI, when its base URL is configured. */
export function workflowUiUrl(uiBase: string | undefined, namespace: string, workflowId: string): string | null {
  if (uiBase === undefined) return null;
  return `${uiBase}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export function compareUrl(slug: string, query: { head: string; base?: string; flag?: string }): string {
  return withQuery(`${repoUrl(slug)}/compare`, { base: query.base, head: query.head, flag: query.flag });
}

export function pullUrl(slug: string, pullRequest: number): string {
  return `${repoUrl(slug)}/pull/${pullRequest}`;
}

/**
 * Whether a URL from an upload may become a link: http(s) only, so a stored `javascript:` or
 * `data:` URL is shown as text, never followed.
 */
export function linkable(url: string | null | undefined): url is string {
  return url !== null && url !== undefined && /^https?:\/\//.test(url);
}
