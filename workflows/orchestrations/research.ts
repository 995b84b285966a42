/**
 * The `research` orchestration as a step kind: a question is split into N sub-questions (one
 * model call), N researcher agents answer them in parallel (at most `maxConcurrentAgents` at a
 * time), M synthesisers each merge a share of the findings, and one executive writes the report.
 * Every call is a step of its own under this one (`<id>[i].researcher`, …), so each shows in
 * progress and history with its usage; the output keeps every level. More researchers than the
 * run's `maxInlineAgents` run in child workflows of that many each (their steps show there).
 */
import { z } from 'zod';
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { durationSchema } from '../contracts/duration';
import { retrySchema, stepIdSchema } from '../spec/common';
import type { AgentStep, LlmStep, ResearchStep } from '../contracts/spec';
import type { UsageTotals } from '../contracts/llm';
import { budgetSchema, modelStepShape } from '../llm/step-fields';
import { TOOL_PATTERN_RE } from '../llm/agent-tools';
import type { AgentResult } from '../llm/agent-loop';
import { asText } from '../steps/llm';
import type { StepContext, StepKind } from '../steps/step-kind';
import { countOf, countSchema as count, runBounded, type Outcome } from './bounded';

export interface Finding {
  subQuestion: string;
  status: 'completed' | 'failed';
  answer?: string;
  error?: string;
  iterations?: number;
  toolCalls?: number;
}

export interface ResearchOutput {
  question: string;
  report: string;
  subQuestions: string[];
  findings: Finding[];
  syntheses: Array<{ findings: number[]; text: string }>;
  usage: UsageTotals;
  durationMs: number;
}

const roles = z.strictObject({
  planner: z.string().optional(),
  researcher: z.string().optional(),
  synthesiser: z.string().optional(),
  executive: z.string().optional(),
});

const SYSTEM = {
  planner: 'You plan research. Split the question into distinct, self-contained sub-questions that together cover it.',
  researcher:
    'You are a researcher. Answer your sub-question thoroughly and factually; use the tools you have when they help. Reply with your findings.',
  synthesiser:
    'You synthesise research findings: merge them into one coherent account, keep the facts, note disagreements.',
  executive:
    'You write the final research report from the syntheses: a clear answer to the question, then the supporting detail.',
};

function systemFor(role: keyof typeof SYSTEM, step: ResearchStep, ctx: StepContext): string {
  const extra = step.instructions?.[role];
  return extra === undefined ? SYSTEM[role] : `${SYSTEM[role]}\n\n${asText(ctx.resolve(extra))}`;
}

/** Runs before it ran every researcher in the run's own history, however many. */
export const RESEARCHERS_IN_CHILDREN_PATCH = 'researchers-in-child-workflows';

/** Contiguous shares: synthesiser i gets findings [⌊i·n/m⌋, ⌊(i+1)·n/m⌋). */
export function shares(n: number, m: number): number[][] {
  return Array.from({ length: m }, (_, i) => {
    const from = Math.floor((i * n) / m);
    const to = Math.floor(((i + 1) * n) / m);
    return Array.from({ length: to - from }, (_, k) => from + k);
  });
}

