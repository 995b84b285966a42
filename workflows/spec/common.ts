import { z } from 'zod';
import type { RetryPolicy } from '@temporalio/common';
import { durationToMs, durationSchema } from '../contracts/duration';
import type { RetrySpec } from '../contracts/spec';

export const stepIdSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'step id must start with a letter and use letters, digits, _ or - (max 64)');

export const retrySchema: z.ZodType<RetrySpec> = z.strictObject({
  maxAttempts: z.number().int().min(1).optional(),
  initialInterval: durationSchema.optional(),
  backoffCoefficient: z.number().min(1).optional(),
  maxInterval: durationSchema.optional(),
  nonRetryableErrorTypes: z.array(z.string()).optional(),
});

export function toRetryPolicy(retry: RetrySpec | undefined): RetryPolicy | undefined {
  if (!retry) return undefined;
  return {
    maximumAttempts: retry.maxAttempts,
    initialInterval: retry.initialInterval === undefined ? undefined : durationToMs(retry.initialInterval),
    backoffCoefficient: retry.backoffCoefficient,
    maximumInterval: retry.maxInterval === undefined ? undefined : durationToMs(retry.maxInterval),
    nonRetryableErrorTypes: retry.nonRetryableErrorTypes,
  };
}
