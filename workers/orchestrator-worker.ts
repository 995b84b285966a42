import { NativeConnection, Worker, type WorkerPlugin, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from '../activities';
import { McpClientPool } from '../activities/mcp/pool';
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
  /** The MCP client pool to share; the caller then owns (and closes) it. By default one is built from `config.mcp`. */
  mcpPool?: McpClientPool;
}

/** Closes the worker's own MCP pool once the worker has drained, so no server process outlives it. */
function closeMcpPoolAfterRun(pool: McpClientPool): WorkerPlugin {
  return {
    name: 'close-mcp-pool',
    async runWorker(worker, next) {
      try {
        await next(worker);
      } finally {
        await pool.close();
      }
    },
  };
}

function createMcpPool(config: OrchestratorWorkerConfig): McpClientPool {
  return new McpClientPool(config.mcp?.servers, {
    toolCacheTtlMs: config.mcp?.toolCacheTtlMs,
    maxConcurrencyPerServer: config.mcp?.maxConcurrencyPerServer,
  });
}

/** Loads the activity modules named in config; a module that exports none stops start-up. */
async function loadActivityModules(paths: readonly string[]): Promise<ActivityMap> {
  const merged: ActivityMap = {};
  for (const modulePath of paths) {
    const mod = (await import(modulePath)) as { activities?: ActivityMap; createActivities?: () => ActivityMap };
    const acts = mod.activities ?? mod.createActivities?.();
    if (!acts) {
      throw new ConfigError('environment', [
        {
          key: 'ORCHESTRATOR_ACTIVITY_MODULES',
          message: `${modulePath} exports neither "activities" nor "createActivities"`,
        },
      ]);
    }
    Object.assign(merged, acts);
  }
  return merged;
}

export async function createOrchestratorWorker(opts: OrchestratorWorkerOptions): Promise<Worker> {
  const { config } = opts;
  const mcpPool = opts.mcpPool ?? createMcpPool(config);
  const activities = {
    ...createActivities({
      httpAllowedHosts: config.httpAllowedHosts,
      mcp: { pool: mcpPool, blobDir: config.mcp?.blobDir },
      llm: config.llm?.config,
    }),
    ...(await loadActivityModules(config.activityModules)),
    ...opts.activities,
  };
  const bundle =
    opts.workflowBundle ?? (config.workflowBundlePath ? { codePath: config.workflowBundlePath } : undefined);
  const workflows = bundle ? { workflowBundle: bundle } : { workflowsPath: require.resolve('../workflows') };
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
    plugins: opts.mcpPool ? [] : [closeMcpPoolAfterRun(mcpPool)],
  });
}
