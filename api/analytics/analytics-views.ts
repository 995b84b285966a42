import { z } from 'zod';

const count = z.number().int().nonnegative();

export const analyticsSummarySchema = z.object({
  since: z.string().meta({ description: 'Start of the window (runs started from then), ISO 8601.' }),
  spec: z.string().nullable(),
  runs: z.object({
    total: count,
    running: count,
    completed: count,
    failed: count,
    cancelled: count,
    terminated: count,
    timed_out: count,
    continued_as_new: count,
  }),
  successRate: z
    .number()
    .nullable()
    .meta({ description: 'completed / runs that ended (continued-as-new excluded); null when none ended.' }),
  durationMs: z
    .object({ mean: z.number(), p95: z.number() })
    .nullable()
    .meta({ description: 'Start to close of the runs that ended; null when none ended.' }),
  costUsd: z.object({
    total: z.number(),
    meanPerRun: z.number().nullable(),
  }),
  sampled: count.meta({ description: 'Runs read for durations and cost (at most 10,000, newest first).' }),
  truncated: z.boolean().meta({ description: 'More runs matched than were read: durations and cost cover `sampled`.' }),
});
export type AnalyticsSummary = z.infer<typeof analyticsSummarySchema>;
