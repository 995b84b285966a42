import { z } from 'zod';
import { patched } from '@temporalio/workflow';
import { durationSchema, retrySchema, stepIdSchema, type RetrySpec } from '../spec/common';
import type { Duration } from '../spec/duration';
import { resolveAgentTools, TOOL_PATTERN_RE } from '../llm/agent-tools';
import { runAgentLoop, type AgentLoopOptions, type AgentResult } from '../llm/agent-loop';
import { runAgentInChild } from '../llm/agent-workflow';
import { callOptionsOf, modelOf, modelStepShape, outputSchemaSchema, type ModelStepFields } from '../llm/step-fields';
import { asText } from './llm';
import type { BaseStep, StepContext, StepKind } from './step-kind';

/**
 * A model that may call MCP tools: model → tool calls (in parallel, one activity each) → results
 * → model, up to `maxIterations` turns. The output is `{ answer, iterations, toolCalls }`; each
 * turn shows in the step's `progress`. An agent that may take more turns than the run's
 * `maxInlineAgentTurns` runs its loop in a child workflow that continues as new (its progress
 * then shows the turn of its latest request and, at the end, the last turns).
 */
export interface AgentStep extends BaseStep, ModelStepFields {
  kind: 'agent';
  system?: string;
  prompt: string;
  /** MCP tools the model may call: `server.tool` or `server.*`. */
  tools?: string[];
  /** Tools (same patterns) whose every call waits for a human approval first. */
  requireApproval?: string[];
  approvers?: string[];
  /** Turns in which the model may call tools. Default 10. */
  maxIterations?: number;
  onMaxIterations?: 'fail' | 'finalAnswer';
  /** JSON Schema of the final answer. */
  schema?: Record<string, unknown>;
  maxRepairs?: number;
  /** Longest tool result passed back to the model, in characters. Default 20,000. */
  maxToolResultChars?: number;
  toolTimeout?: Duration;
  toolRetry?: RetrySpec;
}

export const DEFAULT_MAX_ITERATIONS = 10;
/** A long loop continues as new in its own workflow, so the limit is about cost, not history. */
export const MAX_AGENT_ITERATIONS = 1000;
/** Runs before it ran every agent loop in the run's own history, however long. */
export const AGENT_LOOP_CHILD_PATCH = 'agent-loop-in-child-workflow';
const DEFAULT_MAX_TOOL_RESULT_CHARS = 20_000;
const toolPatternSchema = z
  .string()
  .regex(TOOL_PATTERN_RE, 'tools are addressed server.tool or server.*, e.g. fs.read_text_file');

export const agentStepShape = {
  ...modelStepShape,
  system: z.string().optional(),
  tools: z.array(toolPatternSchema).optional(),
  requireApproval: z.array(toolPatternSchema).optional(),
  approvers: z.array(z.string().min(1)).optional(),
  maxIterations: z.number().int().min(1).max(MAX_AGENT_ITERATIONS).optional(),
  onMaxIterations: z.enum(['fail', 'finalAnswer']).optional(),
  schema: outputSchemaSchema.optional(),
  maxRepairs: z.number().int().min(0).max(10).optional(),
  maxToolResultChars: z.number().int().min(100).optional(),
  toolTimeout: durationSchema.optional(),
  toolRetry: retrySchema.optional(),
};

/** Runs an agent step's loop; research and swarm run their agents through it too. */
export async function runAgentStep(step: AgentStep, ctx: StepContext): Promise<AgentResult> {
  if (step.budget) ctx.ledger.limit(step.budget);
  const tools = await resolveAgentTools(step.tools ?? [], ctx.path);
  const options: AgentLoopOptions = {
    model: modelOf(step, ctx.resolve),
    system: step.system === undefined ? undefined : asText(ctx.resolve(step.system)),
    prompt: asText(ctx.resolve(step.prompt)),
    tools,
    requireApproval: step.requireApproval ?? [],
    approvers: step.approvers,
    maxIterations: step.maxIterations ?? DEFAULT_MAX_ITERATIONS,
    onMaxIterations: step.onMaxIterations ?? 'fail',
    schema: step.schema && { schema: step.schema },
    maxRepairs: step.maxRepairs,
    maxTokens: step.maxTokens,
    temperature: step.temperature,
    maxToolResultChars: step.maxToolResultChars ?? DEFAULT_MAX_TOOL_RESULT_CHARS,
    call: callOptionsOf(step),
    toolCall: { timeout: step.toolTimeout, retry: step.toolRetry },
  };
  const turns = options.maxIterations + (options.onMaxIterations === 'finalAnswer' ? 1 : 0);
  if (turns > ctx.options.maxInlineAgentTurns && patched(AGENT_LOOP_CHILD_PATCH)) return runAgentInChild(ctx, options);
  return runAgentLoop(ctx, options);
}

export const agentKind: StepKind<AgentStep> = {
  kind: 'agent',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('agent'),
      name: z.string().optional(),
      prompt: z.string().min(1),
      ...agentStepShape,
    }),
  models: (step) => [step.model],
  run: runAgentStep,
};
