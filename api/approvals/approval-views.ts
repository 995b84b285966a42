/** Response shapes of the approvals inbox and signed links, as zod schemas (types and OpenAPI alike). */
import { z } from 'zod';

export const pendingApprovalItemSchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  spec: z.string().nullable(),
  stepId: z.string().meta({ description: 'The approval id to decide (POST links.decide).' }),
  prompt: z.string().nullable(),
  approvers: z
    .array(z.string())
    .meta({ description: 'Who may decide now (users or groups); empty: anyone with the approver role.' }),
  requestedAt: z.string(),
  timeoutAt: z.string().nullable(),
  onTimeout: z.enum(['approve', 'reject']),
  escalatedAt: z
    .string()
    .nullable()
    .meta({ description: 'When the approval went to its escalation approvers; null: not escalated.' }),
  choices: z.array(z.string()),
  kind: z
    .enum(['input'])
    .optional()
    .meta({
      description:
        'input: an MCP server asks for data during a tool call; answer with decision accept (content matching ' +
        'requestedSchema), decline or cancel. A timeout declines it. Absent: an approval (approve or reject).',
    }),
  requestedSchema: z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ description: 'For an input: the JSON Schema its content must match.' }),
  server: z.string().optional().meta({ description: 'The MCP server behind an input or a sampling approval.' }),
  mayDecide: z.boolean().meta({ description: 'Whether the caller may decide it.' }),
  links: z.object({
    run: z.string().meta({ description: 'The run in this API (GET).' }),
    webUi: z.string().meta({ description: 'The run in the Temporal Web UI.' }),
    decide: z.string().meta({ description: 'Where to POST the decision (body: decision, comment?, choice?).' }),
  }),
});
export type PendingApprovalItem = z.infer<typeof pendingApprovalItemSchema>;

export const listApprovalsResponseSchema = z.object({
  approvals: z.array(pendingApprovalItemSchema),
  nextPageToken: z
    .string()
    .optional()
    .meta({ description: 'Pass back for the next page; absent on the last. A page may be empty and still have one.' }),
});
export type ListApprovalsResponse = z.infer<typeof listApprovalsResponseSchema>;

export const approvalLinksResponseSchema = z.object({
  workflowId: z.string(),
  stepId: z.string(),
  approve: z.string().optional().meta({ description: 'Opens a confirmation page; its button approves.' }),
  reject: z.string().optional().meta({ description: 'Opens a confirmation page; its button rejects.' }),
  user: z.string().meta({ description: 'Who the links decide as.' }),
  groups: z.array(z.string()),
  expiresAt: z.string(),
});
export type ApprovalLinksResponse = z.infer<typeof approvalLinksResponseSchema>;

/** What GET on a link says (as JSON): what it would decide, for whom, until when. */
export const approvalLinkViewSchema = z.object({
  workflowId: z.string(),
  stepId: z.string(),
  decision: z.enum(['approve', 'reject']),
  user: z.string(),
  expiresAt: z.string(),
  prompt: z.string().nullable(),
  waiting: z.boolean().meta({ description: 'false: the step is no longer waiting (decided, timed out, run closed).' }),
});
export type ApprovalLinkView = z.infer<typeof approvalLinkViewSchema>;
