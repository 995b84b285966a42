/**
 * The SDK runtime of a worker process: its logger (JSON lines through pino, the SDK core's own
 * lines forwarded to it) and, with WORKER_METRICS_ADDRESS, the Prometheus endpoint that serves
 * the SDK's `temporal_*` metrics and the product's (workflows/contracts/metrics.ts).
 */
import { DefaultLogger, Runtime, type RuntimeOptions } from '@temporalio/worker';
import { ConfigError } from '../../config/config-errors';
import { createJsonLogger } from '../../config/json-logger';
import { PRODUCT_HISTOGRAM_BUCKETS } from '../../workflows/contracts/metrics';
import { PinoSdkLogger } from './sdk-logger';
import type { WorkerTelemetryConfig } from './telemetry-config';

export function workerRuntimeOptions(name: string, config: WorkerTelemetryConfig): RuntimeOptions {
  const json = config.logFormat === 'json';
  return {
    logger: json
      ? new PinoSdkLogger(createJsonLogger({ name, level: config.logLevel.toLowerCase() as 'warn' }))
      : new DefaultLogger(config.logLevel),
    telemetryOptions: {
      // JSON: the core's lines go through the same logger (text keeps the core's own console format).
      logging: { filter: { core: config.logLevel, other: 'ERROR' }, ...(json && { forward: {} }) },
      ...(config.metricsAddress && {
        metrics: {
          prometheus: {
            bindAddress: config.metricsAddress,
            histogramBucketOverrides: PRODUCT_HISTOGRAM_BUCKETS,
          },
        },
      }),
    },
  };
}

/** Installs the runtime (before any connection) and says where metrics are served. */
export function installWorkerRuntime(name: string, config: WorkerTelemetryConfig): void {
  try {
    Runtime.install(workerRuntimeOptions(name, config));
  } catch (err) {
    // The exporter binds at install: a port in use is the setting's fault, and named as such.
    if (!config.metricsAddress || !/prometheus/i.test((err as Error).message)) throw err;
    throw new ConfigError('environment', [
      {
        key: 'WORKER_METRICS_ADDRESS',
        message: `cannot serve metrics on ${config.metricsAddress}: ${(err as Error).message}`,
      },
    ]);
  }
  if (config.metricsAddress) console.log(`${name}: Prometheus metrics on http://${config.metricsAddress}/metrics`);
}
