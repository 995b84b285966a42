/**
 * How the API logs, from the environment: LOG_FORMAT (json, the default, or text for a person at a
 * terminal) and LOG_LEVEL (pino's levels; `info` writes a line per request).
 */
import type { LevelWithSilent } from 'pino';
import { z } from 'zod';
import { parseConfig } from '../../config/config-errors';
import { LOG_FORMATS, type LogFormat } from '../../config/json-logger';

export const API_LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface ApiLogConfig {
  format: LogFormat;
  level: LevelWithSilent;
}

const schema = z.object({
  LOG_FORMAT: z.enum(LOG_FORMATS, { message: `must be one of ${LOG_FORMATS.join(', ')}` }).default('json'),
  LOG_LEVEL: z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(API_LOG_LEVELS, { message: `must be one of ${API_LOG_LEVELS.join(', ')}` }))
    .default('info'),
});

export function loadApiLogConfig(env: NodeJS.ProcessEnv = process.env): ApiLogConfig {
  const parsed = parseConfig(
    schema,
    { LOG_FORMAT: env.LOG_FORMAT || undefined, LOG_LEVEL: env.LOG_LEVEL || undefined },
    'environment',
  );
  return { format: parsed.LOG_FORMAT, level: parsed.LOG_LEVEL };
}