export async function runResearch(step: ResearchStep, ctx: StepContext): Promise<ResearchOutput> {
  const startedAt = Date.now();
  if (step.budget) ctx.ledger.limit(step.budget);
  const question = asText(ctx.resolve(step.question));
  const n = countOf(ctx.resolve(step.subQuestions ?? 5), 'subQuestions', ctx.path, 1, 100);
  const m = countOf(ctx.resolve(step.synthesisers ?? 2), 'synthesisers', ctx.path, 1, 100);
  const parallel = countOf(ctx.resolve(step.maxConcurrentAgents ?? 10), 'maxConcurrentAgents', ctx.path, 1, 100);
  const model = (role: keyof NonNullable<ResearchStep['models']>) => step.models?.[role] ?? step.model;
  const call = { timeout: step.timeout, heartbeatTimeout: step.heartbeatTimeout, retry: step.retry };

  const planner: LlmStep = {
    id: 'plan',
    kind: 'llm',
    model: model('planner'),
    system: systemFor('planner', step, ctx),
    prompt: 'Question: ${question}\n\nSplit it into exactly ${n} sub-questions.',
    schema: {
      type: 'object',
      properties: {
        subQuestions: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: n, maxItems: n },
      },
      required: ['subQuestions'],
    },
    ...call,
  };
  const plan = (await ctx.runIsolated([planner], 0, { question, n })) as { subQuestions: string[] };

  const researcher: AgentStep = {
    id: 'researcher',
    kind: 'agent',
    model: model('researcher'),
    system: systemFor('researcher', step, ctx),
    prompt: 'The overall question: ${question}\n\nYour sub-question: ${subQuestion}',
    tools: step.tools,
    requireApproval: step.requireApproval,
    maxIterations: step.maxIterations ?? 5,
    onMaxIterations: 'finalAnswer',
    ...call,
  };
  const perChild = ctx.options.maxInlineAgents;
  const researched =
    n > perChild && patched(RESEARCHERS_IN_CHILDREN_PATCH)
      ? ((await ctx.runInChildren(
          [researcher],
          Array.from({ length: n }, (_, i) => ({ question, subQuestion: plan.subQuestions[i] })),
          { perChild, maxConcurrency: parallel, mode: 'collect' },
        )) as Array<Outcome<AgentResult>>)
      : await runBounded(
          n,
          parallel,
          (i) =>
            ctx.runIsolated([researcher], i, { question, subQuestion: plan.subQuestions[i] }) as Promise<AgentResult>,
        );
  const findings: Finding[] = researched.map((r: Outcome<AgentResult>, i) => ({
    subQuestion: plan.subQuestions[i] as string,
    ...(r.status === 'completed'
      ? {
          status: 'completed',
          answer: asText(r.output.answer),
          iterations: r.output.iterations,
          toolCalls: r.output.toolCalls,
        }
      : { status: 'failed', error: r.error }),
  }));
  const answered = findings.flatMap((f, i) => (f.status === 'completed' ? [i] : []));
  if (answered.length === 0) {
    throw ApplicationFailure.create({
      type: 'ResearchFailed',
      message: `every researcher failed: ${findings.map((f) => f.error).join('; ')}`,
      nonRetryable: true,
    });
  }

  const synthesiser: LlmStep = {
    id: 'synthesiser',
    kind: 'llm',
    model: model('synthesiser'),
    system: systemFor('synthesiser', step, ctx),
    prompt: 'The question: ${question}\n\nFindings:\n\n${findings}',
    ...call,
  };
  const groups = shares(answered.length, Math.min(m, answered.length)).map((g) => g.map((k) => answered[k] as number));
  const synthesised = await runBounded(groups.length, parallel, async (i) => {
    const group = groups[i] as number[];
    const text = group.map((f) => `## ${findings[f]?.subQuestion}\n${findings[f]?.answer}`).join('\n\n');
    return ctx.runIsolated([synthesiser], i, { question, findings: text }) as Promise<string>;
  });
  const failed = synthesised.find((s) => s.status === 'failed');
  if (failed && failed.status === 'failed') {
    throw ApplicationFailure.create({
      type: 'ResearchFailed',
      message: `a synthesiser failed: ${failed.error}`,
      nonRetryable: true,
    });
  }
  const syntheses = synthesised.map((s, i) => ({
    findings: groups[i] as number[],
    text: s.status === 'completed' ? s.output : '',
  }));

  const executive: LlmStep = {
    id: 'executive',
    kind: 'llm',
    model: model('executive'),
    system: systemFor('executive', step, ctx),
    prompt: 'The question: ${question}\n\nSyntheses:\n\n${syntheses}',
    ...call,
  };
  const report = (await ctx.runIsolated([executive], 0, {
    question,
    syntheses: syntheses.map((s, i) => `## Synthesis ${i + 1}\n${s.text}`).join('\n\n'),
  })) as string;

  return {
    question,
    report,
    subQuestions: plan.subQuestions,
    findings,
    syntheses,
    usage: ctx.ledger.spent(),
    durationMs: Date.now() - startedAt,
  };
}

export const researchKind: StepKind<ResearchStep> = {
  kind: 'research',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('research'),
      name: z.string().optional(),
      question: z.string().min(1),
      subQuestions: count.optional(),
      synthesisers: count.optional(),
      maxConcurrentAgents: count.optional(),
      model: modelStepShape.model,
      models: roles.optional(),
      tools: z.array(z.string().regex(TOOL_PATTERN_RE, 'tools are addressed server.tool or server.*')).optional(),
      requireApproval: z
        .array(z.string().regex(TOOL_PATTERN_RE, 'tools are addressed server.tool or server.*'))
        .optional(),
      maxIterations: z.number().int().min(1).max(100).optional(),
      instructions: roles.optional(),
      budget: budgetSchema.optional(),
      timeout: durationSchema.optional(),
      heartbeatTimeout: durationSchema.optional(),
      retry: retrySchema.optional(),
    }),
  models: (step) => [step.model, ...Object.values(step.models ?? {})],
  run: runResearch,
};
