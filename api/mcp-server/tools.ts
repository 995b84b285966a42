/**
 * The orchestrator's MCP tools. Each calls the service method its REST route calls, with the
 * REST route's role and request schemas, so validation, refusals and messages are the same;
 * every failure becomes an `isError` result (tool-results.ts), never a broken session.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Identity, Role } from '../../workflows/contracts/identity';
import { specVersionSchema, zodIssues } from '../../workflows/spec/schema';
import { listApprovalsResponseSchema } from '../approvals/approval-views';
import { listSpecs } from '../specs/spec-listing';
import { listSpecsResponseSchema } from '../specs/spec-views';
import { specNameSchema } from '../specs/spec-requests';
import { RequestValidationError } from '../validation/request-validation.error';
import { boundedText } from '../validation/text';
import { PAGE_TOKEN_PATTERN } from '../workflows/page-token';
import {
  approvalDecisionBodySchema,
  clientRunIdSchema,
  idempotencyKeySchema,
  startRunBodySchema,
  workflowIdParamSchema,
} from '../workflows/run-requests';
import { VISIBILITY_STATUS_ALIASES } from '../workflows/run-status';
import {
  approvalResponseSchema,
  listRunsResponseSchema,
  runDetailSchema,
  startRunResponseSchema,
  stopRunResponseSchema,
} from '../workflows/run-views';
import { requireRole } from './caller';
import type { Extra, OrchestratorServices, SessionContext } from './orchestrator-services';
import { failureOf, toolError, toolResult } from './tool-results';
import { waitForRun, waitForRunResultSchema } from './wait-for-run';

interface Call {
  identity: Identity;
  extra: Extra;
}

interface ToolDefinition<In extends z.ZodObject, Out extends z.ZodObject> {
  title: string;
  description: string;
  role: Role;
  input: In;
  output: Out;
  annotations?: ToolAnnotations;
  run(args: z.output<In>, call: Call): Promise<z.input<Out>>;
}

/** The longest wait_for_run may be asked to wait in one call. */
export const MAX_WAIT_SECONDS = 3600;
const DEFAULT_WAIT_SECONDS = 50;

const workflowId = workflowIdParamSchema.meta({
  description: 'The run: its workflowId as start_run or list_runs returned it, e.g. approval-release:demo-1.',
});
const pageToken = z
  .string()
  .regex(PAGE_TOKEN_PATTERN, 'must be a nextPageToken returned by this tool')
  .optional()
  .meta({ description: 'The nextPageToken of the previous page.' });
const pageSize = z.number().int().min(1).max(1000).optional().meta({ description: 'Items per page; default 50.' });

