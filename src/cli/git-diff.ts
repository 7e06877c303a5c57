import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UsageError } from './io';

const run = promisify(execFile);

/** Large enough for any diff the gateway takes (TRIBUTARY_MAX_DIFF_BYTES is its cap). */
const MAX_BUFFER = 1024 * 1024 * 1024;

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd, maxBuffer: MAX_BUFFER, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new UsageError('--diff-base needs git on the PATH');
    throw new UsageError(`git ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

export interface CommitDiff {
  /** `git diff` of base...head: what head changed since it forked from base. */
  text: string;
  /** The merge-base the diff was taken against. */
  baseSha: string;
  /** The head the diff ends at (the commit, or HEAD when the checkout lacks it). */
  headRef: string;
}

/**
 * The diff of `base...head` in the checkout at `cwd`, in git's own format whatever the user's
 * configuration (no colour, no external diff tool, the a/ b/ prefixes, renames found). `head` is
 * the uploaded commit when the checkout has it, else HEAD (CI checkouts of a pull request's merge
 * commit).
 */
export async function commitDiff(cwd: string, base: string, commit: string): Promise<CommitDiff> {
  const known = await git(cwd, ['cat-file', '-e', `${commit}^{commit}`]).then(
    () => true,
    () => false,
  );
  const headRef = known ? commit : 'HEAD';
  const baseSha = (await git(cwd, ['merge-base', base, headRef])).trim();
  const text = await git(cwd, ['-c', 'core.quotePath=true', 'diff', '--no-color', '--no-ext-diff', '--no-textconv', '--src-prefix=a/', '--dst-prefix=b/', '-M', `${baseSha}`, headRef, '--']);
  return { text, baseSha, headRef };
}
