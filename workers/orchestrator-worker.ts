import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerPlugin, type WorkflowBundleOption } from '@temporalio/worker';
import path from 'node:path';
import { createActivities } from '../activities';
import { createBlobActivities } from '../activities/blobs/activities';
import { createDeviceLockActivities } from '../activities/device/acquire';
import { EMPTY_LLM_CONFIG } from '../activities/llm/config/types';
import { createLlmRouteActivities } from '../activities/llm/route';
import { createIdentityActivities } from '../activities/identity/decision-token';
import { loadWebhookWorkerConfig } from '../activities/webhooks/config';
import { createWebhookActivities } from '../activities/webhooks/deliver';
import { SPEC_ACTIVITY_PREFIX, UNKNOWN_ACTIVITY } from '../workflows/contracts/spec-activities';
import { McpClientPool } from '../activities/mcp/pool';
import type { TemporalConfig } from '../temporal/config';
import type { Tracing } from '../temporal/tracing';
import { ConfigError } from '../config/config-errors';
import type { OrchestratorWorkerConfig } from './orchestrator-config';
import type { WorkerVersioningConfig } from '../temporal/versioning-config';
import { prepareVersionedWorker } from './worker-versioning';
import { createProviderWorkers, runAlongside } from './orchestrator-provider-workers';

type ActivityMap = Record<string, (...args: never[]) => Promise<unknown>>;

export interface OrchestratorWorkerOptions {
  connection: NativeConnection;
  temporal: TemporalConfig;
  config: OrchestratorWorkerConfig;
  /** A prebuilt bundle (tests bundle once); by default the workflows are bundled at start-up. */
  workflowBundle?: WorkflowBundleOption;
  /** Extra activities a spec's `activity` step may call (in-process tests, embedders). */
  activities?: ActivityMap;
  /** The MCP client pool to share; the caller then owns (and closes) it. By default one is built from `config.mcp`. */
  mcpPool?: McpClientPool;
  /** Worker Versioning (the worker process turns it on by default); absent or off: an unversioned worker. */
  versioning?: WorkerVersioningConfig;
  /** Where the approve signal's token check reads AUTH_* and APPROVAL_SIGNALS (default: process.env). */
  identityEnv?: NodeJS.ProcessEnv;
  /** OTLP tracing of workflows and activities (temporal/tracing.ts); a prebuilt bundle must hold its workflow interceptors. */
  tracing?: Tracing;
  /** The worker's identity in the server's records (default: the SDK's `pid@host`); tests tell workers apart by it. */
  identity?: string;
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
    connectTimeoutMs: config.mcp?.connectTimeoutMs,
    connectBackoff:
      config.mcp?.connectBackoffMaxMs === undefined ? undefined : { maxMs: config.mcp.connectBackoffMaxMs },
  });
}

/**
 * The registry an `activity` step reaches: each spec activity as `spec.<name>`, nothing else.
 * The bare names stay registered only for runs started before the registry (they replay the old
 * call, see SPEC_ACTIVITY_PATCH); internal activities registered after them win any clash.
 */
export function registerActivities(internal: ActivityMap, spec: ActivityMap): ActivityMap {
  const prefixed = Object.fromEntries(Object.entries(spec).map(([name, fn]) => [`${SPEC_ACTIVITY_PREFIX}${name}`, fn]));
  return { ...spec, ...internal, ...prefixed, default: unknownActivity(Object.keys(spec)) };
}

/** The worker's fallback for a type it does not have: a spec's unknown name fails the step at once. */
function unknownActivity(specNames: string[]): ActivityMap[string] {
  return async () => {
    const type = Context.current().info.activityType;
    if (type.startsWith(SPEC_ACTIVITY_PREFIX)) {
      throw ApplicationFailure.create({
        type: UNKNOWN_ACTIVITY,
        message:
          `activity "${type.slice(SPEC_ACTIVITY_PREFIX.length)}" is not one this worker offers to specs ` +
          `(${specNames.length ? specNames.join(', ') : 'none'}; ORCHESTRATOR_ACTIVITY_MODULES adds more)`,
        nonRetryable: true,
      });
    }
    // Not a spec's: perhaps a newer worker has it, so it stays retryable as Temporal's own answer is.
    throw ApplicationFailure.create({
      type: 'NotFoundError',
      message: `activity ${type} is not registered on this worker`,
      nonRetryable: false,
    });
  };
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
  const blobStoreDir = config.blobStoreDir ?? path.resolve('.data/blobs');
  const generic = createActivities({
    httpAllowedHosts: config.httpAllowedHosts,
    httpMaxResponseBytes: config.httpMaxResponseBytes,
    mcp: { pool: mcpPool, blobDir: config.mcp?.blobDir },
    llm: config.llm?.config,
    blobStoreDir,
  });
  const blobs = createBlobActivities(blobStoreDir);
  const webhooks = createWebhookActivities(config.webhooks ?? loadWebhookWorkerConfig({}));
  const identity = createIdentityActivities(opts.identityEnv);
  const route = createLlmRouteActivities(config.llm?.config ?? EMPTY_LLM_CONFIG, opts.temporal.taskQueue);
  const activities = registerActivities(
    { ...generic.internal, ...blobs, ...webhooks, ...identity, ...route, ...createDeviceLockActivities() },
    {
      ...generic.spec,
      ...(await loadActivityModules(config.activityModules)),
      ...opts.activities,
    },
  );
  const bundle =
    opts.workflowBundle ?? (config.workflowBundlePath ? { codePath: config.workflowBundlePath } : undefined);
  const workflowsPath = require.resolve('../workflows');
  const versioned = opts.versioning?.enabled
    ? await prepareVersionedWorker(opts.versioning, {
        bundle,
        workflowsPath,
        connection: opts.connection,
        namespace: opts.temporal.namespace,
        bundlerPlugins: opts.tracing ? [opts.tracing.temporalPlugin] : [],
      })
    : undefined;
  const workflows = versioned
    ? { workflowBundle: versioned.workflowBundle, workerDeploymentOptions: versioned.workerDeploymentOptions }
    : bundle
      ? { workflowBundle: bundle }
      : { workflowsPath };
  const providerWorkers = await createProviderWorkers({
    connection: opts.connection,
    temporal: opts.temporal,
    config,
    identity: opts.identity,
    tracing: opts.tracing,
    activities: { llmChat: generic.internal.llmChat, llmChatTurn: generic.internal.llmChatTurn },
    deployment: versioned?.workerDeploymentOptions,
  });
  return Worker.create({
    connection: opts.connection,
    namespace: opts.temporal.namespace,
    taskQueue: opts.temporal.taskQueue,
    ...(opts.identity !== undefined && { identity: opts.identity }),
    ...workflows,
    activities,
    dataConverter: opts.temporal.dataConverter,
    maxConcurrentActivityTaskExecutions: config.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTaskExecutions,
    maxCachedWorkflows: config.maxCachedWorkflows,
    shutdownGraceTime: config.shutdownGraceTimeMs,
    plugins: [
      ...(providerWorkers.length ? [runAlongside(providerWorkers)] : []),
      ...(opts.mcpPool ? [] : [closeMcpPoolAfterRun(mcpPool)]),
      ...(versioned ? [versioned.plugin] : []),
      ...(opts.tracing ? [opts.tracing.temporalPlugin] : []),
    ],
  });
}
