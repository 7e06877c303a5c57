import type { PathResolver } from './types';

export interface PathResolverOptions {
  /** User path fixes, `before::after`, applied after resolution (see PathFixes). */
  fixes?: string[];
  /** Globs of paths to leave out (`*`, `**`, `?`); a glob matching a directory drops all under it. */
  ignore?: string[];
  /** The repository's file list, when the upload carries one; paths are then resolved against it. */
  repoFiles?: string[];
}

/**
 * Checkout directories of CI providers and build containers, matched at the start of an absolute
 * path (after backslashes became `/` and a Windows drive letter was taken off). Stripping them turns
 * the path the CI machine saw into a repository-relative one.
 */
const CI_PREFIXES: readonly RegExp[] = [
  /^\/home\/runner\/work\/[^/]+\/[^/]+\//, // GitHub Actions (Linux)
  /^\/Users\/runner\/work\/[^/]+\/[^/]+\//, // GitHub Actions (macOS)
  /^\/a\/[^/]+\/[^/]+\//, // GitHub Actions (Windows D:\a\<repo>\<repo>\), Azure (D:\a\1\s\)
  /^\/github\/workspace\//, // GitHub container actions
  /^\/home\/travis\/build\/[^/]+\/[^/]+\//, // Travis CI (Linux)
  /^\/Users\/travis\/build\/[^/]+\/[^/]+\//, // Travis CI (macOS)
  /^\/builds\/[^/]+\/[^/]+\//, // GitLab CI: /builds/<group>/<project>/
  /^\/home\/circleci\/project\//, // CircleCI
  /^\/root\/project\//, // CircleCI docker executors running as root
  /^\/var\/lib\/jenkins\/workspace\/[^/]+\//, // Jenkins
  /^\/var\/jenkins_home\/workspace\/[^/]+\//, // Jenkins in docker
  /^\/home\/vsts\/work\/\d+\/s\//, // Azure Pipelines (Linux)
  /^\/opt\/atlassian\/pipelines\/agent\/build\//, // Bitbucket Pipelines
  /^\/drone\/src\//, // Drone
  /^\/bitrise\/src\//, // Bitrise
  /^\/projects\/[^/]+\//, // AppVeyor (C:\projects\<repo>\)
  /^\/(?:go|root\/go|home\/[^/]+\/go)\/src\/[^/]+\/[^/]+\/[^/]+\//, // GOPATH: /go/src/github.com/<o>/<r>/
];

const DRIVE = /^[A-Za-z]:(?=\/|$)/;

/**
 * Normalises a path as found in a report, without any knowledge of the repository: backslashes
 * to `/`, `file://` URLs, Windows drives, known CI checkout prefixes, `./` and `.` segments,
 * repeated and leading slashes. Deterministic and idempotent.
 */
export function normalizePath(raw: string): string {
  return normalizeDetailed(raw).path;
}

function normalizeDetailed(raw: string): { path: string; ciPrefix: boolean } {
  // The tests before each replace spare the regular expressions on the paths that need none
  // (nearly all): a report can name a million files.
  let p = (raw.includes('\\') ? raw.replace(/\\/g, '/') : raw).trim();
  if (p.startsWith('file://')) p = p.slice('file://'.length);
  const hadDrive = DRIVE.test(p);
  if (hadDrive) p = p.slice(2);
  if (p.includes('//')) p = p.replace(/\/{2,}/g, '/');
  if (p.startsWith('/')) {
    for (const re of CI_PREFIXES) {
      const m = re.exec(p);
      if (m) return { path: cleanSegments(p.slice(m[0].length)), ciPrefix: true };
    }
  }
  return { path: cleanSegments(p), ciPrefix: false };
}

function cleanSegments(p: string): string {
  if (isClean(p)) return p;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    out.push(seg);
  }
  return out.join('/');
}

/** Whether `p` has no empty and no `.` segment, so cleanSegments would give it back unchanged. */
function isClean(p: string): boolean {
  const last = p.length - 1;
  if (last < 0 || p.charCodeAt(0) === 0x2f || p.charCodeAt(last) === 0x2f) return false;
  if (p === '.' || p.startsWith('./') || p.endsWith('/.')) return false;
  return !p.includes('//') && !p.includes('/./');
}

function isAbsolute(p: string): boolean {
  const s = p.replace(/\\/g, '/');
  return s.startsWith('/') || DRIVE.test(s) || s.startsWith('file://');
}

/** Resolves normalised paths to repository files by the longest matching suffix of path segments. */
class RepoIndex {
  private readonly exact = new Set<string>();
  private readonly byBase = new Map<string, string[]>();

  constructor(files: string[]) {
    for (const f of files) {
      const n = cleanSegments(f.replace(/\\/g, '/'));
      if (n === '' || this.exact.has(n)) continue;
      this.exact.add(n);
      const base = n.slice(n.lastIndexOf('/') + 1);
      const list = this.byBase.get(base);
      if (list) list.push(n);
      else this.byBase.set(base, [n]);
    }
  }

  resolve(p: string): string | null {
    return this.match(p)?.path ?? null;
  }

