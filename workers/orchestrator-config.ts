import path from 'node:path';
import { z } from 'zod';
import { durationSchema } from '../workflows/spec/common';
import { durationToMs } from '../workflows/spec/duration';
import { parseConfig } from './config-errors';

export interface OrchestratorWorkerConfig {
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
  /** Sticky cache size: workflows kept in memory between tasks. */
  maxCachedWorkflows: number;
  shutdownGraceTimeMs: number;
  httpAllowedHosts: string[];
  /** Modules whose exported `activities` object (or `createActivities()`) is registered too. */
  activityModules: string[];
}

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const list = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const schema = z.object({
  ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES: positiveInt(100),
  ORCHESTRATOR_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt(40),
  ORCHESTRATOR_MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().default(1000),
  ORCHESTRATOR_SHUTDOWN_GRACE: durationSchema.default('30s'),
  HTTP_ALLOWED_HOSTS: list,
  ORCHESTRATOR_ACTIVITY_MODULES: list,
});

export function loadOrchestratorWorkerConfig(env: NodeJS.ProcessEnv = process.env): OrchestratorWorkerConfig {
  const c = parseConfig(schema, env, 'environment');
  return {
    maxConcurrentActivityTaskExecutions: c.ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: c.ORCHESTRATOR_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: c.ORCHESTRATOR_MAX_CACHED_WORKFLOWS,
    shutdownGraceTimeMs: durationToMs(c.ORCHESTRATOR_SHUTDOWN_GRACE),
    httpAllowedHosts: c.HTTP_ALLOWED_HOSTS,
    activityModules: c.ORCHESTRATOR_ACTIVITY_MODULES.map((m) => path.resolve(m)),
  };
}
