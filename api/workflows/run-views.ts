/** Response shapes of /workflows, as zod schemas so the OpenAPI document and the types agree. */
import { z } from 'zod';
import { PROGRESS_SOURCES } from '../history/history-progress';
import { runLinksSchema } from '../history/history-views';
import { runStatusSchema } from './run-status';

export const startRunResponseSchema = z.object({
  workflowId: z.string(),
  runId: z.string().meta({ description: 'Temporal run id.' }),
  created: z.boolean().meta({ description: 'false when a run with this runId already existed (HTTP 200, not 201).' }),
  webUiUrl: z.string(),
});
export type StartRunResponse = z.infer<typeof startRunResponseSchema>;

export const runSummarySchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  spec: z.string().nullable(),
  status: runStatusSchema,
  startTime: z.string().nullable(),
  closeTime: z.string().nullable(),
  webUiUrl: z.string(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

export const listRunsResponseSchema = z.object({
  runs: z.array(runSummarySchema),
  nextPageToken: z.string().optional().meta({ description: 'Pass back to get the next page; absent on the last.' }),
});
export type ListRunsResponse = z.infer<typeof listRunsResponseSchema>;

export const runFailureSchema = z.object({ type: z.string(), message: z.string() });

export const runDetailSchema = runSummarySchema.extend({
  specVersion: z.number().nullable(),
  historyLength: z.number(),
  usage: z.unknown().optional().meta({
    description:
      "Tokens and cost of the run's model calls so far (from the run's memo; also in progress.usage and result.usage).",
  }),
  progress: z
    .unknown()
    .optional()
    .meta({
      description:
        "The run's progress (spec, phase, current, steps, pendingApprovals, generation; the `progress` query's shape), " +
        'read without waiting on a worker: see progressSource. From the history, steps have no outputs (except steps ' +
        'carried across continue-as-new), no per-step usage and no budgets; container steps (parallel, branch, ' +
        'device_session) are inferred from the steps inside them. Absent for a workflow that is not a spec run.',
    }),
  progressSource: z
    .enum(PROGRESS_SOURCES)
    .optional()
    .meta({
      description:
        "Where progress came from: `result` (a completed run's step records), `history` (folded from the latest " +
        "execution's history: every other run, and a running one unless `live=true` was answered), `live` (the " +
        "worker's answer to the progress query, asked only with `live=true` and only while the run is open).",
    }),
  progressError: z.string().optional().meta({
    description: 'Why live progress was not used (the worker did not answer in time), or why there is no progress.',
  }),
  result: z.unknown().optional().meta({ description: 'The run result ({ output, steps }) once completed.' }),
  failure: runFailureSchema
    .optional()
    .meta({ description: 'Why the run failed, was cancelled, terminated or timed out.' }),
  ...runLinksSchema.shape,
});
export type RunDetail = z.infer<typeof runDetailSchema>;

export const approvalResponseSchema = z.object({
  workflowId: z.string(),
  stepId: z.string(),
  decision: z.enum(['approve', 'reject', 'accept', 'decline', 'cancel']),
  content: z.record(z.string(), z.unknown()).optional().meta({ description: "An accepted input's answer." }),
  by: z.string().meta({ description: "The decider's user id, from their bearer token." }),
  groups: z.array(z.string()).optional().meta({ description: "The decider's groups when they decided." }),
  channel: z.enum(['api', 'link', 'signal']).optional().meta({ description: 'How the decision arrived.' }),
  comment: z.string().optional(),
  choice: z.string().optional(),
  at: z.string(),
});
export type ApprovalResponse = z.infer<typeof approvalResponseSchema>;

export const stopRunResponseSchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  status: z.enum(['cancel_requested', 'terminated']),
  webUiUrl: z.string(),
});
export type StopRunResponse = z.infer<typeof stopRunResponseSchema>;
