/**
 * A run's history as run events (workflows/contracts/run-events.ts): what GET /workflows/:id/events streams.
 * Pure and incremental: feed the events of each execution of the continue-as-new chain in order,
 * call `flush()` wherever the history read so far ends, and the same history always yields the
 * same events with the same ids (event-ids.ts), however it was cut into reads.
 *
 * Where the events come from:
 * - run.started: the first execution's WorkflowExecutionStarted (spec, inputs in brief);
 * - step.started: the first event the interpreter names after a step (activities and timers carry
 *   the step path in their summary, child runs in their workflow id), or the step's approval
 *   request; a step nested under a map item (`each[2].fetch`) starts its container (`each`) too;
 * - step.finished / step.failed: when a workflow task leaves a started step with nothing open
 *   (no activity, timer or child run, no pending approval) — the workflow task after its last
 *   activity completed or failed; at the run's end the result's step records settle every status
 *   and add the steps only they show (branches not taken → step.skipped, container steps);
 * - approval.*: the memo upserts of the History contract (`pendingApprovals` diffed → requested,
 *   escalated; `lastDecision` → decided; `lastRefusal` → refused); histories from before them:
 *   the AgentPendingApprovals search attribute (diffed) and the accepted `approve` updates;
 * - run.finished: the closing event; continued-as-new is not an end: the next execution follows.
 *
 * Workflow-task batches: the events a completed workflow task writes (WorkflowTaskCompleted and
 * its commands) are stored together, so a read never ends inside one. The mapper holds a batch
 * until it ends (the next event that no command writes, or `flush()`) and decides then which steps
 * it closed, placing each close after the batch's last event about that step.
 */
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { decodePayload, eventIdOf, type History, type HistoryEvent } from '../../temporal/replay/history';
import { stepPathOfSummary } from '../../temporal/replay/step-events';
import type { RunEvent, RunEventType } from '../../workflows/contracts/run-events';
import {
  LAST_DECISION_MEMO,
  LAST_REFUSAL_MEMO,
  PENDING_APPROVALS_ATTRIBUTE,
  PENDING_APPROVALS_MEMO,
  type ApprovalInput,
  type ApprovalResult,
  type PendingApproval,
  type RunInput,
  type RunResult,
  type StepRecord,
} from '../../workflows/contracts/run';
import { allSteps, stepIdOfPath } from '../history/spec-steps';
import { formatRunEventId, PROGRESS_N_BASE, type RunEventId } from './event-ids';

const EventType = temporal.api.enums.v1.EventType;

/** Memo keys of the approval History contract (workflows/approvals/inbox-state.ts writes them). */
const APPROVAL_MEMOS = [PENDING_APPROVALS_MEMO, LAST_DECISION_MEMO, LAST_REFUSAL_MEMO];

/** Events only a completed workflow task writes (its commands): they never start a batch of their own. */
const COMMAND_EVENTS = new Set<number>([
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_TIMER_CANCELED,
  EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_MARKER_RECORDED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

/** `each[2].fetch`, `build`: what a step path looks like (anything else in a summary is not one). */
const STEP_PATH = /^[A-Za-z][\w-]*(\[\d+\])?(\.[A-Za-z][\w-]*(\[\d+\])?)*$/;
/** Timers that only bound an approval (approvals/approval-desk.ts): the decision cancels them. */
const APPROVAL_TIMER = /: (approval|escalation) timeout$/;
/** Step kinds that make several model calls, each behind the budget gates. */
const MODEL_LOOP_KINDS = new Set(['agent', 'research', 'swarm']);
/** Longest input value (characters of JSON) run.started shows as it is. */
const INPUT_SHOWN_CHARS = 200;

type Decode = (payload: Payload | null | undefined) => unknown;
type Outcome = { kind: 'ok' } | { kind: 'failed' | 'cancelled'; error: string };
type RunStatusName = 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';

interface Op {
  step: string;
  what: 'activity' | 'timer' | 'child';
  name?: string;
  activityId?: string;
  /** A timer that only bounds an approval: its cancel is the decision, not a cancelled step. */
  approvalTimer?: boolean;
}

interface StepState {
  path: string;
  state: 'active' | 'completed' | 'failed' | 'cancelled' | 'skipped';
  openOps: number;
  last?: Outcome;
}

/** A run event waiting for its id: `pos` is the history event it belongs to. */
interface Draft {
  pos: number;
  at: string;
  type: RunEventType;
  step?: string;
  data: Record<string, unknown>;
}

interface Execution {
  index: number;
  runId?: string;
  ops: Map<number, Op>;
  /** Scheduled event id of each activity by its activity id (progress comes by activity id). */
  activities: Map<string, number>;
  /** Approval id → the request (memo) or `{}` (search attribute only). */
  pending: Map<string, Partial<PendingApproval>>;
  /** Set once the run writes the History contract's memos: the search attribute is ignored then. */
  memoMode: boolean;
  lastDecision?: string;
  lastRefusal?: string;
  /** Accepted `approve` updates by update id, and their decisions by approval id (older histories). */
  updates: Map<string, ApprovalInput>;
  decisions: Map<string, ApprovalInput | ApprovalResult>;
  closed: boolean;
  continuedTo?: string;
}

function isoOf(event: HistoryEvent): string {
  const ts = event.eventTime;
  return new Date(ts?.seconds ? Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6) : 0).toISOString();
}

function typeOf(event: HistoryEvent): number {
  const t = event.eventType;
  if (typeof t === 'number') return t;
  return (EventType as unknown as Record<string, number>)[String(t)] ?? 0;
}

/** A value as run.started shows an input: short scalars as they are, the rest in brief. */
function briefValue(value: unknown): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    return value.length <= INPUT_SHOWN_CHARS ? value : `${value.slice(0, INPUT_SHOWN_CHARS)}… (${value.length} chars)`;
  }
  if (Array.isArray(value)) return `(a list of ${value.length})`;
  if (typeof value === 'object') return `(an object with ${Object.keys(value).length} keys)`;
  return `(${typeof value})`;
}

