/**
 * What the API asks a worker when it shows /mcp/servers and /mcp/tools: the MCP pool lives in
 * the worker process, so a short workflow of its own type runs the worker's `mcpInventory`
 * activity. Being a separate type keeps these reads out of the runs users list (which select
 * `WorkflowType = "runSpec"`), and no spec step can reach the activity.
 */
import { proxyActivities } from '@temporalio/workflow';

export const MCP_INVENTORY_WORKFLOW = 'reportMcpInventory';

export interface McpInventoryRequest {
  /** Connect every server and list its tools (otherwise report only what the pool holds). */
  listTools?: boolean;
  /** How long the activity may take, in ms. */
  timeoutMs: number;
}

/** The activity the orchestrator worker registers for this workflow (see activities/mcp). */
export interface McpInventoryActivities {
  mcpInventory(req: { listTools?: boolean }): Promise<unknown>;
}

export async function reportMcpInventory(req: McpInventoryRequest): Promise<unknown> {
  const { mcpInventory } = proxyActivities<McpInventoryActivities>({
    startToCloseTimeout: req.timeoutMs,
    retry: { maximumAttempts: 1 },
    summary: req.listTools ? 'list every server and tool' : 'report the pool',
  });
  return mcpInventory({ listTools: req.listTools });
}
