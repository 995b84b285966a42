import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { TemporalConfig } from '../temporal/config';
import { ConfigError } from './config-errors';
import type { OrchestratorWorkerConfig } from './orchestrator-config';

type ActivityMap = Record<string, (...args: never[]) => Promise<unknown>>;

export interface OrchestratorWorkerOptions {
  connection: NativeConnection;
  temporal: TemporalConfig;
  config: OrchestratorWorkerConfig;
  /** A prebuilt bundle (tests bundle once); by default the workflows are bundled at start-up. */
  workflowBundle?: WorkflowBundleOption;
  /** Extra activities registered beside the generic ones (in-process tests, embedders). */
  activities?: ActivityMap;
}

/** Loads the activity modules named in config; a module that exports none stops start-up. */
async function loadActivityModules(paths: readonly string[]): Promise<ActivityMap> {
  const merged: ActivityMap = {};
  for (const modulePath of paths) {
    const mod = (await import(modulePath)) as { activities?: ActivityMap; createActivities?: () => ActivityMap };
    const acts = mod.activities ?? mod.createActivities?.();
    if (!acts) {
      throw new ConfigError('environment', [
        { key: 'ORCHESTRATOR_ACTIVITY_MODULES', message: `${modulePath} exports neither "activities" nor "createActivities"` },
      ]);
    }
    Object.assign(merged, acts);
  }
  return merged;
}

export async function createOrchestratorWorker(opts: OrchestratorWorkerOptions): Promise<Worker> {
  const { config } = opts;
  const activities = {
    ...createActivities({ httpAllowedHosts: config.httpAllowedHosts }),
    ...(await loadActivityModules(config.activityModules)),
    ...opts.activities,
  };
  const workflows = opts.workflowBundle
    ? { workflowBundle: opts.workflowBundle }
    : { workflowsPath: require.resolve('../workflows') };
  return Worker.create({
    connection: opts.connection,
    namespace: opts.temporal.namespace,
    taskQueue: opts.temporal.taskQueue,
    ...workflows,
    activities,
    maxConcurrentActivityTaskExecutions: config.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTaskExecutions,
    maxCachedWorkflows: config.maxCachedWorkflows,
    shutdownGraceTime: config.shutdownGraceTimeMs,
  });
}
