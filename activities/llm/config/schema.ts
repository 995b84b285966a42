import { z } from 'zod';

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable, e.g. OPENAI_API_KEYS');
/** A number, or text that is one (what `${VAR:-0.15}` expands to). */
const nonNegative = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a number')
      .transform(Number),
  ])
  .pipe(z.number().nonnegative());
/** A positive number, or text that is one. */
const positive = z
  .union(
    [
      z.number(),
      z
        .string()
        .regex(/^\d+(\.\d+)?$/)
        .transform(Number),
    ],
    { error: 'must be a number' },
  )
  .pipe(z.number().positive('must be greater than 0'));
const positiveInt = positive.pipe(z.number().int('must be a whole number'));

/**
 * Limits that hold across every orchestrator worker: the provider's calls run on a task queue of
 * their own whose dispatch rate the Temporal server enforces (activities/llm/route.ts).
 */
export const providerLimitsSchema = z
  .strictObject({
    /** Calls started per second, all workers together (the queue's maxTaskQueueActivitiesPerSecond). */
    callsPerSecond: positive.optional(),
    /** Calls running at once on one worker process (the queue worker's activity slots). */
    concurrentPerWorker: positiveInt.optional(),
  })
  .refine((l) => l.callsPerSecond !== undefined || l.concurrentPerWorker !== undefined, {
    message: 'set callsPerSecond, concurrentPerWorker or both',
  });

export const providerSchema = z.strictObject({
  type: z.enum(['openai', 'anthropic']),
  baseUrl: z.url('must be a URL, e.g. http://127.0.0.1:11434/v1').optional(),
  /** Variables holding the keys; each may hold several, separated by commas. Never the keys themselves. */
  apiKeyEnv: z.union([envName, z.array(envName).min(1)]).optional(),
  /** true: a provider whose key variables are unset is left out (with a warning) instead of stopping the worker. */
  optional: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  maxTokensParam: z.enum(['max_tokens', 'max_completion_tokens']).optional(),
  limits: providerLimitsSchema.optional(),
});

export const modelSchema = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1),
  price: z.strictObject({ inputPerMTok: nonNegative, outputPerMTok: nonNegative }).optional(),
  maxTokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
});

const nameSchema = z.string().regex(/^[A-Za-z0-9][\w.:-]{0,99}$/, 'names use letters, digits, ".", ":", "_" or "-"');

export const modelsFileSchema = z.strictObject({
  $schema: z.string().optional(),
  providers: z.record(nameSchema, providerSchema),
  models: z.record(nameSchema, modelSchema),
});

export type ModelsFile = z.infer<typeof modelsFileSchema>;
