// The workflow bundle's entry: every workflow type the workers run.
import { deviceLock } from './device-lock';
import { agentLoop } from './llm/agent-workflow';
import { deviceLeaseKeeper } from './steps/device-lease-keeper';
import { runSpec } from './interpreter';
import { reportMcpInventory } from './mcp-inventory';
import { declareVersioningBehavior } from './versioning';

declareVersioningBehavior({ runSpec, deviceLock, reportMcpInventory, agentLoop, deviceLeaseKeeper });

export { runSpec, deviceLock, reportMcpInventory };
// Children of runs' steps.
export { agentLoop, deviceLeaseKeeper };
// One webhook delivery per subscription and event (started by notifyWebhooks, outlives its run).
export { deliverWebhook } from './webhooks/deliver-webhook';