export function registerTools(server: McpServer, services: OrchestratorServices, session: SessionContext): void {
  const { runs, inbox, store } = services;
  const add = <In extends z.ZodObject, Out extends z.ZodObject>(name: string, tool: ToolDefinition<In, Out>) => {
    const handler = async (args: z.output<In>, extra: Extra): Promise<CallToolResult> => {
      try {
        const identity = requireRole(session.identityOf(extra), tool.role);
        return toolResult(await tool.run(args, { identity, extra }));
      } catch (err) {
        const failure = failureOf(err, services.logger);
        if (failure.status >= 500) {
          server
            .sendLoggingMessage({ level: 'error', logger: name, data: failure.message }, extra.sessionId)
            .catch(() => undefined);
        }
        return toolError(failure);
      }
    };
    server.registerTool(
      name,
      {
        title: tool.title,
        description: `${tool.description} Needs the ${tool.role} role.`,
        inputSchema: tool.input,
        outputSchema: tool.output,
        annotations: tool.annotations,
      },
      handler as never,
    );
  };

  add('list_specs', {
    title: 'List specs',
    description: 'The registered workflow specs: name, latest version, every version, description.',
    role: 'viewer',
    input: z.strictObject({}),
    output: listSpecsResponseSchema,
    annotations: { readOnlyHint: true },
    run: () => listSpecs(store),
  });

  add('start_run', {
    title: 'Start a run',
    description:
      'Starts a run of a registered spec (see list_specs, or read spec://<name> for its inputs). Give runId to ' +
      'make it idempotent: the same runId with the same request returns the first run (created: false).',
    role: 'operator',
    input: z.strictObject({
      specName: specNameSchema.meta({ description: 'A registered spec, e.g. approval-release.' }),
      specVersion: specVersionSchema.optional().meta({ description: 'A registered version; default the latest.' }),
      inputs: z
        .record(z.string(), z.unknown())
        .optional()
        .meta({ description: "The spec's inputs by name, of the types the spec declares." }),
      runId: clientRunIdSchema.optional().meta({
        description: 'Idempotency id: the run becomes `<specName>:<runId>`; 1-100 letters, digits, "_" or "-".',
      }),
    }),
    output: startRunResponseSchema,
    annotations: { idempotentHint: true, openWorldHint: true },
    run: async (args) => {
      // The REST body schema, for the checks it adds (e.g. how deep inputs may nest).
      const body = startRunBodySchema.safeParse(args);
      if (!body.success) throw new RequestValidationError(zodIssues(body.error));
      return runs.start(body.data);
    },
  });

  add('get_run', {
    title: 'Get a run',
    description: "A run's status, progress (steps, pending approvals), and its result or failure once closed.",
    role: 'viewer',
    input: z.strictObject({
      workflowId,
      live: z
        .boolean()
        .optional()
        .meta({ description: "true: ask the run's worker for live progress (step outputs, budgets) first." }),
    }),
    output: runDetailSchema,
    annotations: { readOnlyHint: true },
    run: (args) => runs.describe(args.workflowId, { live: args.live }),
  });

  add('list_runs', {
    title: 'List runs',
    description: 'Runs, newest first, from Temporal visibility (a run just started may take a moment to show).',
    role: 'viewer',
    input: z.strictObject({
      status: z
        .enum(Object.keys(VISIBILITY_STATUS_ALIASES) as [string, ...string[]])
        .optional()
        .meta({ description: 'Only runs in this status.' }),
      spec: specNameSchema.optional().meta({ description: 'Only runs of this spec.' }),
      pageSize,
      nextPageToken: pageToken,
    }),
    output: listRunsResponseSchema,
    annotations: { readOnlyHint: true },
    run: (args) =>
      runs.list({
        status: args.status === undefined ? undefined : VISIBILITY_STATUS_ALIASES[args.status],
        spec: args.spec,
        pageSize: args.pageSize,
        nextPageToken: args.nextPageToken,
      }),
  });

  add('list_pending_approvals', {
    title: 'List pending approvals',
    description:
      'Steps of running runs that wait for a decision, oldest first, with whether the caller may decide each ' +
      '(mayDecide). Decide one with decide_approval.',
    role: 'viewer',
    input: z.strictObject({
      spec: specNameSchema.optional().meta({ description: 'Only runs of this spec.' }),
      mine: z.boolean().optional().meta({ description: 'true: only approvals the caller may decide.' }),
      pageSize,
      nextPageToken: pageToken,
    }),
    output: listApprovalsResponseSchema,
    annotations: { readOnlyHint: true },
    run: (args, call) => inbox.list(args, call.identity, services.urls(call.extra)),
  });

  add('decide_approval', {
    title: 'Decide an approval',
    description:
      'Approves or rejects a step that waits for approval, as the caller. Refused when the step names approvers ' +
      'that do not include the caller, when it is not waiting (already decided, timed out) or the run is closed.',
    role: 'approver',
    input: z.strictObject({
      workflowId,
      stepId: boundedText(1000, { min: 1 }).meta({
        description: 'The waiting step, as list_pending_approvals or get_run (progress.pendingApprovals) shows it.',
      }),
      decision: approvalDecisionBodySchema.shape.decision,
      comment: approvalDecisionBodySchema.shape.comment.meta({ description: 'Recorded with the decision.' }),
      choice: approvalDecisionBodySchema.shape.choice.meta({
        description: 'One of the approval’s choices, if it offers any.',
      }),
      idempotencyKey: idempotencyKeySchema.meta({
        description: 'Names this decision: a retry with the same key and decision gets the first answer.',
      }),
    }),
    output: approvalResponseSchema,
    annotations: { idempotentHint: true },
    run: (args, call) =>
      runs.approve(
        args.workflowId,
        args.stepId,
        { decision: args.decision, comment: args.comment, choice: args.choice },
        args.idempotencyKey,
        // The decision channel the run records: the API's (MCP is another door into the same API).
        { identity: call.identity, channel: 'api' },
      ),
  });

  add('cancel_run', {
    title: 'Cancel a run',
    description: 'Requests cancellation: running steps are cancelled and the run closes as cancelled.',
    role: 'operator',
    input: z.strictObject({
      workflowId,
      reason: boundedText(1000).optional().meta({ description: 'Recorded in the run history.' }),
    }),
    output: stopRunResponseSchema,
    annotations: { destructiveHint: true, idempotentHint: false },
    run: (args) => runs.cancel(args.workflowId, args.reason === undefined ? undefined : { reason: args.reason }),
  });

  add('wait_for_run', {
    title: 'Wait for a run',
    description:
      'Waits until the run closes or timeoutSeconds pass, and returns it as get_run does. With a progressToken ' +
      'the caller gets a progress notification whenever what the run waits on changes (and every 15 s).',
    role: 'viewer',
    input: z.strictObject({
      workflowId,
      timeoutSeconds: z
        .number()
        .min(0)
        .max(MAX_WAIT_SECONDS)
        .default(DEFAULT_WAIT_SECONDS)
        .meta({ description: `How long to wait at most, in seconds; default ${DEFAULT_WAIT_SECONDS}.` }),
    }),
    output: waitForRunResultSchema,
    annotations: { readOnlyHint: true },
    run: (args, call) => {
      const token = call.extra._meta?.progressToken;
      return waitForRun((id) => runs.describe(id), args.workflowId, {
        timeoutMs: args.timeoutSeconds * 1000,
        pollMs: services.waitPollMs,
        signal: call.extra.signal,
        closed: (signal) => services.executionClosed(args.workflowId, signal),
        progress:
          token === undefined
            ? undefined
            : (progress, message) =>
                call.extra.sendNotification({
                  method: 'notifications/progress',
                  params: { progressToken: token, progress, message },
                }),
      });
    },
  });
}
