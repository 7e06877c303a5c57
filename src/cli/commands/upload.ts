import { randomUUID } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { ConfigError, loadParseLimits, type ConfiguredParseLimits } from '../../config';
import { MAX_SOURCE_FILE_BYTES } from '../../storage/sources';
import { packSources } from '../sources';
import { FORMATS } from '../../coverage/types';
import { describeWarning } from '../../coverage/warnings';
import { DiffSavedSchema, PostedUploadsSchema, SourcesAnswerSchema, type CommitStatus, type PostedUpload, type UploadStatus } from '../api-schemas';
import { detectCi } from '../ci-environment';
import { commitDiff } from '../git-diff';
import { sendProgress, statusLines } from '../display';
import { ApiError } from '../http-client';
import { commitPath, followCommit, followUpload, getCommit, mapBounded } from '../follow';
import { isTerminalCommitState, isTerminalUploadState } from '../../vocabulary';
import { UsageError, type CliIo } from '../io';
import { dash, json, totalsTable } from '../output';
import { addServerOptions, EXIT, runServerCommand, type ServerContext, type ServerOptions } from '../server-context';
import { check, FixRuleSchema, ParentShaSchema, PullRequestSchema, ShaSchema, SlugSchema, UrlSchema, WaitSchema } from '../validate';

interface UploadOptions extends ServerOptions {
  repo?: string;
  commit?: string;
  flag: string[];
  name?: string;
  build?: string;
  job?: string;
  branch?: string;
  parent?: string;
  pr?: string;
  ciUrl?: string;
  format?: string;
  fixes: string[];
  idempotencyKey?: string;
  diffBase?: string;
  detach?: boolean;
  waitTimeout: string;
  sources?: boolean;
  sourcesMaxBytes: string;
}

const collect = (value: string, all: string[]) => [...all, value];

const FOLLOW_CONCURRENCY = 8;

/** What `--sources` sends at most by default: well under the server's TRIBUTARY_MAX_SOURCES_BYTES default (32 MiB of JSON). */
const DEFAULT_SOURCES_MAX_BYTES = 16 * 1024 * 1024;
const SourcesMaxBytesSchema = z.coerce.number().int().min(0).max(1024 * 1024 * 1024);

export function registerUploadCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('upload')
    .description(
      'upload coverage reports for a commit (one upload per file), then follow them until merged; on GitHub Actions, GitLab CI, CircleCI, ' +
        'Jenkins and Buildkite the branch, pull request, build, job and CI URL not given as flags are read from the environment',
    )
    .argument('<files...>', 'coverage reports (any supported format, optionally gzipped)')
    .requiredOption('--repo <owner/name>', 'the repository')
    .requiredOption('--commit <sha>', 'the commit')
    .option('--flag <flag>', 'a flag for these uploads (repeatable)', collect, [])
    .option('--name <name>', 'upload name')
    .option('--build <build>', 'CI build id')
    .option('--job <job>', 'CI job id')
    .option('--branch <branch>', 'branch')
    .option('--parent <sha>', "the parent commit's sha")
    .option('--pr <number>', 'pull (merge) request number')
    .option('--ci-url <url>', 'link to the CI build')
    .addOption(new Option('--format <name>', 'skip detection and read every file as this format').choices([...FORMATS]))
    .option('--fixes <rule>', 'path fix "before::after" (repeatable)', collect, [])
    .option('--idempotency-key <key>', 'makes a repeated command with the same files return the same uploads (":<index>" is appended per file when several)')
    .option('--diff-base <ref>', "send `git diff` of REF...the commit (or HEAD) from the checkout here, for compare's patch coverage")
    .option('--detach', 'print the upload ids and exit without waiting')
    .option('--wait-timeout <duration>', 'how long to follow the uploads', '10m')
    .option('--sources', "also send the source text of the files the reports name (read from here: as written, under the report's source bases, or from the current directory), shown on the file pages")
    .option('--sources-max-bytes <bytes>', 'at most this much source text in all; files past it are left out with a warning', String(DEFAULT_SOURCES_MAX_BYTES));
  addServerOptions(cmd).action(async (files: string[], options: UploadOptions) => {
    await runServerCommand(io, options, (ctx) => runUpload(ctx, files, options));
  });
}

