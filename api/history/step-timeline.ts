/**
 * A run's steps as a timeline: the step records the interpreter keeps (path, kind, status,
 * times, error) joined with what the history says about each step's activities (how many, how
 * many attempts, the last failure). Pure: the service reads, this joins.
 */
import type { google } from '@temporalio/proto';
import type { History } from '../../temporal/replay/history';
import { HistoryIndex } from '../../temporal/replay/step-events';
import type { StepRecord } from '../../workflows/contracts/run';
import type { StepTimelineEntry } from './history-views';

export interface PendingActivity {
  activityId: string;
  attempt: number;
  lastFailure?: string;
}

export interface ExecutionSteps {
  runId: string;
  history: History;
  /** The execution's step records (history-progress.ts); absent: the timeline comes from its activities alone. */
  records?: Record<string, StepRecord>;
  /** Activities scheduled and not finished (a running execution), with their retry state. */
  pending?: PendingActivity[];
  /** Paths whose records a rerun carried in from the run it repeats. */
  reused?: ReadonlySet<string>;
  /** Kind of a step by its id, for steps known only from the history. */
  kindOf(path: string): string | null;
}

interface ActivityStats {
  activities: number;
  attempts: number;
  failure?: string;
  first?: string;
  last?: string;
}

function iso(ts: google.protobuf.ITimestamp | null | undefined): string | undefined {
  if (!ts?.seconds) return undefined;
  return new Date(Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

function activityStats(exec: ExecutionSteps, workflowId: string): Map<string, ActivityStats> {
  const index = new HistoryIndex(exec.history, workflowId);
  const stats = new Map<string, ActivityStats>();
  const byActivityId = new Map<string, ActivityStats>();
  const of = (path: string) => {
    let s = stats.get(path);
    if (!s) stats.set(path, (s = { activities: 0, attempts: 0 }));
    return s;
  };
  for (const e of index.events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    const activityEvent =
      scheduled ||
      e.activityTaskStartedEventAttributes ||
      e.activityTaskFailedEventAttributes ||
      e.activityTaskTimedOutEventAttributes ||
      e.activityTaskCompletedEventAttributes;
    const path = activityEvent ? index.stepPathOf(e) : undefined;
    if (!path) continue;
    const s = of(path);
    const at = iso(e.eventTime);
    if (scheduled) {
      s.activities++;
      s.first ??= at;
      if (scheduled.activityId) byActivityId.set(scheduled.activityId, s);
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) s.attempts = Math.max(s.attempts, started.attempt ?? 1);
    const failed = e.activityTaskFailedEventAttributes;
    if (failed) s.failure = failed.failure?.message ?? 'activity failed';
    if (e.activityTaskTimedOutEventAttributes) s.failure = 'activity timed out';
    if (!scheduled && at) s.last = at;
  }
  for (const p of exec.pending ?? []) {
    const s = byActivityId.get(p.activityId);
    if (!s) continue;
    s.attempts = Math.max(s.attempts, p.attempt);
    if (p.lastFailure) s.failure = p.lastFailure;
  }
  return stats;
}

/** The chain's steps, first execution first; a step carried across continue-as-new shows once. */
export function buildTimeline(workflowId: string, executions: ExecutionSteps[]): StepTimelineEntry[] {
  const entries = new Map<string, StepTimelineEntry>();
  for (const exec of executions) {
    const stats = activityStats(exec, workflowId);
    const paths = exec.records ? Object.keys(exec.records) : [...stats.keys()];
    for (const path of paths) {
      const rec = exec.records?.[path];
      const s = stats.get(path);
      const known = entries.get(path);
      if (known) {
        // Carried into a later execution: the record is a copy; only new activities count.
        if (s && s.activities > 0) {
          known.activities += s.activities;
          known.attempts = Math.max(known.attempts ?? 1, s.attempts);
        }
        continue;
      }
      entries.set(path, {
        path,
        kind: rec?.kind ?? exec.kindOf(path),
        status: rec?.status ?? null,
        startedAt: rec?.startedAt ?? s?.first ?? null,
        finishedAt: rec?.finishedAt ?? (rec ? null : (s?.last ?? null)),
        activities: s?.activities ?? 0,
        attempts: s && s.activities > 0 ? Math.max(1, s.attempts) : null,
        failure: rec?.error ?? (rec?.status === 'completed' ? null : (s?.failure ?? null)),
        runId: exec.runId,
        reused: exec.reused?.has(path) ?? false,
      });
    }
  }
  return [...entries.values()].sort(
    (a, b) => (a.startedAt ?? '\uffff').localeCompare(b.startedAt ?? '\uffff') || a.path.localeCompare(b.path),
  );
}
