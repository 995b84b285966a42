// The workflow bundle's entry: every workflow type the workers run.
export { runSpec } from './interpreter';
export { deviceLock } from './device-lock';
export { reportMcpInventory } from './mcp-inventory';
