import { NativeConnection, Worker } from '@temporalio/worker';
import { createBuildActivities } from '../activities/build/run-build';
import type { TemporalConfig } from '../temporal/config';
import type { Tracing } from '../temporal/tracing';
import type { BuildWorkerConfig } from './build-config';

export interface BuildWorkerOptions {
  connection: NativeConnection;
  temporal: Pick<TemporalConfig, 'namespace' | 'dataConverter'>;
  config: BuildWorkerConfig;
  /** OTLP tracing of the builds (temporal/tracing.ts). */
  tracing?: Tracing;
}

/**
 * Serves the `build` task queue with `slots` activity slots: at most that many builds run at
 * once on this host; the rest wait in the queue. (Each build worker process adds its own slots.)
 */
export function createBuildWorker(o: BuildWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: o.connection,
    namespace: o.temporal.namespace,
    taskQueue: o.config.taskQueue,
    dataConverter: o.temporal.dataConverter,
    activities: { ...createBuildActivities(o.config.builds) },
    maxConcurrentActivityTaskExecutions: o.config.slots,
    shutdownGraceTime: o.config.shutdownGraceTimeMs,
    plugins: o.tracing ? [o.tracing.temporalPlugin] : [],
  });
}
