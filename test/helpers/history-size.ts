import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const CAUSES = temporal.api.enums.v1.WorkflowTaskFailedCause;
const UNHANDLED_COMMAND = CAUSES.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND;

export interface ExecutionSize {
  workflowId: string;
  runId: string;
  events: number;
  /** The history as the server sends it (protobuf bytes). */
  bytes: number;
  /** Bytes of the run's input (the WorkflowExecutionStarted payloads). */
  inputBytes: number;
  /** How many activities of each type the run scheduled. */
  activities: Record<string, number>;
  /** Workflow tasks that timed out or failed (but for UnhandledCommand), with the cause. */
  taskProblems: string[];
}

/**
 * Every execution a run consists of — the run, each continue-as-new run after it, each child
 * run (and theirs) — found by following its history's events, with the size of each history.
 */
export async function measureExecutions(client: Client, workflowId: string, runId: string): Promise<ExecutionSize[]> {
  const sizes: ExecutionSize[] = [];
  const queue = [{ workflowId, runId }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const history = await client.workflow.getHandle(next.workflowId, next.runId).fetchHistory();
    const events = history.events ?? [];
    const activities: Record<string, number> = {};
    const taskProblems: string[] = [];
    for (const e of events) {
      if (e.workflowTaskTimedOutEventAttributes) taskProblems.push('timed out');
      const failed = e.workflowTaskFailedEventAttributes;
      // UnhandledCommand is the server declining to close a run because new events arrived meanwhile.
      if (failed && failed.cause !== UNHANDLED_COMMAND) {
        taskProblems.push(`failed (${CAUSES[failed.cause ?? 0]}): ${failed.failure?.message ?? ''}`);
      }
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type) activities[type] = (activities[type] ?? 0) + 1;
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId && child.runId) queue.push({ workflowId: child.workflowId, runId: child.runId });
      const continued = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (continued) queue.push({ workflowId: next.workflowId, runId: continued });
    }
    const input = events[0]?.workflowExecutionStartedEventAttributes?.input;
    sizes.push({
      ...next,
      events: events.length,
      bytes: temporal.api.history.v1.History.encode(history).finish().length,
      inputBytes: input ? temporal.api.common.v1.Payloads.encode(input).finish().length : 0,
      activities,
      taskProblems,
    });
  }
  return sizes;
}

/** One line per kind of execution: how many, and the largest event count and size among them. */
export function describeSizes(label: string, sizes: ExecutionSize[], kindOf: (s: ExecutionSize) => string): string {
  const kinds = new Map<string, ExecutionSize[]>();
  for (const s of sizes) kinds.set(kindOf(s), [...(kinds.get(kindOf(s)) ?? []), s]);
  const lines = [...kinds].map(([kind, list]) => {
    const maxEvents = Math.max(...list.map((s) => s.events));
    const maxBytes = Math.max(...list.map((s) => s.bytes));
    const total = list.reduce((sum, s) => sum + s.events, 0);
    return `  ${kind}: ${list.length} execution(s), max ${maxEvents} events, max ${(maxBytes / 1024).toFixed(1)} KiB (${total} events in all)`;
  });
  return `${label}\n${lines.join('\n')}`;
}

/** Issue 9's bound on every execution of a long run. */
export const MAX_EVENTS = 10_000;
export const MAX_BYTES = 10 * 1024 * 1024;

/** Asserts every execution is within MAX_EVENTS and MAX_BYTES and no workflow task failed; prints the figures. */
export function assertBounded(label: string, sizes: ExecutionSize[], kindOf: (s: ExecutionSize) => string): void {
  console.log(describeSizes(label, sizes, kindOf));
  for (const s of sizes) {
    assert.ok(s.events < MAX_EVENTS, `${s.workflowId} (${s.runId}): ${s.events} events`);
    assert.ok(s.bytes < MAX_BYTES, `${s.workflowId} (${s.runId}): ${s.bytes} bytes`);
  }
  const problems = sizes.flatMap((s) => s.taskProblems.map((p) => `${s.workflowId}: ${p}`));
  assert.deepEqual(problems, [], 'no workflow task failed or timed out');
}

/** How many activities of `type` all the executions scheduled. */
export const activityCount = (sizes: ExecutionSize[], type: string) =>
  sizes.reduce((sum, s) => sum + (s.activities[type] ?? 0), 0);
