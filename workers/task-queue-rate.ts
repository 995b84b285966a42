/**
 * A queue-wide dispatch rate kept by the Temporal server (UpdateTaskQueueConfig, server 1.28+):
 * stored with the queue, it holds on every partition once the partition has loaded the queue's
 * config, for every worker polling the queue. The worker option `maxTaskQueueActivitiesPerSecond` asks for the
 * same rate, but a partition learns it only from a poll of that worker, and tasks of a partition
 * no poll has reached yet go out at the server's default rate. So workers set both: the option
 * (which the stored rate overrides) and this at start-up.
 */
import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';

export interface QueueRate {
  namespace: string;
  taskQueue: string;
  /** Activities started per second on the whole queue; undefined removes the stored rate. */
  perSecond: number | undefined;
  /** Shown by `temporal task-queue config get`. */
  reason: string;
}

/**
 * Stores `rate` for the activity queue. A server that refuses (no permission to change task queue
 * config, e.g. a restricted Cloud API key, or one older than 1.28) is not fatal: the worker option
 * still limits the partitions its polls reach. Returns why it failed, for the caller to log.
 */
export async function storeQueueRate(connection: NativeConnection, rate: QueueRate): Promise<string | undefined> {
  try {
    await connection.workflowService.updateTaskQueueConfig({
      namespace: rate.namespace,
      taskQueue: rate.taskQueue,
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      // An update without a rate limit removes the stored one.
      updateQueueRateLimit:
        rate.perSecond === undefined
          ? { reason: rate.reason }
          : { rateLimit: { requestsPerSecond: rate.perSecond }, reason: rate.reason },
    });
    return undefined;
  } catch (err) {
    return `the rate of task queue "${rate.taskQueue}" could not be stored on the server (${(err as Error).message}); only this worker's own polls carry it`;
  }
}
