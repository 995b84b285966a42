/**
 * The `swarm` orchestration as a step kind: K agents attempt the same task independently (in
 * parallel, at most `maxConcurrentAgents` at a time, optionally on different models), then a
 * judge reads every attempt and either picks the best or merges them.
 */
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/workflow';
import { durationSchema } from '../contracts/duration';
import { retrySchema, stepIdSchema } from '../spec/common';
import type { AgentStep, LlmStep, SwarmStep } from '../contracts/spec';
import type { UsageTotals } from '../contracts/llm';
import { budgetSchema, modelStepShape } from '../llm/step-fields';
import { TOOL_PATTERN_RE } from '../llm/agent-tools';
import type { AgentResult } from '../llm/agent-loop';
import { asText } from '../steps/llm';
import type { StepContext, StepKind } from '../steps/step-kind';
import { countOf, countSchema as count, runBounded } from './bounded';

export interface SwarmVerdict {
  decision: 'pick' | 'merge';
  /** 1-based number of the attempt picked (pick only). */
  chosen?: number;
  answer: string;
  reasoning: string;
}

export interface SwarmOutput {
  task: string;
  attempts: Array<{ agent: number; model: string; status: 'completed' | 'failed'; answer?: string; error?: string }>;
  verdict: SwarmVerdict;
  answer: string;
  usage: UsageTotals;
  durationMs: number;
}

const JUDGE_SYSTEM: Record<NonNullable<SwarmStep['mode']>, string> = {
  pick: 'You judge independent attempts at one task. Pick the best attempt (decision "pick", its number in "chosen") and give its answer.',
  merge: 'You judge independent attempts at one task. Merge the best parts of them into one answer (decision "merge").',
  auto: 'You judge independent attempts at one task. Either pick the best attempt (decision "pick", its number in "chosen") or, when their best parts complement each other, merge them (decision "merge").',
};

export async function runSwarm(step: SwarmStep, ctx: StepContext): Promise<SwarmOutput> {
  const startedAt = Date.now();
  if (step.budget) ctx.ledger.limit(step.budget);
  const task = asText(ctx.resolve(step.task));
  const k = countOf(ctx.resolve(step.agents ?? 3), 'agents', ctx.path, 1, 100);
  const parallel = countOf(ctx.resolve(step.maxConcurrentAgents ?? 10), 'maxConcurrentAgents', ctx.path, 1, 100);
  const call = { timeout: step.timeout, heartbeatTimeout: step.heartbeatTimeout, retry: step.retry };
  const modelOfAgent = (i: number) => step.agentModels?.[i % step.agentModels.length] ?? step.model;

  const outcomes = await runBounded(k, parallel, (i) => {
    const agent: AgentStep = {
      id: 'agent',
      kind: 'agent',
      model: modelOfAgent(i),
      system: 'Work on the task on your own and give your complete answer.',
      prompt: '${task}',
      tools: step.tools,
      requireApproval: step.requireApproval,
      maxIterations: step.maxIterations ?? 5,
      onMaxIterations: 'finalAnswer',
      ...call,
    };
    return ctx.runIsolated([agent], i, { task }) as Promise<AgentResult>;
  });
  const attempts = outcomes.map((o, i) => ({
    agent: i + 1,
    model: modelOfAgent(i),
    ...(o.status === 'completed'
      ? { status: 'completed' as const, answer: asText(o.output.answer) }
      : { status: 'failed' as const, error: o.error }),
  }));
  const usable = attempts.filter((a) => a.status === 'completed');
  if (usable.length === 0) {
    throw ApplicationFailure.create({
      type: 'SwarmFailed',
      message: `every agent failed: ${attempts.map((a) => (a.status === 'failed' ? a.error : '')).join('; ')}`,
      nonRetryable: true,
    });
  }

  const mode = step.mode ?? 'auto';
  const judge: LlmStep = {
    id: 'judge',
    kind: 'llm',
    model: step.judgeModel ?? step.model,
    system: JUDGE_SYSTEM[mode],
    prompt: 'The task: ${task}\n\n${attempts}',
    schema: {
      type: 'object',
      properties: {
        decision: { enum: mode === 'auto' ? ['pick', 'merge'] : [mode] },
        chosen: { type: 'integer', enum: usable.map((a) => a.agent) },
        answer: { type: 'string' },
        reasoning: { type: 'string' },
      },
      required: ['decision', 'answer', 'reasoning'],
    },
    ...call,
  };
  const verdict = (await ctx.runIsolated([judge], 0, {
    task,
    attempts: usable.map((a) => `## Attempt ${a.agent}\n${a.answer}`).join('\n\n'),
  })) as SwarmVerdict;
  // A pick carries the attempt itself, whatever the judge copied out of it.
  const answer =
    verdict.decision === 'pick' && verdict.chosen !== undefined
      ? (usable.find((a) => a.agent === verdict.chosen)?.answer ?? verdict.answer)
      : verdict.answer;
  return { task, attempts, verdict, answer, usage: ctx.ledger.spent(), durationMs: Date.now() - startedAt };
}

const toolPattern = z.string().regex(TOOL_PATTERN_RE, 'tools are addressed server.tool or server.*');

export const swarmKind: StepKind<SwarmStep> = {
  kind: 'swarm',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('swarm'),
      name: z.string().optional(),
      task: z.string().min(1),
      agents: count.optional(),
      maxConcurrentAgents: count.optional(),
      model: modelStepShape.model,
      agentModels: z.array(modelStepShape.model).min(1).optional(),
      judgeModel: modelStepShape.model.optional(),
      mode: z.enum(['pick', 'merge', 'auto']).optional(),
      tools: z.array(toolPattern).optional(),
      requireApproval: z.array(toolPattern).optional(),
      maxIterations: z.number().int().min(1).max(100).optional(),
      budget: budgetSchema.optional(),
      timeout: durationSchema.optional(),
      heartbeatTimeout: durationSchema.optional(),
      retry: retrySchema.optional(),
    }),
  models: (step) => [step.model, ...(step.agentModels ?? []), ...(step.judgeModel ? [step.judgeModel] : [])],
  run: runSwarm,
};
