/** Fields that every step calling a model shares (llm, agent, research, swarm), and their schema. */
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/workflow';
import { durationSchema } from '../contracts/duration';
import { retrySchema } from '../spec/common';
import type { ModelStepFields } from '../contracts/spec';
import type { ModelCallOptions } from './model-call';

export const budgetSchema = z
  .strictObject({
    tokens: z.number().int().positive().optional(),
    usd: z.number().positive().optional(),
  })
  .refine((b) => b.tokens !== undefined || b.usd !== undefined, { message: 'give tokens, usd or both' });

/** A JSON Schema for structured output: an object, checked by the activity with ajv. */
export const outputSchemaSchema = z.record(z.string(), z.unknown());

export const modelStepShape = {
  model: z
    .string()
    .regex(
      /^([A-Za-z0-9][\w.:-]{0,99}|\$\{[^}]+\})$/,
      'model must name a model of the models config (e.g. default) or be one expression',
    ),
  maxTokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  budget: budgetSchema.optional(),
  timeout: durationSchema.optional(),
  heartbeatTimeout: durationSchema.optional(),
  retry: retrySchema.optional(),
};

/** The model name, which may come from an expression such as `${inputs.model}`. */
export function modelOf(step: { model: string }, resolve: (v: unknown) => unknown): string {
  const model = resolve(step.model);
  if (typeof model !== 'string' || !model) {
    throw ApplicationFailure.create({
      type: 'InvalidSpec',
      message: `model must resolve to a model name, got ${JSON.stringify(model)}`,
      nonRetryable: true,
    });
  }
  return model;
}

export function callOptionsOf(step: ModelStepFields): ModelCallOptions {
  return { timeout: step.timeout, heartbeatTimeout: step.heartbeatTimeout, retry: step.retry };
}
