/** Response shapes of /workflows, as zod schemas so the OpenAPI document and the types agree. */
import { z } from 'zod';
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
  progress: z.unknown().optional().meta({
    description: "The run's progress query (phase, steps, pendingApprovals); absent when no worker could answer.",
  }),
  progressError: z.string().optional(),
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
  decision: z.enum(['approve', 'reject']),
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