interface LocalFile {
  path: string;
  size: number;
}

function checkFiles(files: string[]): LocalFile[] {
  if (files.length === 0) throw new UsageError('no files given');
  return files.map((file) => {
    let stat;
    try {
      stat = statSync(file);
    } catch {
      throw new UsageError(`cannot read ${file}: no such file`);
    }
    if (!stat.isFile()) throw new UsageError(`cannot read ${file}: not a regular file`);
    return { path: file, size: stat.size };
  });
}

interface Sent {
  file: LocalFile;
  upload: PostedUpload;
}

async function runUpload(ctx: ServerContext, files: string[], options: UploadOptions): Promise<number> {
  const io = ctx.io;
  const slug = check(SlugSchema, options.repo, '--repo');
  const sha = check(ShaSchema, options.commit, '--commit');
  for (const rule of options.fixes) check(FixRuleSchema, rule, '--fixes rule');
  const parent = options.parent === undefined ? undefined : check(ParentShaSchema, options.parent, '--parent');
  const pr = options.pr === undefined ? undefined : check(PullRequestSchema, options.pr, '--pr');
  const ciUrl = options.ciUrl === undefined ? undefined : check(UrlSchema, options.ciUrl, '--ci-url');
  const waitMs = check(WaitSchema, options.waitTimeout, '--wait-timeout');
  const local = checkFiles(files);
  const sourcesMaxBytes = check(SourcesMaxBytesSchema, options.sourcesMaxBytes, '--sources-max-bytes');
  let sourcesBudget = sourcesMaxBytes;
  const limits = options.sources === true ? sourceParseLimits(io) : undefined;
  const token = ctx.repoToken(slug);
  const deadline = Date.now() + waitMs;

  // Flags win over what the CI says, field by field.
  const ci = detectCi(io.env ?? {});
  for (const note of ci?.ignored ?? []) io.stderr(`note: ignoring ${note}\n`);
  const fromCi = ci?.metadata;
  const query = {
    flags: options.flag.length > 0 ? options.flag : undefined,
    name: options.name,
    build: options.build ?? fromCi?.build,
    job: options.job ?? fromCi?.job,
    branch: options.branch ?? fromCi?.branch,
    parent,
    pr: (pr ?? fromCi?.pullRequest)?.toString(),
    ci_service: fromCi?.ciService,
    ci_url: ciUrl ?? fromCi?.ciUrl,
    format: options.format,
    fixes: options.fixes.length > 0 ? options.fixes : undefined,
  };
  // A key per file, fixed before the first attempt: retries after a lost answer then return the
  // upload the server already created instead of a second one.
  const keyFor = (i: number) => (options.idempotencyKey === undefined ? randomUUID() : local.length === 1 ? options.idempotencyKey : `${options.idempotencyKey}:${i}`);

  // Before any upload: a git failure is a usage error that should send nothing.
  const diff = options.diffBase === undefined ? undefined : await commitDiff(process.cwd(), options.diffBase, sha);

  const progress = sendProgress(io, options.json === true);
  const sent: Sent[] = [];
  try {
    for (const [i, file] of local.entries()) {
      const key = String(i);
      progress.start(key, path.basename(file.path), file.size);
      const idempotencyKey = keyFor(i);
      const { value } = await ctx.client
        .json(PostedUploadsSchema, `${commitPath(slug, sha)}/uploads`, {
          method: 'POST',
          token,
          query,
          headers: { 'idempotency-key': idempotencyKey },
          body: {
            open: () => createReadStream(file.path),
            length: file.size,
            contentType: 'application/octet-stream',
            onProgress: (bytes) => progress.update(key, bytes),
          },
        })
        .catch((err: unknown) => {
          // Not retried (the server changed nothing): the key names a different file already.
          if (err instanceof ApiError && err.code === 'idempotency_conflict') {
            throw new ApiError(
              err.status,
              err.code,
              `${file.path}: Idempotency-Key ${JSON.stringify(idempotencyKey)} was already used for commit ${sha} with different content; ` +
                'send the same file to retry, or use a new --idempotency-key for a changed file',
              err.field,
            );
          }
          throw err;
        });
      const upload = value.uploads[0]!;
      sent.push({ file, upload });
      if (limits !== undefined) sourcesBudget -= await sendSources(ctx, token, file.path, upload.uploadId, { format: options.format, limits, budget: sourcesBudget, maxBytes: sourcesMaxBytes });
      progress.finish(key, `${file.path}: sent ${file.size} bytes, upload ${upload.uploadId} (session ${dash(upload.session)})`, `${path.basename(file.path)}: upload ${upload.uploadId}`);
    }
  } finally {
    progress.stop();
  }

  if (diff !== undefined) {
    const gz = gzipSync(diff.text);
    const saved = await ctx.client.json(DiffSavedSchema, `${commitPath(slug, sha)}/diff`, {
      method: 'PUT',
      token,
      query: { base: diff.baseSha },
      body: { open: () => Readable.from([gz]), length: gz.length, contentType: 'text/x-diff' },
    });
    if (!options.json) io.stderr(`diff: ${saved.value.files} file(s), ${saved.value.bytes} bytes against ${diff.baseSha.slice(0, 12)} (${options.diffBase})\n`);
  }

  if (options.detach) return detach(ctx, token, slug, sha, sent, options);

  const lines = options.json ? undefined : statusLines(io);
  const label = (s: Sent) => path.basename(s.file.path);
  const describe = (s: Sent, st: UploadStatus) =>
    `${label(s)}  upload ${st.uploadId}  session ${dash(st.session ?? s.upload.session)}  ${st.state}${st.error ? `  ${st.error.code}: ${st.error.message}` : ''}` +
    (st.warnings && st.warnings.length > 0 ? `  warnings: ${st.warnings.map(describeWarning).join('; ')}` : '');
  // Bounded: each follower holds a long-poll open, and CI jobs may send dozens of files.
  const finals = await mapBounded(sent, FOLLOW_CONCURRENCY, (s) =>
    followUpload(ctx.client, token, s.upload.uploadId, (st) => lines?.set(s.upload.uploadId, describe(s, st)), { deadline }),
  );
  lines?.done();

  const pendingUploads = finals.filter((f) => !isTerminalUploadState(f.state));
  // The commit completes once its report is saved, which may trail the last upload a little.
  const commit =
    pendingUploads.length === 0
      ? await followCommit(ctx.client, token, slug, sha, (c) => lines?.set('commit', `commit ${sha.slice(0, 12)}  ${c.state}`), { deadline })
      : await getCommit(ctx.client, token, slug, sha);

  const failed = finals.filter((f) => f.state === 'error' || f.state === 'cancelled');
  if (options.json) {
    io.stdout(
      json({
        uploads: finals.map((f) => ({ id: f.uploadId, session: f.session ?? null, state: f.state, error: f.error ?? null, warnings: f.warnings ?? [] })),
        commit: { state: commit.state, totals: commit.totals },
      }),
    );
  } else {
    if (commit.totals) io.stdout(`\n${totalsTable(commit.totals)}`);
    if (commit.mode) io.stdout(`mode ${commit.mode}${commit.experimentOutcome ? `, experiment ${commit.experimentOutcome}` : ''}\n`);
  }
  if (pendingUploads.length > 0 || !isTerminalCommitState(commit.state)) {
    io.stderr(`error: gave up waiting after ${options.waitTimeout}: ${pendingUploads.length} upload(s) not finished, commit ${commit.state}\n`);
    return EXIT.failed;
  }
  const cancelled = finals.filter((f) => f.state === 'cancelled');
  if (cancelled.length > 0) {
    io.stderr(`error: ${cancelled.length} upload(s) cancelled: the commit's workflow was cancelled (tributary cancel) before they were merged; upload them again to process them\n`);
  }
  if (failed.length > 0) {
    io.stderr(`error: ${failed.length} of ${finals.length} upload(s) failed\n`);
    return EXIT.failed;
  }
  if (commit.state === 'cancelled') {
    // The commit stays `cancelled` while any earlier upload is; these uploads were merged anyway.
    const earlier = (commit.uploads ?? []).filter((u) => u.state === 'cancelled').length;
    io.stderr(`note: this commit was cancelled earlier (${earlier} earlier upload(s) ended cancelled); these ${finals.length} upload(s) were merged into its report\n`);
  }
  return EXIT.ok;
}

