import { z } from 'zod';
import { stepIdSchema } from '../spec/common';
import { callModel } from '../llm/model-call';
import { callOptionsOf, modelOf, modelStepShape, outputSchemaSchema } from '../llm/step-fields';
import type { LlmStep } from '../contracts/spec';
import type { LlmMessage } from '../contracts/llm';
import type { StepKind } from './step-kind';

/** Expressions may resolve to any JSON value; a model reads text. */
export function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

export const llmKind: StepKind<LlmStep> = {
  kind: 'llm',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('llm'),
      name: z.string().optional(),
      ...modelStepShape,
      system: z.string().optional(),
      prompt: z.string().min(1),
      schema: outputSchemaSchema.optional(),
      maxRepairs: z.number().int().min(0).max(10).optional(),
    }),
  models: (step) => [step.model],
  async run(step, ctx) {
    if (step.budget) ctx.ledger.limit(step.budget);
    const messages: LlmMessage[] = [];
    if (step.system !== undefined) messages.push({ role: 'system', content: asText(ctx.resolve(step.system)) });
    messages.push({ role: 'user', content: asText(ctx.resolve(step.prompt)) });
    const reply = await callModel(
      ctx.ledger,
      {
        model: modelOf(step, ctx.resolve),
        messages,
        schema: step.schema && { schema: step.schema },
        maxRepairs: step.maxRepairs,
        maxTokens: step.maxTokens,
        temperature: step.temperature,
      },
      { ...callOptionsOf(step), summary: ctx.path },
    );
    return step.schema ? reply.object : reply.text;
  },
};
