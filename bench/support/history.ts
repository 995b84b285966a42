/** What a run cost Temporal, counted from its history. */
import type { WorkflowHandle } from '@temporalio/client';

export interface HistoryCost {
  events: number;
  /** Workflow tasks the worker was handed (WorkflowTaskStarted events). */
  workflowTasks: number;
  activityTasks: number;
}

export async function historyCost(handle: WorkflowHandle): Promise<HistoryCost> {
  const events = (await handle.fetchHistory()).events ?? [];
  return {
    events: events.length,
    workflowTasks: events.filter((e) => e.workflowTaskStartedEventAttributes).length,
    activityTasks: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
  };
}