function omit(value: object, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));
}

/** `a[2].b[1].c` → [`a`, `a[2].b`]: the containers a nested path runs in, outermost first. */
function containersOf(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('['); i >= 0; i = path.indexOf('[', i + 1)) out.push(path.slice(0, i));
  return out;
}

/** The step path and message of the StepFailed failure that failed a run, if that is what failed it. */
function failedStepOf(
  failure: temporal.api.failure.v1.IFailure | null | undefined,
  decode: Decode,
): { path?: string; message: string } {
  const message = failure?.message ?? 'the run failed';
  for (let f = failure; f; f = f.cause) {
    if (f.applicationFailureInfo?.type !== 'StepFailed') continue;
    const detail = decode(f.applicationFailureInfo.details?.payloads?.[0]) as { stepId?: unknown } | undefined;
    if (typeof detail?.stepId === 'string') return { path: detail.stepId, message: f.message ?? message };
    const named = /^step "([^"]+)" failed/.exec(f.message ?? '');
    if (named) return { path: named[1], message: f.message ?? message };
  }
  return { message };
}

export interface RunEventMapperOptions {
  workflowId: string;
  /** How payloads are read (the client's payload converter); default: Temporal's default converter. */
  decode?: Decode;
}

export class RunEventMapper {
  private readonly workflowId: string;
  private readonly decode: Decode;
  private exec: Execution | undefined;
  private batch: HistoryEvent[] | undefined;
  private readonly steps = new Map<string, StepState>();
  /** Step ids the spec declares → their kind (from the first execution's input). */
  private kinds = new Map<string, string>();
  private onTimeout = new Map<string, 'approve' | 'reject'>();
  private reused = new Set<string>();
  /** `<approval id>@<at>` of every decision sent, so a memo written again sends nothing twice. */
  private readonly decided = new Set<string>();
  private lastPos: RunEventId = { chain: 0, event: 0, n: -1 };
  private lastEvent = 0;
  private progressN = PROGRESS_N_BASE;
  private finishedStatus: RunStatusName | undefined;

  constructor(opts: RunEventMapperOptions) {
    this.workflowId = opts.workflowId;
    this.decode = opts.decode ?? decodePayload;
  }

  /** Starts the next execution of the chain: 0 for the first, then 1, 2, … */
  beginExecution(index: number, runId?: string): void {
    this.batch = undefined;
    this.exec = {
      index,
      runId,
      ops: new Map(),
      activities: new Map(),
      pending: new Map(),
      memoMode: false,
      updates: new Map(),
      decisions: new Map(),
      closed: false,
    };
    this.lastEvent = 0;
    this.progressN = PROGRESS_N_BASE;
  }

  /** Feeds the next history event of the current execution; returns the run events now complete. */
  push(event: HistoryEvent): RunEvent[] {
    const type = typeOf(event);
    const out = this.batch && !COMMAND_EVENTS.has(type) ? this.closeBatch() : [];
    this.lastEvent = eventIdOf(event);
    if (type === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
      this.batch = [event];
      return out;
    }
    if (this.batch) {
      this.batch.push(event);
      return out;
    }
    // Outside a batch: external events (an activity completing, a signal, a termination).
    return [...out, ...this.mapEvents([event])];
  }

  /** The history read so far ends here (reads end between batches): the open batch is complete. */
  flush(): RunEvent[] {
    return this.batch ? this.closeBatch() : [];
  }

