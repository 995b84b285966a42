export { createMcpActivities, type McpActivities, type McpActivityDeps } from './activities';
export { loadMcpConfig, layerFiles, type McpConfigLocation } from './config/load';
export { EMPTY_MCP_CONFIG, type McpConfig, type McpServerConfig } from './config/types';
export { McpClientPool, type McpPoolOptions, type PoolEvent, type ServerInventory } from './pool';
export type { McpInventory, InventoryRequest, InventoryTool } from './inventory';
