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
import { MCP_INVENTORY_WORKFLOW, type reportMcpInventory } from '../../workflows/mcp-inventory';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';

/** Listing tools may start every server (npx downloads included); the run gives up after this. */
const INVENTORY_TIMEOUT_S = 30;
/** Answers are reused this long: a page that polls /mcp/* does not start a run per request. */
export const INVENTORY_CACHE_MS = 5000;

type Inventory = McpInventory & { taskQueue: string };

@Injectable()
export class McpInventoryService {
  /** One entry per `listTools` value: the answer (or the request in flight) and when it was asked. */
  private readonly cache = new Map<boolean, { at: number; answer: Promise<Inventory> }>();

  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) private readonly config: TemporalConfig,
  ) {}

  /** The inventory of whichever orchestrator worker picks up the run (each worker process has its own pool). */
  inventory(listTools: boolean): Promise<Inventory> {
    const cached = this.cache.get(listTools);
    if (cached && Date.now() - cached.at < INVENTORY_CACHE_MS) return cached.answer;
    const answer = this.ask(listTools);
    this.cache.set(listTools, { at: Date.now(), answer });
    answer.then(
      // A full listing also answers the pool-only question, with fresher statuses.
      () => listTools && this.cache.set(false, { at: Date.now(), answer }),
      // A failure is not remembered: the next request asks again.
      () => this.cache.get(listTools)?.answer === answer && this.cache.delete(listTools),
    );
    return answer;
  }

  private async ask(listTools: boolean): Promise<Inventory> {
    const { taskQueue } = this.config;
    await this.requirePollers(taskQueue);
    const handle = await this.client.workflow.start<typeof reportMcpInventory>(MCP_INVENTORY_WORKFLOW, {
      taskQueue,
      workflowId: `internal.mcp-inventory.${randomUUID()}`,
      args: [{ listTools, timeoutMs: (INVENTORY_TIMEOUT_S - 5) * 1000 }],
      workflowExecutionTimeout: `${INVENTORY_TIMEOUT_S}s`,
      staticSummary: listTools ? 'internal: GET /mcp/tools' : 'internal: GET /mcp/servers',
    });
    try {
      return { ...((await handle.result()) as McpInventory), taskQueue };
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
