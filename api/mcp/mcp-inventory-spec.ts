import type { Spec } from '../../workflows/shared';

export const MCP_INVENTORY_SPEC_NAME = 'mcp-inventory';

/**
 * The pool lives in the worker process, so the API asks a worker: a one-step run whose only
 * step is the worker's `mcpInventory` activity. The run's history doubles as an audit record.
 */
export function mcpInventorySpec(listTools: boolean, timeout: string): Spec {
  return {
    name: MCP_INVENTORY_SPEC_NAME,
    description: 'Reports the MCP client pool of the orchestrator worker that runs it (GET /mcp/servers, /mcp/tools)',
    steps: [
      {
        id: 'inventory',
        kind: 'activity',
        activity: 'mcpInventory',
        args: { listTools },
        startToCloseTimeout: timeout,
        retry: { maxAttempts: 1 },
      },
    ],
    output: '${steps.inventory.output}',
  };
}
