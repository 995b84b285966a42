/** Fields that every step calling a model shares (llm, agent, research, swarm), and their schema. */
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/workflow';
import { durationSchema, retrySchema } from '../spec/common';
import type { Duration } from '../spec/duration';
import type { RetrySpec } from '../spec/common';
import type { Budget } from './ledger';
import type { ModelCallOptions } from './model-call';

export interface ModelStepFields {
  /** A model name from the worker's models config. */
  model: string;
  maxTokens?: number;
  temperature?: number;
  /** Tokens and/or US dollars this step may spend before a human must raise it. */
  budget?: Budget;
  timeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetrySpec;
}

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
