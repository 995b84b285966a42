import { NativeConnection, Worker } from '@temporalio/worker';
import { createBuildActivities } from '../activities/build/run-build';
import type { TemporalConfig } from '../temporal/config';
import type { Tracing } from '../temporal/tracing';
import type { BuildWorkerConfig } from './build-config';
import { storeQueueRate } from './task-queue-rate';

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
 * `startsPerSecond` is the queue's dispatch rate, which the server holds for all build workers.
 */
export async function createBuildWorker(o: BuildWorkerOptions): Promise<Worker> {
  // Unset: the queue keeps whatever rate it has (an operator may have set one with the CLI).
  if (o.config.startsPerSecond !== undefined) {
    const refused = await storeQueueRate(o.connection, {
      namespace: o.temporal.namespace,
      taskQueue: o.config.taskQueue,
      perSecond: o.config.startsPerSecond,
      reason: 'BUILD_QUEUE_STARTS_PER_SECOND of a build worker',
    });
    if (refused) console.warn(`build worker: ${refused}`);
  }
  return Worker.create({
    connection: o.connection,
    namespace: o.temporal.namespace,
    taskQueue: o.config.taskQueue,
    dataConverter: o.temporal.dataConverter,
    activities: { ...createBuildActivities(o.config.builds) },
    maxConcurrentActivityTaskExecutions: o.config.slots,
    ...(o.config.startsPerSecond !== undefined && { maxTaskQueueActivitiesPerSecond: o.config.startsPerSecond }),
    shutdownGraceTime: o.config.shutdownGraceTimeMs,
    plugins: o.tracing ? [o.tracing.temporalPlugin] : [],
  });
}
