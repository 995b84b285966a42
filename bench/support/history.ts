/** What a run cost Temporal, counted from its history. */
import type { WorkflowHandle } from '@temporalio/client';

export interface HistoryCost {
  events: number;
  /** Workflow tasks the worker was handed (WorkflowTaskStarted events). */
  workflowTasks: number;
  activityTasks: number;
  /** Events by type (the attributes they carry: `markerRecorded`, `upsertWorkflowSearchAttributes`, …). */
  byType: Record<string, number>;
}

const ATTRIBUTES = 'EventAttributes';

export async function historyCost(handle: WorkflowHandle): Promise<HistoryCost> {
  const events = (await handle.fetchHistory()).events ?? [];
  const byType: Record<string, number> = {};
  for (const e of events) {
    const key = Object.keys(e).find((k) => k.endsWith(ATTRIBUTES) && e[k as keyof typeof e]);
    const type = key ? key.slice(0, -ATTRIBUTES.length) : 'other';
    byType[type] = (byType[type] ?? 0) + 1;
  }
  return {
    events: events.length,
    workflowTasks: byType.workflowTaskStarted ?? 0,
    activityTasks: byType.activityTaskScheduled ?? 0,
    byType,
  };
}

/** The event types whose mean count per run differs between `a` and `b`, as "type a → b" lines. */
export function eventTypeDifferences(a: readonly HistoryCost[], b: readonly HistoryCost[]): string[] {
  const meanOf = (costs: readonly HistoryCost[], type: string) =>
    costs.reduce((sum, c) => sum + (c.byType[type] ?? 0), 0) / Math.max(1, costs.length);
  const types = new Set([...a, ...b].flatMap((c) => Object.keys(c.byType)));
  return [...types]
    .sort()
    .map((type) => ({ type, from: meanOf(a, type), to: meanOf(b, type) }))
    .filter((d) => Math.abs(d.from - d.to) >= 0.05)
    .map((d) => `${d.type} ${d.from.toFixed(1)} → ${d.to.toFixed(1)}`);
}
