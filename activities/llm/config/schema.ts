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

export const providerSchema = z.strictObject({
  type: z.enum(['openai', 'anthropic']),
  baseUrl: z.url('must be a URL, e.g. http://127.0.0.1:11434/v1').optional(),
  /** Variables holding the keys; each may hold several, separated by commas. Never the keys themselves. */
  apiKeyEnv: z.union([envName, z.array(envName).min(1)]).optional(),
  /** true: a provider whose key variables are unset is left out (with a warning) instead of stopping the worker. */
  optional: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  maxTokensParam: z.enum(['max_tokens', 'max_completion_tokens']).optional(),
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
