import path from 'node:path';
import { createHttpActivity } from './http';
import { createLlmActivities } from './llm/activities';
import { createConversationActivities } from './llm/conversation';
import { EMPTY_LLM_CONFIG, type LlmConfig } from './llm/config/types';
import { createMcpActivities, type McpActivityDeps } from './mcp/activities';
import type { BuiltInSpecActivity, InternalActivityName } from '../workflows/contracts/spec-activities';

export interface ActivityDeps {
  httpAllowedHosts: readonly string[];
  /** Largest response body the `http` activity reads (default 1 MiB). */
  httpMaxResponseBytes?: number;
  /** The worker's MCP client pool; without it no MCP activities are registered. */
  mcp?: McpActivityDeps;
  /** Models and providers; without it `llmChat` is registered but every call names the missing config. */
  llm?: LlmConfig;
  /** The blob store's directory, where agent conversations are kept (default `.data/blobs`). */
  blobStoreDir?: string;
}

/**
 * Every generic activity the orchestrator worker registers, built from server-side deps, in two
 * registries: `spec` holds what an `activity` step may call (registered as `spec.<name>`),
 * `internal` what the workflows call themselves (model calls go through the ledger, tool calls
 * through the tool step), out of a spec's reach.
 */
export function createActivities(deps: ActivityDeps) {
  const mcp = deps.mcp ? createMcpActivities(deps.mcp) : undefined;
  const llm = createLlmActivities({ config: deps.llm ?? EMPTY_LLM_CONFIG });
  const internal = {
    ...mcp,
    ...llm,
    ...createConversationActivities({
      dir: deps.blobStoreDir ?? path.resolve('.data/blobs'),
      llmChat: llm.llmChat,
      mcpCallTool: mcp?.mcpCallTool,
    }),
  };
  const spec = {
    http: createHttpActivity(deps.httpAllowedHosts, { maxResponseBytes: deps.httpMaxResponseBytes }),
  } satisfies Record<BuiltInSpecActivity, unknown>;
  return { internal, spec };
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// The spec validator refuses these names by list; the compiler keeps the list complete.
const internalNamesListed: Same<keyof ReturnType<typeof createActivities>['internal'], InternalActivityName> = true;
void internalNamesListed;

export type Activities = ReturnType<typeof createActivities>;
