import { z } from 'zod';
import { parseConfig } from '../../config/config-errors';
import { DEFAULT_METRICS_CACHE_MS } from './metrics.module';

const schema = z.object({
  METRICS_CACHE_MS: z
    .string()
    .regex(/^\d{1,7}$/, 'must be a number of milliseconds, e.g. 10000')
    .default(String(DEFAULT_METRICS_CACHE_MS))
    .transform(Number),
});

/** METRICS_CACHE_MS: how long GET /metrics reuses the figures it read from Temporal (0: read on every scrape). */
export function loadMetricsCacheMs(env: NodeJS.ProcessEnv = process.env): number {
  return parseConfig(schema, { METRICS_CACHE_MS: env.METRICS_CACHE_MS || undefined }, 'environment').METRICS_CACHE_MS;
}
