import { createHttpActivity } from './http';
import { createMcpActivities, type McpActivityDeps } from './mcp/activities';

export interface ActivityDeps {
  httpAllowedHosts: readonly string[];
  /** The worker's MCP client pool; without it no MCP activities are registered. */
  mcp?: McpActivityDeps;
}

/** Every generic activity the orchestrator worker registers, built from server-side deps. */
export function createActivities(deps: ActivityDeps) {
  return {
    http: createHttpActivity(deps.httpAllowedHosts),
    ...(deps.mcp ? createMcpActivities(deps.mcp) : {}),
  };
}

export type Activities = ReturnType<typeof createActivities>;