  /** The chain's current execution closed (completed, failed, … or continued as new). */
  get executionClosed(): boolean {
    return this.exec?.closed ?? false;
  }

  /** The run id the current execution continued as, when it did. */
  get continuedTo(): string | undefined {
    return this.exec?.continuedTo;
  }

  /** How the run ended, once run.finished was produced. */
  get finished(): RunStatusName | undefined {
    return this.finishedStatus;
  }

  /** Activities of the current execution scheduled and not closed: activity id → step path and type. */
  openActivities(): Map<string, { step: string; type?: string }> {
    const out = new Map<string, { step: string; type?: string }>();
    const exec = this.exec;
    if (!exec) return out;
    for (const [activityId, scheduled] of exec.activities) {
      const op = exec.ops.get(scheduled);
      if (op) out.set(activityId, { step: op.step, type: op.name });
    }
    return out;
  }

  /**
   * The id of a progress event now: the last history event read, `n` from PROGRESS_N_BASE up and
   * above every id at that event so far, and above `after` (a resume point) when it is there too.
   */
  nextProgressId(after?: RunEventId): string {
    const chain = this.exec?.index ?? 0;
    const event = this.lastEvent;
    let n = this.progressN;
    if (this.lastPos.chain === chain && this.lastPos.event === event) n = Math.max(n, this.lastPos.n + 1);
    if (after && after.chain === chain && after.event === event) n = Math.max(n, after.n + 1);
    this.progressN = n + 1;
    return formatRunEventId({ chain, event, n });
  }

  private current(): Execution {
    if (!this.exec) throw new Error('beginExecution() first');
    return this.exec;
  }

  private closeBatch(): RunEvent[] {
    const batch = this.batch ?? [];
    this.batch = undefined;
    if (batch.some((e) => this.approvalMemoOf(e))) this.current().memoMode = true;
    return this.mapEvents(batch);
  }