  /** The best repository file for `p` and how many trailing segments it shares with it. */
  match(p: string): { path: string; segments: number } | null {
    if (p === '') return null;
    const segs = p.split('/');
    if (this.exact.has(p)) return { path: p, segments: segs.length };
    const candidates = this.byBase.get(segs[segs.length - 1]);
    if (!candidates) return null;
    let best: string | null = null;
    let bestLen = 0;
    for (const c of candidates) {
      const cs = c.split('/');
      let k = 0;
      while (k < cs.length && k < segs.length && cs[cs.length - 1 - k] === segs[segs.length - 1 - k]) k++;
      // Ties go to the shorter, then the alphabetically first path, so the answer never depends on
      // the order of the file list.
      if (k > bestLen || (k === bestLen && best !== null && (c.length < best.length || (c.length === best.length && c < best)))) {
        best = c;
        bestLen = k;
      }
    }
    return best === null ? null : { path: best, segments: bestLen };
  }
}

/**
 * User path fixes, as Codecov applies them: every `::after` rule adds its prefix (in the order
 * given, joined with `/`) first; then the first `before::after` rule whose `before` matches the
 * start of the path replaces that match by `after` (`before::` removes it). `before` is matched as
 * a plain prefix, not at a segment boundary (`src::lib` turns `srcx/a` into `libx/a`, as in
 * Codecov); `*` stands for one or more characters other than `/`, `**` for any characters.
 */
interface PathFixes {
  prefix: string;
  rules: { before: RegExp; after: string }[];
}

function compileFixes(rules: string[]): PathFixes {
  const prefixes: string[] = [];
  const replace: { before: RegExp; after: string }[] = [];
  for (const rule of rules) {
    const at = rule.indexOf('::');
    if (at === -1) throw new Error(`invalid path fix ${JSON.stringify(rule)}: expected "before::after"`);
    const before = rule.slice(0, at).replace(/\\/g, '/').replace(/^\/+/, '');
    const after = rule.slice(at + 2).replace(/\\/g, '/');
    if (before === '') {
      const prefix = after.replace(/\/+$/, '');
      if (prefix !== '') prefixes.push(prefix);
    } else {
      replace.push({ before: new RegExp(`^(?:${fixGlobSource(before)})`), after });
    }
  }
  return { prefix: prefixes.join('/'), rules: replace };
}

function fixGlobSource(before: string): string {
  return before
    .split('**')
    .map((part) => part.split('*').map(escapeRegExp).join('[^/]+'))
    .join('.*');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function applyFixes(path: string, fixes: PathFixes): string {
  let p = fixes.prefix === '' ? path : `${fixes.prefix}/${path}`;
  for (const rule of fixes.rules) {
    const m = rule.before.exec(p);
    if (m) {
      p = `${rule.after}${p.slice(m[0].length)}`;
      break;
    }
  }
  return cleanSegments(p);
}

/** Translates `**`, `*` and `?` globs into regular-expression source; everything else is literal. */
function globSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          out += '(?:.*/)?';
        } else out += '.*';
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

/**
 * The path options of one upload: its repository's fixes and ignores, its own fixes after them,
 * and its file list. The processor resolves the report's paths with them, and the sources the
 * upload sent are resolved the same way, so both name a file alike.
 */
export function uploadPathOptions(settings: { fixes?: string[]; ignore?: string[] }, uploadFixes: readonly string[], repoFiles?: string[]): PathResolverOptions {
  return { fixes: [...(settings.fixes ?? []), ...uploadFixes], ignore: settings.ignore, repoFiles };
}

export interface ConfiguredPathResolver extends PathResolver {
  setSourceBases(bases: string[]): void;
}

/**
 * Builds the resolver the report builder calls for every file path of a report. Order: normalise
 * (CI prefixes, Cobertura source bases), resolve against the repository's files when known
 * (unresolvable → null, the builder counts the drop), then user fixes, then ignore globs (→ null).
 * Throws a plain Error for a malformed fix rule: that is a usage error, not a report error.
 */
export function createPathResolver(options: PathResolverOptions = {}): ConfiguredPathResolver {
  const fixes = compileFixes(options.fixes ?? []);
  const ignore = (options.ignore ?? []).map((g) => {
    const clean = cleanSegments(g.replace(/\\/g, '/'));
    return new RegExp(`^${globSource(clean)}(?:/.*)?$`);
  });
  const index = options.repoFiles ? new RepoIndex(options.repoFiles) : null;
  let bases: string[] = [];

  const locate = (raw: string): string | null => {
    if (raw.trim() === '') return null;
    if (bases.length > 0 && !isAbsolute(raw)) {
      const rel = raw.replace(/\\/g, '/');
      if (index) {
        // The base under which the most of the joined path matches a repository file wins;
        // among equals, the first in document order.
        let best: { path: string; segments: number } | null = null;
        for (const base of bases) {
          const hit = index.match(normalizePath(`${base}/${rel}`));
          if (hit !== null && (best === null || hit.segments > best.segments)) best = hit;
        }
        return best?.path ?? index.resolve(normalizePath(rel));
      }
      // Without the file list: a base under a known CI checkout gives the repository-relative
      // directory; any other absolute base is taken to be the checkout root itself.
      const joined = normalizeDetailed(`${bases[0]}/${rel}`);
      const p = joined.ciPrefix || !isAbsolute(bases[0]) ? joined.path : normalizePath(rel);
      return p === '' ? null : p;
    }
    const p = normalizePath(raw);
    if (index) return index.resolve(p);
    return p === '' ? null : p;
  };

  return {
    setSourceBases(list: string[]): void {
      bases = list.map((b) => b.trim()).filter((b) => b !== '');
    },
    resolve(raw: string): string | null {
      let p = locate(raw);
      if (p === null) return null;
      p = applyFixes(p, fixes);
      if (p === '') return null;
      for (const re of ignore) if (re.test(p)) return null;
      return p;
    },
  };
}
