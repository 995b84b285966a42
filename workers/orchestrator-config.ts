import path from 'node:path';
import { z } from 'zod';
import { durationSchema, durationToMs } from '../workflows/contracts/duration';
import { loadMcpConfig } from '../activities/mcp/config/load';
import type { McpConfig } from '../activities/mcp/config/types';
import { loadLlmConfig, type LoadedLlmConfig } from '../activities/llm/config/load';
import { parseAllowEntry } from '../activities/outbound/allow-list';
import { parseConfig } from '../config/config-errors';
import { loadWebhookWorkerConfig, type WebhookWorkerConfig } from '../activities/webhooks/config';
import { heapLimitMib, workflowCacheSize } from './workflow-cache-size';

/** The worker's MCP client pool: servers from the layered `.mcp.json`, and how the pool treats them. */
export interface McpWorkerConfig {
  servers: McpConfig;
  toolCacheTtlMs: number;
  maxConcurrencyPerServer: number;
  /** Where images and binary resources returned by tools are stored (step outputs carry file:// references). */
  blobDir: string;
  /** Longest connect (spawn + initialize) to a server, however long the caller would wait. */
  connectTimeoutMs?: number;
  /** Longest wait between connects after repeated failures. */
  connectBackoffMaxMs?: number;
}

export interface OrchestratorWorkerConfig {
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
  /** Sticky cache size: workflows kept in memory between tasks (workflow-cache-size.ts). */
  maxCachedWorkflows: number;
  shutdownGraceTimeMs: number;
  httpAllowedHosts: string[];
  /** Largest response body the `http` activity reads, in bytes. */
  httpMaxResponseBytes?: number;
  /** Modules whose exported `activities` object (or `createActivities()`) is registered too. */
  activityModules: string[];
  /** A workflow bundle built ahead of time (bundleWorkflowCode); bundled at start-up when absent. */
  workflowBundlePath?: string;
  /** Absent: the worker runs without MCP servers. */
  mcp?: McpWorkerConfig;
  /** Models and providers from LLM_MODELS_FILE / LLM_MODELS_JSON, API keys from the environment. */
  llm?: LoadedLlmConfig;
  /** Where big step outputs wait between executions (BLOB_STORE_DIR); a shared volume across hosts. */
  blobStoreDir?: string;
  /** Webhook deliveries: allowed non-public addresses, signing secret, link base (activities/webhooks/config.ts). */
  webhooks?: WebhookWorkerConfig;
}

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

const schema = z.object({
  ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES: positiveInt(100),
  ORCHESTRATOR_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt(40),
  /** An explicit sticky-cache size; without it the cache is sized by ORCHESTRATOR_WORKFLOW_CACHE_MB. */
  ORCHESTRATOR_MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().optional(),
  /** The sticky cache's heap budget in MiB (default: workflow-cache-size.ts DEFAULT_BUDGET_MIB, or what the heap holds). */
  ORCHESTRATOR_WORKFLOW_CACHE_MB: z.coerce.number().int().positive().optional(),
  ORCHESTRATOR_SHUTDOWN_GRACE: durationSchema.default('30s'),
  HTTP_ALLOWED_HOSTS: list.superRefine((entries, ctx) => {
    for (const entry of entries) {
      try {
        parseAllowEntry(entry);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }
  }),
  HTTP_MAX_RESPONSE_BYTES: positiveInt(1024 * 1024),
  ORCHESTRATOR_ACTIVITY_MODULES: list,
  ORCHESTRATOR_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /** A directory holding `.mcp.json` (and its layers) or a base file; default: the working directory. */
  MCP_CONFIG: z.string().min(1).optional(),
  MCP_ENV: z.string().min(1).optional(),
  NODE_ENV: z.string().optional(),
  MCP_TOOL_CACHE_TTL: durationSchema.default('5m'),
  MCP_MAX_CONCURRENCY_PER_SERVER: positiveInt(16),
  MCP_BLOB_DIR: z.string().min(1).default('.data/mcp-blobs'),
  BLOB_STORE_DIR: z.string().min(1).default('.data/blobs'),
  MCP_CONNECT_TIMEOUT: durationSchema.default('30s'),
  MCP_CONNECT_BACKOFF_MAX: durationSchema.default('30s'),
});

/** `heapLimit`: the V8 heap limit the workflow thread gets, in MiB (tests pass their own). */
export function loadOrchestratorWorkerConfig(
  env: NodeJS.ProcessEnv = process.env,
  heapLimit: number = heapLimitMib(),
): OrchestratorWorkerConfig {
  const c = parseConfig(schema, env, 'environment');
  return {
    maxConcurrentActivityTaskExecutions: c.ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: c.ORCHESTRATOR_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: workflowCacheSize({
      count: c.ORCHESTRATOR_MAX_CACHED_WORKFLOWS,
      budgetMib: c.ORCHESTRATOR_WORKFLOW_CACHE_MB,
      heapLimitMib: heapLimit,
    }),
    shutdownGraceTimeMs: durationToMs(c.ORCHESTRATOR_SHUTDOWN_GRACE),
    httpAllowedHosts: c.HTTP_ALLOWED_HOSTS,
    httpMaxResponseBytes: c.HTTP_MAX_RESPONSE_BYTES,
    activityModules: c.ORCHESTRATOR_ACTIVITY_MODULES.map((m) => path.resolve(m)),
    workflowBundlePath: c.ORCHESTRATOR_WORKFLOW_BUNDLE && path.resolve(c.ORCHESTRATOR_WORKFLOW_BUNDLE),
    mcp: {
      // Read and validated here, so a bad .mcp.json stops the worker before it polls.
      servers: loadMcpConfig(
        {
          location: c.MCP_CONFIG ?? process.cwd(),
          envName: c.MCP_ENV ?? c.NODE_ENV,
          required: c.MCP_CONFIG !== undefined,
        },
        env,
      ),
      toolCacheTtlMs: durationToMs(c.MCP_TOOL_CACHE_TTL),
      maxConcurrencyPerServer: c.MCP_MAX_CONCURRENCY_PER_SERVER,
      blobDir: path.resolve(c.MCP_BLOB_DIR),
      connectTimeoutMs: durationToMs(c.MCP_CONNECT_TIMEOUT),
      connectBackoffMaxMs: durationToMs(c.MCP_CONNECT_BACKOFF_MAX),
    },
    llm: loadLlmConfig(env),
    blobStoreDir: path.resolve(c.BLOB_STORE_DIR),
    webhooks: loadWebhookWorkerConfig(env),
  };
}
