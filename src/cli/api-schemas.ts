import { z } from 'zod';
import { PublicUploadStateSchema } from '../vocabulary';

/**
 * The gateway's answers as the CLI reads them: only the fields it uses are required, unknown
 * fields pass, so a newer server does not break an older client.
 */
const ErrorInfo = z.object({ code: z.string(), message: z.string() }).nullable().optional();

/** Codes and position fields are open: a newer server may add some. */
const WarningsInfo = z
  .array(
    z.object({
      code: z.string(),
      count: z.number().int().nonnegative(),
      positions: z
        .array(
          z
            .object({
              line: z.number().optional(),
              column: z.number().optional(),
              offset: z.number().optional(),
              path: z.string().optional(),
              source: z.string().optional(),
              field: z.string().optional(),
            })
            .loose(),
        )
        .optional(),
    }),
  )
  .optional();

/** What CI said about the commit (the gateway's `metadata`); a server without it sends none. */
export const CommitMetadataInfo = z
  .object({
    branch: z.string().optional(),
    parentSha: z.string().optional(),
    pullRequest: z.number().optional(),
    ciService: z.string().optional(),
    build: z.string().optional(),
    job: z.string().optional(),
    ciUrl: z.string().optional(),
  })
  .loose();
export type CommitMetadataInfo = z.infer<typeof CommitMetadataInfo>;

export const CreatedRepoSchema = z.object({ slug: z.string(), uploadToken: z.string().min(1) });

/** A repository's settings as the gateway answers them: kept whole (loose), so a PUT of them changes only what the command means to. */
const SettingsSchema = z.looseObject({
  flags: z.array(z.object({ name: z.string(), carryforward: z.boolean() })).optional(),
  carryforwardDepth: z.number().optional(),
});
export const RepoListSchema = z.object({ repos: z.array(z.object({ slug: z.string(), settings: SettingsSchema })) });
export const RepoSettingsAnswerSchema = z.object({ slug: z.string(), settings: SettingsSchema });

export const ModeSchema = z.object({ slug: z.string(), mode: z.string().nullable() });

export const FlagsSchema = z.object({
  defaultMode: z.string(),
  rollout: z.record(z.string(), z.number()),
  overrides: z.array(z.object({ slug: z.string(), mode: z.string() })),
});

export const PostedUploadsSchema = z.object({
  uploads: z
    .array(
      z.object({
        uploadId: z.string(),
        session: z.number().int().nullable().optional(),
        state: z.string(),
        statusUrl: z.string().optional(),
        created: z.boolean().optional(),
      }),
    )
    .min(1),
  commitUrl: z.string().optional(),
});
export type PostedUpload = z.infer<typeof PostedUploadsSchema>['uploads'][number];

export const UploadStatusSchema = z.object({
  uploadId: z.string(),
  repo: z.string().optional(),
  sha: z.string().optional(),
  session: z.number().int().nullable().optional(),
  state: PublicUploadStateSchema,
  error: ErrorInfo,
  warnings: WarningsInfo,
  timings: z.record(z.string(), z.string().nullable()).optional(),
  queuedFor: z.number().nullable().optional(),
  estimatedWait: z.number().nullable().optional(),
  commitUrl: z.string().optional(),
});
export type UploadStatus = z.infer<typeof UploadStatusSchema>;

export const TotalsSchema = z.object({
  files: z.number(),
  lines: z.number(),
  hits: z.number(),
  misses: z.number(),
  partials: z.number(),
  branches: z.number().optional(),
  methods: z.number().optional(),
  coverage: z.union([z.string(), z.number()]).nullable(),
  sessions: z.number().optional(),
});
export type Totals = z.infer<typeof TotalsSchema>;

export const CommitStatusSchema = z.object({
  repo: z.string().optional(),
  sha: z.string().optional(),
  state: z.string(),
  totals: TotalsSchema.nullable(),
  mode: z.string().nullable().optional(),
  experimentOutcome: z.string().nullable().optional(),
  metadata: CommitMetadataInfo.optional(),
  uploads: z
    .array(
      z.object({
        uploadId: z.string(),
        session: z.number().int().nullable().optional(),
        state: z.string(),
        error: ErrorInfo,
        warnings: z.number().int().nonnegative().optional(),
      }),
    )
    .optional(),
  reportUrl: z.string().optional(),
});
export type CommitStatus = z.infer<typeof CommitStatusSchema>;

export const ReportSchema = z.object({
  files: z.record(z.string(), z.object({ totals: TotalsSchema }).loose()),
  totals: TotalsSchema,
  flags: z.record(z.string(), TotalsSchema).optional(),
  sessions: z.array(z.unknown()).optional(),
});

export const TasksSchema = z.object({
  tasks: z.array(
    z
      .object({
        workflowId: z.string(),
        runId: z.string().optional(),
        repo: z.string().nullable().optional(),
        sha: z.string().nullable().optional(),
        status: z.string(),
        mode: z.string().nullable().optional(),
        outcome: z.string().nullable().optional(),
        experimentOutcome: z.string().nullable().optional(),
        uploadCount: z.number().nullable().optional(),
        startTime: z.string().nullable().optional(),
        closeTime: z.string().nullable().optional(),
      })
      .loose(),
  ),
});

export const CancelSchema = z.object({ workflowId: z.string(), cancelRequested: z.boolean() });

const QueueCounts = z.object({ waiting: z.number(), processing: z.number(), oldestWaitingAge: z.number().nullable() });

export const QueueSchema = z.object({
  at: z.string().optional(),
  total: QueueCounts.extend({ estimatedWait: z.number().nullable().optional() }),
  repositories: z.array(QueueCounts.extend({ repo: z.string() }).loose()),
  windows: z.array(
    z
      .object({
        minutes: z.number(),
        started: z.number().optional(),
        queueTimeP50: z.number().nullable(),
        queueTimeP95: z.number().nullable(),
        mergedPerMinute: z.number(),
      })
      .loose(),
  ),
});
export type Queue = z.infer<typeof QueueSchema>;

export const VerificationsSchema = z.object({
  verifications: z.array(
    z
      .object({
        runId: z.string(),
        seed: z.string().optional(),
        repo: z.string(),
        sha: z.string(),
        outcome: z.string(),
        uploads: z.number().optional(),
        differingFiles: z.number().optional(),
        differingLines: z.number().optional(),
        files: z.array(z.string()).optional(),
        sample: z.array(z.string()).optional(),
        reason: z.string().nullable().optional(),
        createdAt: z.string().optional(),
      })
      .loose(),
  ),
});

export const DiffSavedSchema = z.object({ files: z.number().int(), bytes: z.number().int(), baseSha: z.string().nullable().optional() });

export const ReadTokenSchema = z.object({ id: z.string(), kind: z.string(), repo: z.string(), name: z.string().nullable(), createdAt: z.string() });
export const CreatedReadTokenSchema = ReadTokenSchema.extend({ token: z.string().min(1) });
export const ReadTokenListSchema = z.object({ tokens: z.array(ReadTokenSchema) });


export const SourcesAnswerSchema = z.object({ stored: z.number().int(), skipped: z.array(z.string()) });
