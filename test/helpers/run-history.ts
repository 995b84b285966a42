import { setTimeout as delay } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const { WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND } = temporal.api.enums.v1.WorkflowTaskFailedCause;

async function events(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/**
 * The messages of the run's WorkflowTaskFailed events: a plain Error in workflow code, or a command
 * the server refused. Not counted: UnhandledCommand, the server declining to close a run because
 * events (e.g. an activity's completion) arrived while the task ran; the next task sees them.
 */
export async function workflowTaskFailures(handle: WorkflowHandle): Promise<string[]> {
  return (await events(handle))
    .filter((e) => e.workflowTaskFailedEventAttributes)
    .filter((e) => e.workflowTaskFailedEventAttributes?.cause !== WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND)
    .map(
      (e) =>
        e.workflowTaskFailedEventAttributes?.failure?.message ?? String(e.workflowTaskFailedEventAttributes?.cause),
    );
}

/** How many updates the run accepted (rejected ones leave no event). */
export async function acceptedUpdates(handle: WorkflowHandle): Promise<number> {
  return (await events(handle)).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
}

/**
 * Waits until the run is closed, or `timeoutMs` has passed (then the status is RUNNING): a bound
 * on a run that would otherwise hang the test, not a timing assertion.
 */
export async function settle(handle: WorkflowHandle, timeoutMs = 30_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = (await handle.describe()).status.name;
    if (status !== 'RUNNING' || Date.now() > until) return status;
    await delay(100);
  }
}