  /** Maps a batch (or one external event): what each event yields, then the steps it left idle, or the run's end. */
  private mapEvents(events: HistoryEvent[]): RunEvent[] {
    const exec = this.current();
    const drafts: Draft[] = [];
    const touched = new Map<string, number>();
    let closing: { event: HistoryEvent; status: RunStatusName | 'continued' } | undefined;
    for (const event of events) {
      this.apply(event, drafts, touched);
      const status = this.closingOf(event);
      if (status) closing = { event, status };
    }
    const byId = new Map(events.map((e) => [eventIdOf(e), e]));
    const anchor = events[0] as HistoryEvent;
    if (closing && closing.status !== 'continued' && !exec.closed) {
      this.closeRun(closing.event, closing.status, drafts, touched, anchor, byId);
    } else if (typeOf(anchor) === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED || closing) {
      this.closeIdleSteps(drafts, touched, anchor, byId);
    }
    if (closing?.status === 'continued') {
      exec.closed = true;
      exec.continuedTo = closing.event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    return this.assignIds(drafts);
  }

  private closingOf(event: HistoryEvent): RunStatusName | 'continued' | undefined {
    if (event.workflowExecutionCompletedEventAttributes) return 'completed';
    if (event.workflowExecutionFailedEventAttributes) return 'failed';
    if (event.workflowExecutionCanceledEventAttributes) return 'cancelled';
    if (event.workflowExecutionTerminatedEventAttributes) return 'terminated';
    if (event.workflowExecutionTimedOutEventAttributes) return 'timed_out';
    if (event.workflowExecutionContinuedAsNewEventAttributes) return 'continued';
    return undefined;
  }

  private draft(drafts: Draft[], event: HistoryEvent, type: RunEventType, step: string | undefined, data = {}) {
    drafts.push({ pos: eventIdOf(event), at: isoOf(event), type, ...(step !== undefined && { step }), data });
  }

  /** What one event changes, and the events it yields itself. */
  private apply(event: HistoryEvent, drafts: Draft[], touched: Map<string, number>): void {
    const exec = this.current();
    const id = eventIdOf(event);
    const touch = (step: string) => touched.set(step, id);

    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      this.onExecutionStarted(event, started, drafts);
      return;
    }
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const step = this.stepOfSummary(event);
      if (!step) return;
      const op: Op = {
        step,
        what: 'activity',
        name: scheduled.activityType?.name ?? undefined,
        activityId: scheduled.activityId ?? undefined,
      };
      this.openOp(id, op, event, drafts, touch);
      if (op.activityId) exec.activities.set(op.activityId, id);
      return;
    }
    const timer = event.timerStartedEventAttributes;
    if (timer) {
      const summary = this.summaryOf(event);
      const step = this.stepOfSummary(event);
      if (step) {
        const approvalTimer = APPROVAL_TIMER.test(summary ?? '');
        this.openOp(id, { step, what: 'timer', approvalTimer }, event, drafts, touch);
      }
      return;
    }
    const child = event.startChildWorkflowExecutionInitiatedEventAttributes;
    if (child) {
      const step = this.stepOfChild(child.workflowId ?? '', this.summaryOf(event));
      if (step) this.openOp(id, { step, what: 'child', name: child.workflowId ?? undefined }, event, drafts, touch);
      return;
    }
    const closed = this.opClosedBy(event);
    if (closed) {
      const op = exec.ops.get(closed.ref);
      if (!op) return;
      exec.ops.delete(closed.ref);
      if (op.activityId) exec.activities.delete(op.activityId);
      const step = this.steps.get(op.step);
      if (step) {
        step.openOps = Math.max(0, step.openOps - 1);
        step.last = op.approvalTimer && closed.outcome.kind === 'cancelled' ? { kind: 'ok' } : closed.outcome;
      }
      if (closed.command) touch(op.step);
      return;
    }
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted?.acceptedRequest?.input?.name === 'approve') {
      const input = this.decode(accepted.acceptedRequest.input.args?.payloads?.[0]) as ApprovalInput | undefined;
      const updateId = accepted.acceptedRequest.meta?.updateId ?? accepted.protocolInstanceId ?? '';
      if (input?.stepId) {
        exec.updates.set(updateId, input);
        exec.decisions.set(input.stepId, input);
      }
      return;
    }
    const completed = event.workflowExecutionUpdateCompletedEventAttributes;
    if (completed) {
      const input = exec.updates.get(completed.meta?.updateId ?? '');
      const result = this.decode(completed.outcome?.success?.payloads?.[0]) as ApprovalResult | undefined;
      if (input && result?.stepId === input.stepId) exec.decisions.set(input.stepId, result);
      return;
    }
    const memo = this.approvalMemoOf(event);
    if (memo) {
      this.onApprovalMemo(event, memo, drafts, touch);
      return;
    }
    const upsert = event.upsertWorkflowSearchAttributesEventAttributes;
    const pendingField = upsert?.searchAttributes?.indexedFields?.[PENDING_APPROVALS_ATTRIBUTE.name];
    if (pendingField && !exec.memoMode) {
      const ids = this.decode(pendingField);
      this.onPendingAttribute(event, Array.isArray(ids) ? ids.map(String) : [], drafts, touch);
    }
  }

  private onExecutionStarted(
    event: HistoryEvent,
    started: temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes,
    drafts: Draft[],
  ): void {
    const exec = this.current();
    exec.runId ??= started.originalExecutionRunId ?? undefined;
    // The memo an execution starts with is the base the next upserts are compared with.
    const memo = started.memo?.fields ?? {};
    const pending = this.decode(memo[PENDING_APPROVALS_MEMO]);
    if (Array.isArray(pending)) {
      for (const p of pending as PendingApproval[]) if (p?.stepId) exec.pending.set(p.stepId, p);
    }
    if (memo[LAST_DECISION_MEMO]) exec.lastDecision = JSON.stringify(this.decode(memo[LAST_DECISION_MEMO]));
    if (memo[LAST_REFUSAL_MEMO]) exec.lastRefusal = JSON.stringify(this.decode(memo[LAST_REFUSAL_MEMO]));
    if (exec.index > 0) return;

    const input = this.decode(started.input?.payloads?.[0]) as RunInput | undefined;
    const specSteps = Array.isArray(input?.spec?.steps) ? input.spec.steps : [];
    let declared: ReturnType<typeof allSteps> = [];
    try {
      declared = allSteps(specSteps);
    } catch {
      declared = [];
    }
    for (const step of declared) {
      this.kinds.set(step.id, step.kind);
      const onTimeout = (step as { onTimeout?: unknown }).onTimeout;
      if (step.kind === 'approval') this.onTimeout.set(step.id, onTimeout === 'approve' ? 'approve' : 'reject');
    }
    this.reused = new Set(Object.keys(input?.resume?.steps ?? {}));
    const inputs = input?.inputs ?? {};
    this.draft(drafts, event, 'run.started', undefined, {
      runId: exec.runId ?? started.originalExecutionRunId ?? null,
      spec: input?.spec ? { name: input.spec.name, version: input.spec.version ?? null } : null,
      inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, briefValue(v)])),
      ...(this.reused.size > 0 && { reusedSteps: [...this.reused] }),
    });
  }

  private summaryOf(event: HistoryEvent): string | undefined {
    const summary = this.decode(event.userMetadata?.summary);
    return typeof summary === 'string' && summary ? summary : undefined;
  }

  private stepOfSummary(event: HistoryEvent): string | undefined {
    const summary = this.summaryOf(event);
    return summary ? this.knownStep(stepPathOfSummary(summary)) : undefined;
  }

  /** Child runs are `<workflow id>.<step path>` (a fan-out's `…[<first>-<last>]`, an agent's `….agent`, a lease's `….lease-<n>`). */
  private stepOfChild(childId: string, summary: string | undefined): string | undefined {
    const prefix = `${this.workflowId}.`;
    if (childId.startsWith(prefix)) {
      return this.knownStep(childId.slice(prefix.length).replace(/(\[\d+-\d+\]|\.agent|\.lease-\d+)$/, ''));
    }
    return this.knownStep(/of step (\S+)\)$/.exec(summary ?? '')?.[1] ?? /^agent (\S+) \(/.exec(summary ?? '')?.[1]);
  }

  /**
   * The step a path names: itself when it ends in a step the spec declares, else the nearest step
   * it is under (`gate.call-2` of an approval's sub-decision → `gate`); nothing for what is no path.
   */
  private knownStep(path: string | undefined): string | undefined {
    if (!path || !STEP_PATH.test(path)) return undefined;
    if (this.kinds.size === 0) return path;
    for (let p = path; ;) {
      if (this.kinds.has(stepIdOfPath(p))) return p;
      const dot = p.lastIndexOf('.');
      if (dot < 0) return undefined;
      p = p.slice(0, dot);
    }
  }

  private opClosedBy(event: HistoryEvent): { ref: number; outcome: Outcome; command: boolean } | undefined {
    const ref = (v: unknown) => Number(v ?? 0);
    const failed = (error: string | null | undefined, fallback: string): Outcome => ({
      kind: 'failed',
      error: error || fallback,
    });
    const a = event;
    if (a.activityTaskCompletedEventAttributes)
      return {
        ref: ref(a.activityTaskCompletedEventAttributes.scheduledEventId),
        outcome: { kind: 'ok' },
        command: false,
      };
    if (a.activityTaskFailedEventAttributes) {
      const f = a.activityTaskFailedEventAttributes;
      return {
        ref: ref(f.scheduledEventId),
        outcome: failed(f.failure?.cause?.message ?? f.failure?.message, 'activity failed'),
        command: false,
      };
    }
    if (a.activityTaskTimedOutEventAttributes)
      return {
        ref: ref(a.activityTaskTimedOutEventAttributes.scheduledEventId),
        outcome: failed(a.activityTaskTimedOutEventAttributes.failure?.message, 'activity timed out'),
        command: false,
      };
    if (a.activityTaskCanceledEventAttributes)
      return {
        ref: ref(a.activityTaskCanceledEventAttributes.scheduledEventId),
        outcome: { kind: 'cancelled', error: 'cancelled' },
        command: false,
      };
    if (a.timerFiredEventAttributes)
      return { ref: ref(a.timerFiredEventAttributes.startedEventId), outcome: { kind: 'ok' }, command: false };
    if (a.timerCanceledEventAttributes)
      return {
        ref: ref(a.timerCanceledEventAttributes.startedEventId),
        outcome: { kind: 'cancelled', error: 'cancelled' },
        command: true,
      };
    const child =
      a.childWorkflowExecutionCompletedEventAttributes ??
      a.childWorkflowExecutionFailedEventAttributes ??
      a.childWorkflowExecutionCanceledEventAttributes ??
      a.childWorkflowExecutionTimedOutEventAttributes ??
      a.childWorkflowExecutionTerminatedEventAttributes ??
      a.startChildWorkflowExecutionFailedEventAttributes;
    if (!child) return undefined;
    let outcome: Outcome = { kind: 'ok' };
    if (a.childWorkflowExecutionFailedEventAttributes) {
      const f = a.childWorkflowExecutionFailedEventAttributes.failure;
      outcome = failed(f?.message, 'child run failed');
    } else if (a.childWorkflowExecutionCanceledEventAttributes) outcome = { kind: 'cancelled', error: 'cancelled' };
    else if (a.childWorkflowExecutionTimedOutEventAttributes) outcome = failed(undefined, 'child run timed out');
    else if (a.childWorkflowExecutionTerminatedEventAttributes) outcome = failed(undefined, 'child run terminated');
    else if (a.startChildWorkflowExecutionFailedEventAttributes) outcome = failed(undefined, 'child run did not start');
    return { ref: ref(child.initiatedEventId), outcome, command: false };
  }

  private openOp(id: number, op: Op, event: HistoryEvent, drafts: Draft[], touch: (step: string) => void): void {
    this.current().ops.set(id, op);
    const step = this.startStep(op.step, event, drafts, {
      ...(op.what === 'activity' && op.name && { activity: op.name }),
      ...(op.what === 'child' && op.name && { childWorkflowId: op.name }),
      ...(op.what === 'timer' && !op.approvalTimer && { timer: true }),
    });
    step.openOps++;
    touch(op.step);
  }

  /** The step's state, sending step.started (for it and the containers it runs in) when it is new. */
  private startStep(path: string, event: HistoryEvent, drafts: Draft[], data: Record<string, unknown>): StepState {
    for (const container of containersOf(path)) {
      if (!this.steps.has(container)) this.startStep(container, event, drafts, {});
    }
    let step = this.steps.get(path);
    if (!step) {
      step = { path, state: 'active', openOps: 0 };
      this.steps.set(path, step);
      const kind = this.kinds.get(stepIdOfPath(path));
      this.draft(drafts, event, 'step.started', path, { ...(kind && { kind }), ...data });
    }
    return step;
  }

  private approvalMemoOf(event: HistoryEvent): Record<string, Payload> | undefined {
    const fields = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields;
    if (!fields || !APPROVAL_MEMOS.some((k) => k in fields)) return undefined;
    return fields as Record<string, Payload>;
  }

  /** The step an approval id belongs to (`deploy`, `agent.<tool call>` → `agent`); none for the run's own (a budget). */
  private stepOfApproval(approvalId: string): string | undefined {
    return approvalId.includes('~') ? undefined : this.knownStep(approvalId);
  }

  private requested(
    event: HistoryEvent,
    approvalId: string,
    request: Partial<PendingApproval>,
    drafts: Draft[],
    touch: (step: string) => void,
  ): void {
    const step = this.stepOfApproval(approvalId);
    if (step) {
      this.startStep(step, event, drafts, {});
      touch(step);
    }
    this.draft(drafts, event, 'approval.requested', approvalId, omit(request, 'stepId'));
  }

  private decidedEvent(
    event: HistoryEvent,
    result: Record<string, unknown>,
    drafts: Draft[],
    touch: (s: string) => void,
  ) {
    const approvalId = String(result.stepId ?? '');
    const key = `${approvalId}@${String(result.at ?? '')}`;
    if (this.decided.has(key)) return;
    this.decided.add(key);
    const step = this.stepOfApproval(approvalId);
    if (step) touch(step);
    // Decisions from before channels were recorded all came through the API; a timeout has none.
    const channel = result.timedOut === true ? {} : { channel: 'api' };
    this.draft(drafts, event, 'approval.decided', approvalId, { ...channel, ...omit(result, 'stepId') });
  }

  private onApprovalMemo(
    event: HistoryEvent,
    fields: Record<string, Payload>,
    drafts: Draft[],
    touch: (step: string) => void,
  ): void {
    const exec = this.current();
    if (fields[LAST_DECISION_MEMO]) {
      const decision = this.decode(fields[LAST_DECISION_MEMO]) as Record<string, unknown> | undefined;
      const text = JSON.stringify(decision);
      if (decision && text !== exec.lastDecision) this.decidedEvent(event, decision, drafts, touch);
      exec.lastDecision = text;
    }
    if (fields[LAST_REFUSAL_MEMO]) {
      const refusal = this.decode(fields[LAST_REFUSAL_MEMO]) as Record<string, unknown> | undefined;
      const text = JSON.stringify(refusal);
      if (refusal && text !== exec.lastRefusal) {
        const { stepId, ...data } = refusal;
        this.draft(drafts, event, 'approval.refused', String(stepId ?? ''), data);
      }
      exec.lastRefusal = text;
    }
    if (fields[PENDING_APPROVALS_MEMO]) {
      const list = this.decode(fields[PENDING_APPROVALS_MEMO]);
      const now = new Map<string, PendingApproval>();
      if (Array.isArray(list)) for (const p of list as PendingApproval[]) if (p?.stepId) now.set(p.stepId, p);
      for (const [approvalId, request] of now) {
        const before = exec.pending.get(approvalId);
        if (!before) this.requested(event, approvalId, request, drafts, touch);
        else if (request.escalatedAt && request.escalatedAt !== before.escalatedAt) {
          const step = this.stepOfApproval(approvalId);
          if (step) touch(step);
          // As the webhook's approval.escalated says it: the request now, and who joined.
          const had = new Set(before.approvers ?? []);
          this.draft(drafts, event, 'approval.escalated', approvalId, {
            ...omit(request, 'stepId'),
            escalatedTo: (request.approvers ?? []).filter((a) => !had.has(a)),
          });
        }
      }
      for (const approvalId of exec.pending.keys()) {
        if (!now.has(approvalId)) {
          const step = this.stepOfApproval(approvalId);
          if (step) touch(step);
        }
      }
      exec.pending = now;
    }
  }

  /** Histories from before the approval memos: the pending ids, and the accepted updates that decided them. */
  private onPendingAttribute(event: HistoryEvent, ids: string[], drafts: Draft[], touch: (s: string) => void): void {
    const exec = this.current();
    const now = new Set(ids);
    for (const approvalId of exec.pending.keys()) {
      if (now.has(approvalId)) continue;
      const step = this.stepOfApproval(approvalId);
      if (step) touch(step);
      const decision = exec.decisions.get(approvalId);
      exec.decisions.delete(approvalId);
      if (decision) {
        const shown = omit(decision as unknown as Record<string, unknown>, 'nonce');
        this.decidedEvent(event, { at: isoOf(event), ...shown, timedOut: false }, drafts, touch);
      } else {
        const onTimeout = this.onTimeout.get(stepIdOfPath(approvalId));
        this.decidedEvent(
          event,
          {
            stepId: approvalId,
            ...(onTimeout && { decision: onTimeout }),
            by: 'timeout',
            at: isoOf(event),
            timedOut: true,
          },
          drafts,
          touch,
        );
      }
    }
    for (const approvalId of ids) {
      if (!exec.pending.has(approvalId)) {
        exec.decisions.delete(approvalId);
        this.requested(event, approvalId, {}, drafts, touch);
      }
    }
    exec.pending = new Map(ids.map((i) => [i, exec.pending.get(i) ?? {}]));
  }

  /**
   * Whether `path` still waits on an approval: its own, or one no step owns (a budget) when the
   * step calls models in a loop and so may be the one waiting (an `llm` step passed its gate
   * before its activity started; a step that calls no model never waits on a budget).
   */
  private waitsOnApproval(path: string): boolean {
    for (const approvalId of this.current().pending.keys()) {
      const owner = this.stepOfApproval(approvalId);
      if (owner === path) return true;
      const kind = this.kinds.get(stepIdOfPath(path));
      if (owner === undefined && (kind === undefined || MODEL_LOOP_KINDS.has(kind))) return true;
    }
    return false;
  }

  private activeSteps(): StepState[] {
    return [...this.steps.values()].filter((s) => s.state === 'active');
  }

  /** Started steps the batch left with nothing open close now: leaves first, then their containers. */
  private closeIdleSteps(
    drafts: Draft[],
    touched: Map<string, number>,
    anchor: HistoryEvent,
    byId: Map<number, HistoryEvent>,
  ): void {
    const closedAt = new Map<string, number>();
    const hasActiveInner = (path: string) =>
      [...this.steps.values()].some((s) => s.state === 'active' && containersOf(s.path).includes(path));
    for (let changed = true; changed;) {
      changed = false;
      for (const step of this.activeSteps()) {
        if (step.openOps > 0 || this.waitsOnApproval(step.path) || hasActiveInner(step.path)) continue;
        const inner = [...closedAt].filter(([p]) => containersOf(p).includes(step.path)).map(([, at]) => at);
        const pos = Math.max(touched.get(step.path) ?? eventIdOf(anchor), ...inner);
        this.settle(step, step.last ?? { kind: 'ok' }, byId.get(pos) ?? anchor, drafts);
        closedAt.set(step.path, pos);
        changed = true;
      }
    }
  }

  /** Sends the step's closing event. */
  private settle(step: StepState, outcome: Outcome, event: HistoryEvent, drafts: Draft[], extra = {}): void {
    if (outcome.kind === 'ok') {
      step.state = 'completed';
      this.draft(drafts, event, 'step.finished', step.path, { status: 'completed', ...extra });
    } else {
      step.state = outcome.kind;
      this.draft(drafts, event, 'step.failed', step.path, { status: outcome.kind, error: outcome.error, ...extra });
    }
  }

  /** The run ended: every started step settles, the result's records add what they alone show, run.finished. */
  private closeRun(
    event: HistoryEvent,
    status: RunStatusName,
    drafts: Draft[],
    touched: Map<string, number>,
    anchor: HistoryEvent,
    byId: Map<number, HistoryEvent>,
  ): void {
    const exec = this.current();
    exec.closed = true;
    let records: Record<string, StepRecord> = {};
    let failure: { path?: string; message: string } | undefined;
    let runError: string | undefined;
    if (status === 'completed') {
      const result = this.decode(event.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]) as
        RunResult | undefined;
      records = result?.steps && typeof result.steps === 'object' ? result.steps : {};
    } else if (status === 'failed') {
      failure = failedStepOf(event.workflowExecutionFailedEventAttributes?.failure, this.decode);
      runError = failure.message;
    } else if (status === 'terminated') {
      runError = `terminated${event.workflowExecutionTerminatedEventAttributes?.reason ? `: ${event.workflowExecutionTerminatedEventAttributes.reason}` : ''}`;
    } else if (status === 'timed_out') runError = 'the run timed out';
    else runError = 'the run was cancelled';

    const outcomeOf = (step: StepState): Outcome => {
      const record = records[step.path];
      if (record) return outcomeOfRecord(record);
      if (failure?.path && (failure.path === step.path || containersOf(failure.path).includes(step.path))) {
        return { kind: 'failed', error: failure.message };
      }
      if (status === 'completed') return step.last ?? { kind: 'ok' };
      if (step.openOps > 0 || !step.last || step.last.kind === 'ok')
        return { kind: 'cancelled', error: runError ?? '' };
      return step.last;
    };
    // A container closes after what ran in it: at its own last event or theirs, whichever is later.
    const active = this.activeSteps();
    const posOf = (s: StepState) =>
      Math.max(
        touched.get(s.path) ?? eventIdOf(anchor),
        ...active.filter((i) => containersOf(i.path).includes(s.path)).map((i) => touched.get(i.path) ?? 0),
      );
    const depth = (s: StepState) => containersOf(s.path).length;
    const order = active.map((s) => ({ s, pos: posOf(s) })).sort((a, b) => a.pos - b.pos || depth(b.s) - depth(a.s));
    for (const { s, pos } of order) this.settle(s, outcomeOf(s), byId.get(pos) ?? anchor, drafts);

    // What only the records show, or show otherwise than the stream said.
    for (const [path, record] of Object.entries(records)) {
      const step = this.steps.get(path);
      const outcome = outcomeOfRecord(record);
      const extra = {
        ...(record.kind && { kind: record.kind }),
        ...(this.reused.has(path) && { reused: true }),
      };
      if (!step) {
        const state: StepState = { path, state: 'active', openOps: 0 };
        this.steps.set(path, state);
        if (record.status === 'skipped') {
          state.state = 'skipped';
          const reason = (record.output as { reason?: unknown } | undefined)?.reason;
          this.draft(drafts, event, 'step.skipped', path, { ...extra, ...(typeof reason === 'string' && { reason }) });
        } else this.settle(state, outcome, event, drafts, extra);
        continue;
      }
      const said = step.state;
      const is = record.status === 'completed' ? 'completed' : record.status;
      if (said === is || is === 'running' || is === 'waiting') continue;
      if (is === 'skipped') {
        step.state = 'skipped';
        this.draft(drafts, event, 'step.skipped', path, { ...extra, corrected: true });
      } else this.settle(step, outcome, event, drafts, { ...extra, corrected: true });
    }
    if (failure?.path && !this.steps.has(failure.path)) {
      const state: StepState = { path: failure.path, state: 'active', openOps: 0 };
      this.steps.set(failure.path, state);
      this.settle(state, { kind: 'failed', error: failure.message }, event, drafts);
    }
    this.finishedStatus = status;
    this.draft(drafts, event, 'run.finished', undefined, {
      status,
      ...(exec.runId && { runId: exec.runId }),
      ...(runError && { error: runError }),
      ...(failure?.path && { failedStep: failure.path }),
    });
  }

  /** Ids in order: `<execution>-<history event>-<n>`, n counting the events of one history event. */
  private assignIds(drafts: Draft[]): RunEvent[] {
    const chain = this.current().index;
    const sorted = drafts.map((d, i) => ({ d, i })).sort((a, b) => a.d.pos - b.d.pos || a.i - b.i);
    return sorted.map(({ d }) => {
      const same = this.lastPos.chain === chain && this.lastPos.event === d.pos;
      this.lastPos = { chain, event: d.pos, n: same ? this.lastPos.n + 1 : 0 };
      return {
        id: formatRunEventId(this.lastPos),
        type: d.type,
        workflowId: this.workflowId,
        at: d.at,
        ...(d.step !== undefined && { step: d.step }),
        data: d.data,
      };
    });
  }
}

function outcomeOfRecord(record: StepRecord): Outcome {
  if (record.status === 'failed') return { kind: 'failed', error: record.error ?? 'failed' };
  if (record.status === 'cancelled') return { kind: 'cancelled', error: record.error ?? 'cancelled' };
  return { kind: 'ok' };
}

/** Every run event of a chain's histories (first execution first), as a stream rebuilt from them sends them. */
export function historyToRunEvents(
  workflowId: string,
  histories: Array<History | { runId?: string; history: History }>,
  decode?: Decode,
): RunEvent[] {
  const mapper = new RunEventMapper({ workflowId, decode });
  const out: RunEvent[] = [];
  histories.forEach((h, index) => {
    const history = 'history' in h ? h.history : h;
    mapper.beginExecution(index, 'history' in h ? h.runId : undefined);
    for (const event of history.events ?? []) out.push(...mapper.push(event));
    out.push(...mapper.flush());
  });
  return out;
}
