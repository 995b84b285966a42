import { createHttpActivity } from './http';
import { createLlmActivities } from './llm/activities';
import { EMPTY_LLM_CONFIG, type LlmConfig } from './llm/config/types';
import { createMcpActivities, type McpActivityDeps } from './mcp/activities';

export interface ActivityDeps {
  httpAllowedHosts: readonly string[];
  /** The worker's MCP client pool; without it no MCP activities are registered. */
  mcp?: McpActivityDeps;
  /** Models and providers; without it `llmChat` is registered but every call names the missing config. */
  llm?: LlmConfig;
}

/** Every generic activity the orchestrator worker registers, built from server-side deps. */
export function createActivities(deps: ActivityDeps) {
  return {
    http: createHttpActivity(deps.httpAllowedHosts),
    ...(deps.mcp ? createMcpActivities(deps.mcp) : {}),
    ...createLlmActivities({ config: deps.llm ?? EMPTY_LLM_CONFIG }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