function sourceParseLimits(io: CliIo): ConfiguredParseLimits {
  try {
    return loadParseLimits(io.env ?? {});
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * Packs and sends the sources of one uploaded report; returns the bytes sent. Coverage is what
 * the command is for: a report that cannot be read here or a refused sources request is a
 * warning, never a failed upload.
 */
async function sendSources(
  ctx: ServerContext,
  token: string,
  file: string,
  uploadId: string,
  opts: { format?: string; limits: ConfiguredParseLimits; budget: number; maxBytes: number },
): Promise<number> {
  const io = ctx.io;
  let packed;
  try {
    packed = await packSources(await readFile(file), { fileName: path.basename(file), format: opts.format, limits: opts.limits, root: process.cwd(), budget: opts.budget });
  } catch (err) {
    io.stderr(`warning: --sources: ${file}: not sending sources, the report could not be read here: ${(err as Error).message}\n`);
    return 0;
  }
  const list = (paths: string[]) => `${paths.slice(0, 5).join(', ')}${paths.length > 5 ? `, and ${paths.length - 5} more` : ''}`;
  if (packed.missing.length > 0) io.stderr(`note: --sources: ${file}: ${packed.missing.length} file(s) it names are not here (${list(packed.missing)}); their pages show line numbers only\n`);
  if (packed.tooLarge.length > 0) io.stderr(`warning: --sources: ${file}: ${packed.tooLarge.length} file(s) over ${MAX_SOURCE_FILE_BYTES} bytes left out (${list(packed.tooLarge)})\n`);
  if (packed.binary.length > 0) io.stderr(`note: --sources: ${file}: ${packed.binary.length} file(s) are not text, left out (${list(packed.binary)})\n`);
  if (packed.overCap.length > 0) {
    io.stderr(`warning: --sources: ${file}: ${packed.overCap.length} file(s) left out: the sources would pass --sources-max-bytes ${opts.maxBytes} (${list(packed.overCap)}); raise it to send them\n`);
  }
  if (packed.files.length === 0) return 0;
  try {
    const { value } = await ctx.client.json(SourcesAnswerSchema, `/api/v1/uploads/${encodeURIComponent(uploadId)}/sources`, {
      method: 'POST',
      token,
      json: { sourceBases: packed.sourceBases, files: packed.files },
    });
    io.stderr(`${file}: sources of ${value.stored} file(s) sent (${packed.bytes} bytes)${value.skipped.length > 0 ? `; ${value.skipped.length} ignored by the repository's settings` : ''}\n`);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    io.stderr(`warning: --sources: ${file}: the server refused the sources (${err.status} ${err.code}: ${err.message}); the coverage upload is not affected\n`);
    return 0;
  }
  return packed.bytes;
}

async function detach(ctx: ServerContext, token: string, slug: string, sha: string, sent: Sent[], options: UploadOptions): Promise<number> {
  let commit: CommitStatus | undefined;
  try {
    commit = await getCommit(ctx.client, token, slug, sha);
  } catch {
    // The uploads are in; the commit's state is a courtesy when detaching.
  }
  if (options.json) {
    ctx.io.stdout(
      json({
        uploads: sent.map((s) => ({ id: s.upload.uploadId, session: s.upload.session ?? null, state: s.upload.state, error: null, statusUrl: absolute(ctx, s.upload.statusUrl) })),
        commit: { state: commit?.state ?? null, totals: commit?.totals ?? null },
      }),
    );
  } else {
    for (const s of sent) ctx.io.stdout(`${s.upload.uploadId}  ${absolute(ctx, s.upload.statusUrl) ?? ''}\n`);
  }
  return EXIT.ok;
}

function absolute(ctx: ServerContext, url: string | undefined): string | undefined {
  return url === undefined ? undefined : new URL(url, `${ctx.baseUrl}/`).toString();
}
