import { z } from 'zod';
import { ActivityCancellationType, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import { durationSchema, durationToMs } from '../contracts/duration';
import { retrySchema, stepIdSchema, toRetryPolicy } from '../spec/common';
import type { RetrySpec, ToolStep } from '../contracts/spec';
import type { StepKind } from './step-kind';
import type { McpFailureType, McpToolActivities, ToolCatalogue, ToolDescriptor } from '../contracts/tool';

// ---- The step kind. ----

export const TOOL_ADDRESS_RE = /^[A-Za-z0-9_-]{1,64}\.[^\s.$][^\s$]*$/;
export const DEFAULT_TOOL_TIMEOUT = '5m';
/** Cancellation reaches an activity only through a heartbeat, so tool calls always heartbeat. */
export const DEFAULT_TOOL_HEARTBEAT_TIMEOUT = '10s';
const DEFAULT_TOOL_RETRY: RetrySpec = {
  maxAttempts: 5,
  initialInterval: '1s',
  backoffCoefficient: 2,
  maxInterval: '30s',
};

/**
 * Catalogues this run has seen, by server. Workflow module state is per execution, so this is
 * per run; replay rebuilds it from the recorded activity results, whatever the servers say now.
 */
const catalogues = new Map<string, Promise<ToolCatalogue>>();

function failure(type: McpFailureType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    details: details === undefined ? [] : [details],
  });
}

export interface CatalogueOptions {
  /** List again even if the run has a catalogue of this server (the new list is recorded too). */
  refresh?: boolean;
  retry?: RetryPolicy;
  /** Activity summary shown in the Web UI. */
  summary?: string;
  /** The listing's start-to-close timeout (default and most: 1 minute); connecting counts in it. */
  startToCloseTimeoutMs?: number;
  /** Set: the listing heartbeats, so a cancelled step stops it while a server is still connecting. */
  heartbeatTimeoutMs?: number;
}

/**
 * `server`'s tools as this run sees them: listed once per run through an activity, so the list is
 * in the history, and shared by every step of the run. Agent steps can offer a model the same
 * tools through it.
 */
export function runCatalogue(server: string, opts: CatalogueOptions = {}): Promise<ToolCatalogue> {
  const known = catalogues.get(server);
  if (known && !opts.refresh) return known;
  const { mcpListTools } = proxyActivities<McpToolActivities>({
    startToCloseTimeout: Math.min(opts.startToCloseTimeoutMs ?? 60_000, 60_000),
    ...(opts.heartbeatTimeoutMs ? { heartbeatTimeout: opts.heartbeatTimeoutMs } : {}),
    retry: opts.retry ?? toRetryPolicy(DEFAULT_TOOL_RETRY),
    summary: opts.summary ?? `tools of ${server}`,
  });
  const pending = mcpListTools(opts.refresh ? { server, fresh: true } : { server });
  catalogues.set(server, pending);
  // A failed listing is not kept: a later step asks again.
  pending.catch(() => {
    if (catalogues.get(server) === pending) catalogues.delete(server);
  });
  return pending;
}

/** The run's view of a tool; a name it has not seen triggers one (recorded) refresh before failing. */
async function describeTool(server: string, tool: string, opts: CatalogueOptions): Promise<ToolDescriptor> {
  let catalogue = await runCatalogue(server, opts);
  let found = catalogue.tools.find((t) => t.name === tool);
  if (!found) {
    catalogue = await runCatalogue(server, { ...opts, refresh: true });
    found = catalogue.tools.find((t) => t.name === tool);
  }
  if (!found) {
    const available = catalogue.tools.map((t) => `${server}.${t.name}`);
    throw failure('McpUnknownTool', `unknown tool "${server}.${tool}" (available: ${available.join(', ') || 'none'})`, {
      available,
    });
  }
  return found;
}

function checkArguments(address: string, args: unknown, tool: ToolDescriptor): Record<string, unknown> {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw failure('McpInvalidArguments', `${address}: args must resolve to an object`);
  }
  const missing = (tool.inputSchema.required ?? []).filter((k) => (args as Record<string, unknown>)[k] === undefined);
  if (missing.length) {
    throw failure('McpInvalidArguments', `${address}: missing required argument(s) ${missing.join(', ')}`, { missing });
  }
  return args as Record<string, unknown>;
}

export const toolKind: StepKind<ToolStep> = {
  kind: 'tool',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('tool'),
      name: z.string().optional(),
      tool: z.string().regex(TOOL_ADDRESS_RE, 'tool must be addressed as server.tool, e.g. fs.read_text_file'),
      args: z.record(z.string(), z.unknown()).optional(),
      startToCloseTimeout: durationSchema.optional(),
      heartbeatTimeout: durationSchema.optional(),
      retry: retrySchema.optional(),
    }),
  async run(step, ctx) {
    const dot = step.tool.indexOf('.');
    const server = step.tool.slice(0, dot);
    const tool = step.tool.slice(dot + 1);
    const retry = toRetryPolicy(step.retry ?? DEFAULT_TOOL_RETRY);
    const startToCloseTimeoutMs = durationToMs(step.startToCloseTimeout ?? DEFAULT_TOOL_TIMEOUT);
    const heartbeatTimeoutMs = durationToMs(step.heartbeatTimeout ?? DEFAULT_TOOL_HEARTBEAT_TIMEOUT);
    const { mcpCallTool } = proxyActivities<McpToolActivities>({
      startToCloseTimeout: startToCloseTimeoutMs,
      heartbeatTimeout: heartbeatTimeoutMs,
      retry,
      summary: ctx.path,
      // The run reports the step cancelled only once the MCP request was cancelled too.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    });
    const descriptor = await describeTool(server, tool, {
      retry,
      summary: `${ctx.path}: tools of ${server}`,
      startToCloseTimeoutMs,
      heartbeatTimeoutMs,
    });
    const args = checkArguments(step.tool, ctx.resolve(step.args ?? {}), descriptor);
    return mcpCallTool({ server, tool, arguments: args, step: ctx.path });
  },
};
