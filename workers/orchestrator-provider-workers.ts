/**
 * The per-provider LLM queues' workers an orchestrator worker runs beside itself (see
 * activities/llm/route.ts): activity-only, one per provider with limits.
 */
import { Worker, type NativeConnection, type WorkerDeploymentOptions, type WorkerPlugin } from '@temporalio/worker';
import { EMPTY_LLM_CONFIG } from '../activities/llm/config/types';
import { limitedProviders, providerTaskQueue } from '../activities/llm/route';
import type { TemporalConfig } from '../temporal/config';
import type { Tracing } from '../temporal/tracing';
import type { OrchestratorWorkerConfig } from './orchestrator-config';
import { storeQueueRate } from './task-queue-rate';

/**
 * Runs `providers` (the per-provider LLM queue workers) for as long as the orchestrator worker
 * runs: they stop when it stops, and it stops if one of them fails (its calls would wait forever).
 */
export function runAlongside(providers: Worker[]): WorkerPlugin {
  return {
    name: 'llm-provider-workers',
    async runWorker(worker, next) {
      let failure: unknown;
      const runs = providers.map((p) =>
        p.run().catch((err: unknown) => {
          failure ??= err;
          if (worker.getState() === 'RUNNING') worker.shutdown();
        }),
      );
      try {
        await next(worker);
      } finally {
        for (const p of providers) if (p.getState() === 'RUNNING') p.shutdown();
        await Promise.all(runs);
      }
      if (failure) throw failure;
    },
  };
}

export interface ProviderWorkerOptions {
  connection: NativeConnection;
  temporal: TemporalConfig;
  config: OrchestratorWorkerConfig;
  /** What the provider queues serve: the model call activities. */
  activities: Record<string, (...args: never[]) => Promise<unknown>>;
  /** The orchestrator worker's version, so a pinned run's calls find a worker of its version. */
  deployment?: WorkerDeploymentOptions;
  identity?: string;
  tracing?: Tracing;
}

/**
 * One activity-only worker per provider with limits, on the provider's queue: the server holds the
 * queue to `callsPerSecond` for every worker polling it (stored with the queue, and asked for by
 * each poll); `concurrentPerWorker` caps this process.
 */
export function createProviderWorkers(opts: ProviderWorkerOptions): Promise<Worker[]> {
  const { config, temporal, activities, deployment } = opts;
  return Promise.all(
    limitedProviders(config.llm?.config ?? EMPTY_LLM_CONFIG).map(async (provider) => {
      const taskQueue = providerTaskQueue(temporal.taskQueue, provider.name);
      const refused = await storeQueueRate(opts.connection, {
        namespace: temporal.namespace,
        taskQueue,
        perSecond: provider.limits.callsPerSecond,
        reason: `providers.${provider.name}.limits.callsPerSecond in ${config.llm?.config.source ?? 'the models config'}`,
      });
      if (refused) console.warn(`orchestrator worker: ${refused}`);
      return Worker.create({
        connection: opts.connection,
        namespace: temporal.namespace,
        taskQueue,
        activities,
        dataConverter: temporal.dataConverter,
        ...(opts.identity !== undefined && { identity: opts.identity }),
        ...(deployment && { workerDeploymentOptions: deployment }),
        ...(provider.limits.callsPerSecond !== undefined && {
          maxTaskQueueActivitiesPerSecond: provider.limits.callsPerSecond,
        }),
        maxConcurrentActivityTaskExecutions:
          provider.limits.concurrentPerWorker ?? config.maxConcurrentActivityTaskExecutions,
        shutdownGraceTime: config.shutdownGraceTimeMs,
        plugins: opts.tracing ? [opts.tracing.temporalPlugin] : [],
      });
    }),
  );
}
