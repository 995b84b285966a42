import { z } from 'zod';
import { patched } from '@temporalio/workflow';
import { durationSchema } from '../contracts/duration';
import { retrySchema, stepIdSchema } from '../spec/common';
import type { AgentStep } from '../contracts/spec';
import { resolveAgentTools, TOOL_PATTERN_RE } from '../llm/agent-tools';
import { runAgentLoop, type AgentLoopOptions, type AgentResult } from '../llm/agent-loop';
import { runAgentInChild } from '../llm/agent-workflow';
import { callOptionsOf, modelOf, modelStepShape, outputSchemaSchema } from '../llm/step-fields';
import { asText } from './llm';
import type { StepContext, StepKind } from './step-kind';

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
