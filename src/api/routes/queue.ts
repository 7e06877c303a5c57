import { z } from 'zod';
import { estimatedWaitSeconds, type QueueSnapshot } from '../../storage/store';
import { adminOnly } from '../auth';
import { bearerSecurity, errorResponses } from '../schemas';
import type { RoutePlugin } from '../server';

const Seconds = z.number().nonnegative();

const QueueCountsSchema = z.object({
  waiting: z.number().int().describe("uploads registered, not yet claimed ('uploaded')"),
  processing: z.number().int().describe('uploads claimed by a batch, not yet merged or failed'),
  oldestWaitingAge: Seconds.nullable().describe('seconds since the oldest waiting upload was registered'),
});

export const QueueSchema = z.object({
  at: z.string().describe("the database's clock the figures were read on"),
  total: QueueCountsSchema.extend({
    estimatedWait: Seconds.nullable().describe('seconds a new upload should wait for its processing to start at the recent merge rate; null: nothing merged in the last hour'),
  }),
  repositories: z.array(QueueCountsSchema.extend({ repo: z.string() })),
  windows: z.array(
    z.object({
      minutes: z.number().int(),
      started: z.number().int().describe('uploads whose processing started in the window'),
      queueTimeP50: Seconds.nullable().describe('registered -> processing started, seconds'),
      queueTimeP95: Seconds.nullable(),
      mergedPerMinute: z.number().nonnegative(),
    }),
  ),
});
export type QueueView = z.infer<typeof QueueSchema>;

const ageOf = (at: Date, since: Date | null) => (since === null ? null : Math.max(0, (at.getTime() - since.getTime()) / 1000));

export function queueView(s: QueueSnapshot): QueueView {
  return {
    at: s.at.toISOString(),
    total: { waiting: s.total.waiting, processing: s.total.processing, oldestWaitingAge: ageOf(s.at, s.total.oldestWaitingAt), estimatedWait: estimatedWaitSeconds(s.total.waiting, s.windows) },
    repositories: s.repositories.map((r) => ({ repo: r.repo, waiting: r.waiting, processing: r.processing, oldestWaitingAge: ageOf(s.at, r.oldestWaitingAt) })),
    windows: s.windows.map((w) => ({ minutes: w.minutes, started: w.started, queueTimeP50: w.queueP50, queueTimeP95: w.queueP95, mergedPerMinute: w.mergedPerMinute })),
  };
}

export const queueRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/queue',
    {
      onRequest: adminOnly,
      schema: {
        summary: 'The upload queue: waiting and processing per repository, oldest wait, queue times, throughput, estimated wait (admin)',
        tags: ['queue'],
        security: bearerSecurity,
        response: { 200: QueueSchema, ...errorResponses },
      },
    },
    async () => queueView(await ctx.deps.store.queueSnapshot()),
  );
};
