/** Response shapes of the history, steps, replay, rerun and retry routes, as zod schemas. */
import { z } from 'zod';
import { runStatusSchema } from '../workflows/run-status';

export const workflowHistorySchema = z
  .object({
    events: z.array(z.record(z.string(), z.unknown())).meta({
      description: 'Every event of the execution, in the protobuf JSON form Temporal tools read.',
    }),
  })
  .meta({
    description:
      'The execution\'s event history as `temporal workflow show --output json` and the Web UI\'s "Download" write ' +
      'it: replay it with `npm run replay -- <file> --workflow-id <id>`.',
  });

const stepStatusSchema = z.enum(['running', 'waiting', 'completed', 'failed', 'cancelled', 'skipped']);

export const stepTimelineEntrySchema = z.object({
  path: z.string().meta({ description: 'Step path: `fetch`, or `each[2].fetch` inside a map.' }),
  kind: z.string().nullable(),
  status: stepStatusSchema.nullable().meta({
    description:
      "From the execution's step records: its result's once completed, else folded from its history (no worker " +
      'is asked).',
  }),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  activities: z.number().int().meta({ description: 'Activities the step scheduled (model calls, tool calls, …).' }),
  attempts: z
    .number()
    .int()
    .nullable()
    .meta({ description: 'Most attempts any of its activities took (1: no retry); null without activities.' }),
  failure: z
    .string()
    .nullable()
    .meta({ description: 'Why the step failed, or the last failure of a retrying activity.' }),
  runId: z.string().meta({ description: 'The execution (of a continue-as-new chain) the step ran in.' }),
  reused: z.boolean().meta({
    description: 'true: not executed by this run; its output was recorded by the run this one reruns.',
  }),
});
export type StepTimelineEntry = z.infer<typeof stepTimelineEntrySchema>;

export const stepTimelineSchema = z.object({
  workflowId: z.string(),
  runId: z.string().meta({ description: 'The execution asked for (the latest by default).' }),
  runs: z.array(z.string()).meta({ description: 'The continue-as-new chain up to runId, first execution first.' }),
  steps: z.array(stepTimelineEntrySchema).meta({ description: 'Ordered by start time.' }),
});
export type StepTimeline = z.infer<typeof stepTimelineSchema>;

export const divergenceSchema = z.object({
  eventId: z.number().int().nullable(),
  eventType: z.string().nullable(),
  recorded: z.string().meta({ description: 'What the history recorded at that event.' }),
  code: z.string().meta({ description: "What today's code did there instead." }),
  stepPath: z.string().nullable().meta({
    description: 'The step: the one the event belongs to or, for an event naming none, the next one the history names.',
  }),
  detail: z.string().meta({ description: "The SDK's own message." }),
});

export const replayVerdictSchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  outcome: z.enum(['deterministic', 'nondeterministic', 'failed']),
  events: z.number().int(),
  message: z.string().meta({ description: 'The verdict in words, with what to do about it.' }),
  divergence: divergenceSchema.optional().meta({ description: 'The first divergence (outcome nondeterministic).' }),
  error: z.string().optional().meta({ description: 'What stopped the replay (outcome failed).' }),
});
export type ReplayVerdictView = z.infer<typeof replayVerdictSchema>;

export const rerunLinkSchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  kind: z.enum(['rerun', 'retry']),
  fromStep: z.string().nullable().meta({ description: 'The step a rerun started from; null for a retry.' }),
});
export type RerunLink = z.infer<typeof rerunLinkSchema>;

export const rerunResponseSchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  created: z.boolean().meta({ description: 'false when a run with this runId already existed (HTTP 200, not 201).' }),
  webUiUrl: z.string(),
  rerunOf: rerunLinkSchema.meta({ description: 'The run this one repeats (kind, fromStep: how).' }),
  reusedSteps: z.array(z.string()).meta({ description: 'Steps whose recorded outputs the new run reuses.' }),
});
export type RerunResponse = z.infer<typeof rerunResponseSchema>;

export const rerunSummarySchema = rerunLinkSchema.extend({
  status: runStatusSchema,
  startTime: z.string().nullable(),
});

/** What GET /workflows/:id adds about reruns and retries. */
export const runLinksSchema = z.object({
  rerunOf: rerunLinkSchema.optional().meta({ description: 'Set on a rerun or retry: the run it repeats.' }),
  reruns: z
    .array(rerunSummarySchema)
    .optional()
    .meta({
      description:
        'Reruns and retries of this run, newest first, once it is closed (only a closed run can be rerun; Temporal ' +
        'visibility: a new one shows after a moment).',
    }),
  rerunsError: z.string().optional().meta({ description: 'Set when visibility could not list the reruns.' }),
});
export type RunLinks = z.infer<typeof runLinksSchema>;
