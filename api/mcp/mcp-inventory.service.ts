import { randomUUID } from 'node:crypto';
import {
  BadGatewayException,
  GatewayTimeoutException,
  Inject,
  Injectable,
  ServiceUnavailableException,
} from '@nestjs/common';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { TimeoutFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { McpInventory } from '../../activities/mcp/inventory';
import type { TemporalConfig } from '../../temporal/config';
import type { runSpec } from '../../workflows/interpreter';
import { RUN_SPEC_WORKFLOW } from '../../workflows/shared';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import { mcpInventorySpec } from './mcp-inventory-spec';

/** Listing tools may start every server (npx downloads included); the run gives up after this. */
const INVENTORY_TIMEOUT_S = 30;

@Injectable()
export class McpInventoryService {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) private readonly config: TemporalConfig,
  ) {}

  /** The inventory of whichever orchestrator worker picks up the run (each worker process has its own pool). */
  async inventory(listTools: boolean): Promise<McpInventory & { taskQueue: string }> {
    const { taskQueue } = this.config;
    await this.requirePollers(taskQueue);
    const handle = await this.client.workflow.start<typeof runSpec>(RUN_SPEC_WORKFLOW, {
      taskQueue,
      workflowId: `mcp-inventory-${randomUUID()}`,
      args: [{ spec: mcpInventorySpec(listTools, `${INVENTORY_TIMEOUT_S - 5}s`) }],
      workflowExecutionTimeout: `${INVENTORY_TIMEOUT_S}s`,
      staticSummary: listTools ? 'GET /mcp/tools' : 'GET /mcp/servers',
    });
    try {
      const result = await handle.result();
      return { ...(result.output as McpInventory), taskQueue };
    } catch (err) {
      if (err instanceof WorkflowFailedError && err.cause instanceof TimeoutFailure) {
        throw new GatewayTimeoutException(
          `no orchestrator worker on "${taskQueue}" answered within ${INVENTORY_TIMEOUT_S}s`,
        );
      }
      if (err instanceof WorkflowFailedError) {
        throw new BadGatewayException(`the worker could not report its MCP pool: ${deepestMessage(err)}`);
      }
      throw err;
    }
  }

  private async requirePollers(taskQueue: string): Promise<void> {
    const described = await this.client.workflowService.describeTaskQueue({
      namespace: this.config.namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    if (!described.pollers?.length) {
      throw new ServiceUnavailableException(
        `no orchestrator worker is polling task queue "${taskQueue}"; the MCP pool lives there`,
      );
    }
  }
}

function deepestMessage(err: Error): string {
  let current: Error = err;
  while (current.cause instanceof Error) current = current.cause;
  return current.message;
}
