/**
 * What a run's history says about its steps. The interpreter names every activity and timer
 * after the step path that issued it (its summary: `fetch`, `each[2].fetch: load output`,
 * `approve: approval timeout`) and every child run `<workflow id>.<step path>`, so each event
 * can be traced back to the step a user wrote.
 */
import type { Payload } from '@temporalio/common';
import { decodePayload as decode, eventIdOf, eventTypeName, type History, type HistoryEvent } from './history';

/** `each[2].fetch: load output` → `each[2].fetch`. Step ids hold no ":" or spaces. */
export function stepPathOfSummary(summary: string): string {
  const colon = summary.indexOf(': ');
  return (colon < 0 ? summary : summary.slice(0, colon)).trim();
}

function durationText(d: { seconds?: unknown; nanos?: number | null } | null | undefined): string {
  const ms = Number(d?.seconds ?? 0) * 1000 + Math.round((d?.nanos ?? 0) / 1e6);
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/** The id a patched() marker records (Core keeps it under a `patch-data` detail). */
function patchIdOf(details: Record<string, { payloads?: Payload[] | null }> | null | undefined): string | undefined {
  for (const [key, value] of Object.entries(details ?? {})) {
    if (!key.startsWith('patch')) continue;
    const data = decode(value.payloads?.[0]) as { id?: unknown; patch_id?: unknown } | undefined;
    const id = data?.id ?? data?.patch_id;
    if (typeof id === 'string') return id;
  }
  return undefined;
}

/** The event an event refers to (an activity's completion → its scheduling), or itself. */
function originId(event: HistoryEvent): number | undefined {
  const ref =
    event.activityTaskStartedEventAttributes?.scheduledEventId ??
    event.activityTaskCompletedEventAttributes?.scheduledEventId ??
    event.activityTaskFailedEventAttributes?.scheduledEventId ??
    event.activityTaskTimedOutEventAttributes?.scheduledEventId ??
    event.activityTaskCancelRequestedEventAttributes?.scheduledEventId ??
    event.activityTaskCanceledEventAttributes?.scheduledEventId ??
    event.timerFiredEventAttributes?.startedEventId ??
    event.timerCanceledEventAttributes?.startedEventId ??
    event.childWorkflowExecutionStartedEventAttributes?.initiatedEventId ??
    event.childWorkflowExecutionCompletedEventAttributes?.initiatedEventId ??
    event.childWorkflowExecutionFailedEventAttributes?.initiatedEventId ??
    event.childWorkflowExecutionCanceledEventAttributes?.initiatedEventId ??
    event.childWorkflowExecutionTimedOutEventAttributes?.initiatedEventId ??
    event.childWorkflowExecutionTerminatedEventAttributes?.initiatedEventId ??
    event.startChildWorkflowExecutionFailedEventAttributes?.initiatedEventId;
  return ref === undefined || ref === null ? undefined : Number(ref);
}

/** Looks events up by id and says which step each belongs to, and what it records, in words. */
export class HistoryIndex {
  readonly events: HistoryEvent[];
  private readonly byId = new Map<number, HistoryEvent>();

  /** `workflowId` (when known) lets child runs, named `<workflowId>.<step path>`, name their step. */
  constructor(
    history: History,
    private readonly workflowId?: string,
  ) {
    this.events = history.events ?? [];
    for (const e of this.events) this.byId.set(eventIdOf(e), e);
  }

  event(id: number): HistoryEvent | undefined {
    return this.byId.get(id);
  }

  /** The summary the workflow gave the activity, timer or child run behind `event`. */
  summaryOf(event: HistoryEvent): string | undefined {
    const ref = originId(event);
    const origin = ref === undefined ? event : (this.byId.get(ref) ?? event);
    const summary = decode(origin.userMetadata?.summary);
    return typeof summary === 'string' && summary ? summary : undefined;
  }

  /** The step path behind `event`, when it names one. */
  stepPathOf(event: HistoryEvent): string | undefined {
    const ref = originId(event);
    const origin = ref === undefined ? event : (this.byId.get(ref) ?? event);
    const child = origin.startChildWorkflowExecutionInitiatedEventAttributes;
    const summary = this.summaryOf(event);
    if (!child) return summary ? stepPathOfSummary(summary) : undefined;
    // Child runs are `<workflow id>.<step path>`, a fan-out's `…[<first>-<last>]`, an agent's `….agent`.
    const prefix = this.workflowId === undefined ? undefined : `${this.workflowId}.`;
    if (child.workflowId && prefix && child.workflowId.startsWith(prefix)) {
      return child.workflowId.slice(prefix.length).replace(/(\[\d+-\d+\]|\.agent)$/, '');
    }
    // Without the run's id: their summaries say "… of step <path>)" or "agent <path> (…".
    return /of step (\S+)\)$/.exec(summary ?? '')?.[1] ?? /^agent (\S+) \(/.exec(summary ?? '')?.[1];
  }

  /** The step `eventId` belongs to, or else the next step the history names after it. */
  stepNear(eventId: number): string | undefined {
    const own = this.byId.get(eventId);
    const path = own && this.stepPathOf(own);
    if (path) return path;
    for (const e of this.events) {
      if (eventIdOf(e) <= eventId) continue;
      const next = this.stepPathOf(e);
      if (next) return next;
    }
    return undefined;
  }

  /** What the event records, as a phrase: `activity "llmChat" of step "draft"`. */
  describe(event: HistoryEvent): string {
    const path = this.stepPathOf(event);
    const ofStep = path ? ` of step "${path}"` : '';
    const activity = event.activityTaskScheduledEventAttributes;
    if (activity) return `activity "${activity.activityType?.name ?? '?'}"${ofStep}`;
    const timer = event.timerStartedEventAttributes;
    if (timer) return `a ${durationText(timer.startToFireTimeout)} timer${ofStep}`;
    const child = event.startChildWorkflowExecutionInitiatedEventAttributes;
    if (child) return `child run "${child.workflowId ?? '?'}" (${child.workflowType?.name ?? '?'})${ofStep}`;
    const marker = event.markerRecordedEventAttributes;
    if (marker) {
      const patch = patchIdOf(marker.details);
      return patch === undefined ? `marker "${marker.markerName ?? '?'}"` : `the patch marker "${patch}"`;
    }
    const upsert = event.upsertWorkflowSearchAttributesEventAttributes;
    if (upsert) {
      const keys = Object.keys(upsert.searchAttributes?.indexedFields ?? {});
      return `an update of search attribute${keys.length === 1 ? '' : 's'} ${keys.join(', ') || '(none)'}`;
    }
    if (event.workflowPropertiesModifiedEventAttributes) return 'an update of the memo';
    if (event.workflowExecutionCompletedEventAttributes) return 'the run completing';
    if (event.workflowExecutionFailedEventAttributes) return 'the run failing';
    if (event.workflowExecutionContinuedAsNewEventAttributes) return 'the run continuing as new';
    if (event.workflowExecutionCanceledEventAttributes) return 'the run closing as cancelled';
    const signal = event.signalExternalWorkflowExecutionInitiatedEventAttributes;
    if (signal) return `a signal to run "${signal.workflowExecution?.workflowId ?? '?'}"`;
    return `a ${eventTypeName(event)} event${ofStep}`;
  }
}
