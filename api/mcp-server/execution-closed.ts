/**
 * Resolves once the workflow's current execution has closed: its close event is in history. Lets
 * wait_for_run answer when a run ends rather than at its next read. One long poll at a time
 * (GetWorkflowExecutionHistory, close event only); Temporal ends an empty one after about 20 s
 * and it is asked again. Rejects when `signal` aborts or Temporal fails.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { abortable } from '../events/run-follower';

const CLOSE_EVENT_ONLY = temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT;

export async function executionClosed(
  client: Client,
  namespace: string,
  workflowId: string,
  signal: AbortSignal,
): Promise<void> {
  let token: Uint8Array | undefined;
  for (;;) {
    const page = await abortable(client, signal, () =>
      client.workflowService.getWorkflowExecutionHistory({
        namespace,
        execution: { workflowId },
        waitNewEvent: true,
        historyEventFilterType: CLOSE_EVENT_ONLY,
        nextPageToken: token,
      }),
    );
    if (page.history?.events?.length) return;
    token = page.nextPageToken?.length ? page.nextPageToken : undefined;
  }
}
