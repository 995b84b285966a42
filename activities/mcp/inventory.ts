import { hostname } from 'node:os';
import type { ToolDescriptor } from '../../workflows/contracts/tool';
import type { McpClientPool, ServerInventory } from './pool';

export interface InventoryRequest {
  /** Connect to every server and list its tools (otherwise report only what the pool holds). */
  listTools?: boolean;
}

export interface InventoryTool extends ToolDescriptor {
  /** `server.tool`, as steps address it. */
  address: string;
  server: string;
}

/** What one worker process's pool holds; the API shows it under /mcp. */
export interface McpInventory {
  worker: { host: string; pid: number };
  servers: ServerInventory[];
  disabled: string[];
  configFiles: string[];
  tools?: InventoryTool[];
  /** Servers whose tools could not be listed, with why. */
  errors?: Record<string, string>;
}

export async function takeInventory(pool: McpClientPool, req: InventoryRequest = {}): Promise<McpInventory> {
  const base = {
    worker: { host: hostname(), pid: process.pid },
    disabled: pool.config.disabled,
    configFiles: pool.config.files,
  };
  if (!req.listTools) return { ...base, servers: pool.inventory() };
  const tools: InventoryTool[] = [];
  const errors: Record<string, string> = {};
  await Promise.all(
    pool.serverNames.map(async (server) => {
      try {
        for (const t of await pool.listTools(server)) {
          tools.push({
            address: `${server}.${t.name}`,
            server,
            name: t.name,
            description: t.description,
            inputSchema: t.inputSchema,
          });
        }
      } catch (err) {
        errors[server] = err instanceof Error ? err.message : String(err);
      }
    }),
  );
  tools.sort((a, b) => a.address.localeCompare(b.address));
  return { ...base, servers: pool.inventory(), tools, errors };
}
