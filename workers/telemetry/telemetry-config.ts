/**
 * A worker's logs and metrics, from the environment: LOG_FORMAT (json, the default, or text),
 * WORKER_LOG_LEVEL (the SDK's levels; WARN by default, its INFO lines are for debugging) and
 * WORKER_METRICS_ADDRESS (host:port of the SDK runtime's Prometheus endpoint; unset: none).
 */
import type { LogLevel } from '@temporalio/worker';
import { z } from 'zod';
import { parseConfig } from '../../config/config-errors';
import { LOG_FORMATS, type LogFormat } from '../../config/json-logger';

export const WORKER_LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const satisfies LogLevel[];

export interface WorkerTelemetryConfig {
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** Where the Prometheus endpoint listens, e.g. `127.0.0.1:9464`; undefined: no metrics. */
  metricsAddress?: string;
}

/** `127.0.0.1:9464`, `0.0.0.0:9464`, `[::1]:9464`, `worker-1.internal:9464`. */
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const schema = z.object({
  LOG_FORMAT: z.enum(LOG_FORMATS, { message: `must be one of ${LOG_FORMATS.join(', ')}` }).default('json'),
  WORKER_LOG_LEVEL: z
    .string()
    .transform((v) => v.toUpperCase())
    .pipe(z.enum(WORKER_LOG_LEVELS, { message: `must be one of ${WORKER_LOG_LEVELS.join(', ')}` }))
    .default('WARN'),
  WORKER_METRICS_ADDRESS: z
    .string()
    .refine((v) => {
      const port = Number(HOST_PORT.exec(v)?.[2]);
      return port >= 1 && port <= 65535;
    }, 'must be host:port with a port from 1 to 65535, e.g. 127.0.0.1:9464 (each worker on a host needs its own port)')
    .optional(),
});

export function loadWorkerTelemetryConfig(env: NodeJS.ProcessEnv = process.env): WorkerTelemetryConfig {
  const parsed = parseConfig(
    schema,
    {
      LOG_FORMAT: env.LOG_FORMAT || undefined,
      WORKER_LOG_LEVEL: env.WORKER_LOG_LEVEL || undefined,
      WORKER_METRICS_ADDRESS: env.WORKER_METRICS_ADDRESS || undefined,
    },
    'environment',
  );
  return {
    logFormat: parsed.LOG_FORMAT,
    logLevel: parsed.WORKER_LOG_LEVEL,
    ...(parsed.WORKER_METRICS_ADDRESS && { metricsAddress: parsed.WORKER_METRICS_ADDRESS }),
  };
}
