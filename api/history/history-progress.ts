/**
 * A run's progress as its history tells it, without asking a worker: the shape of the `progress`
 * query (workflows/contracts/run.ts RunProgress), folded from the run events the SSE stream is
 * rebuilt from (api/events/history-events.ts). Pure: the caller reads the history.
 *
 * One execution's history is enough: continue-as-new hands the next execution the records of
 * every top-level step so far (`resume.steps` in its input), which this view starts from.
 *
 * What only the live query knows: step outputs (the history holds activity results, not what a
 * step made of them; only carried records and a completed run's result hold outputs), a step's
 * own `progress` and `usage`, budgets, and a step skipped by the run before it closed. Container
 * steps (parallel, branch, device_session) leave no event of their own: they are inferred from
 * the steps inside them (started with the first, finished once a step after them started).
 */
import type { Payload } from '@temporalio/common';
import { historyToRunEvents } from '../events/history-events';
import type { History } from '../../temporal/replay/history';
import type { LedgerSummary } from '../../workflows/contracts/llm';
import type {
  PendingApproval,
  RefusedDecision,
  RunInput,
  RunPhase,
  RunProgress,
  RunResult,
  StepRecord,
  StepStatus,
} from '../../workflows/contracts/run';
import type { RunEvent } from '../../workflows/contracts/run-events';
import type { Step } from '../../workflows/contracts/spec';
import { STEP_KINDS } from '../../workflows/steps';
import type { StepKind } from '../../workflows/steps/step-kind';
import { stepIdOfPath } from './spec-steps';

/** Where a run's progress came from: the worker's answer, the history, or the completed run's result. */
export type ProgressSource = 'live' | 'history' | 'result';
export const PROGRESS_SOURCES = ['live', 'history', 'result'] as const satisfies readonly ProgressSource[];

/** RunProgress as far as the history tells it (`usage` with budgets: only the live query and the result). */
export type ProgressView = Omit<RunProgress, 'usage'> & { usage?: LedgerSummary };

/** What the run events of one execution say about its steps and approvals. */
export interface FoldedRun {
  steps: Record<string, StepRecord>;
  pendingApprovals: PendingApproval[];
  refusedDecisions: RefusedDecision[];
  /** How the run ended, when the events reach its end (not a continue-as-new). */
  finished?: { status: string; error?: string; failedStep?: string };
}

/** Refused decisions kept, newest last (the interpreter's approval desk keeps as many). */
const REFUSALS_SHOWN = 20;

const FINISHED: ReadonlySet<StepStatus> = new Set(['completed', 'failed', 'cancelled', 'skipped']);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Folds run events (one execution's, in order) into step records, starting from the records the
 * execution carried in. Steps waiting on an approval they own are `waiting`, as the live query has them.
 */
export function foldRunEvents(events: readonly RunEvent[], carried: Record<string, StepRecord> = {}): FoldedRun {
  const steps: Record<string, StepRecord> = { ...carried };
  const pending = new Map<string, PendingApproval>();
  const refused: RefusedDecision[] = [];
  let finished: FoldedRun['finished'];
  const record = (path: string, at: string, kind: unknown): StepRecord => {
    let rec = steps[path];
    if (!rec) {
      rec = { id: stepIdOfPath(path), kind: str(kind) ?? 'unknown', status: 'running', startedAt: at };
      steps[path] = rec;
    } else if (str(kind)) rec.kind = kind as string;
    return rec;
  };
  for (const e of events) {
    const step = e.step;
    const data = e.data;
    switch (e.type) {
      case 'step.started':
        if (step === undefined) break;
        // A record carried in is a finished step; one started again (a rerun's step) starts afresh.
        if (steps[step] && FINISHED.has(steps[step].status)) delete steps[step];
        record(step, e.at, data.kind);
        break;
      case 'step.finished':
      case 'step.failed':
      case 'step.skipped': {
        if (step === undefined) break;
        const rec = record(step, e.at, data.kind);
        rec.status = e.type === 'step.skipped' ? 'skipped' : ((str(data.status) as StepStatus) ?? 'completed');
        rec.finishedAt = e.at;
        if (e.type === 'step.failed') rec.error = stepError(step, str(data.error) ?? rec.status);
        else delete rec.error;
        break;
      }
      case 'approval.requested':
      case 'approval.escalated': {
        if (step === undefined) break;
        const request: Record<string, unknown> = { stepId: step, ...data };
        delete request.escalatedTo;
        pending.set(step, request as unknown as PendingApproval);
        break;
      }
      case 'approval.decided':
        if (step !== undefined) pending.delete(step);
        break;
      case 'approval.refused':
        if (step === undefined) break;
        refused.push({ stepId: step, ...data } as unknown as RefusedDecision);
        if (refused.length > REFUSALS_SHOWN) refused.shift();
        break;
      case 'run.finished':
        finished = {
          status: str(data.status) ?? 'completed',
          error: str(data.error),
          failedStep: str(data.failedStep),
        };
        break;
    }
  }
  // A closed run waits for nothing (its end settled every step).
  if (finished) pending.clear();
  for (const approvalId of pending.keys()) {
    const owner = ownerOf(approvalId, steps);
    if (owner && steps[owner]?.status === 'running') steps[owner].status = 'waiting';
  }
  return { steps, pendingApprovals: [...pending.values()], refusedDecisions: refused, finished };
}

/** The run's failure names the step (`step "x" failed: <error>`); the step's record holds `<error>`. */
function stepError(path: string, error: string): string {
  const named = `step "${path}" failed: `;
  return error.startsWith(named) ? error.slice(named.length) : error;
}

/**
 * The step an approval holds: `deploy` → deploy, `agent.<call>` → agent, `each[2].review~budget` →
 * each[2].review (a budget's scope); none for the run's own budget (`~budget`).
 */
function ownerOf(approvalId: string, steps: Record<string, StepRecord>): string | undefined {
  let path = approvalId.split('~')[0] ?? '';
  while (path && !steps[path]) path = path.slice(0, Math.max(0, path.lastIndexOf('.')));
  return path || undefined;
}

function nestedOf(step: Step): { lists: Step[][]; exported: boolean } | undefined {
  // A spec recorded by older code may name a kind this code no longer has: no nesting known.
  const kind = (STEP_KINDS as Record<string, StepKind | undefined>)[step.kind];
  return kind?.nested?.(step);
}

const join = (prefix: string, id: string) => (prefix ? `${prefix}.${id}` : id);

/** Ids of the steps that run at the container's own prefix (exported lists, not a map's items). */
function innerIds(step: Step): string[] {
  const nested = nestedOf(step);
  if (!nested?.exported) return [];
  return nested.lists.flat().flatMap((s) => [s.id, ...innerIds(s)]);
}

/** A failing step inside fails the container, except a parallel that collects every branch's outcome. */
function failsWithInner(step: Step): boolean {
  return !(step.kind === 'parallel' && (step as { mode?: string }).mode === 'collectAll');
}

function containerRecord(step: Step, inner: Array<[string, StepRecord]>, finished: boolean): StepRecord | undefined {
  const records = inner.map(([, r]) => r);
  if (records.length === 0) return undefined;
  const startedAt = records.map((r) => r.startedAt).sort()[0] as string;
  const rec: StepRecord = { id: step.id, kind: step.kind, status: 'running', startedAt };
  if (!finished || records.some((r) => r.status === 'running' || r.status === 'waiting')) return rec;
  const failed = failsWithInner(step) ? inner.find(([, r]) => r.status === 'failed') : undefined;
  rec.status = failed ? 'failed' : records.some((r) => r.status === 'cancelled') ? 'cancelled' : 'completed';
  // As the interpreter records it: the inner step's failure, which names that step.
  if (failed) rec.error = `step "${failed[0]}" failed: ${failed[1].error ?? 'failed'}`;
  const ends = records.map((r) => r.finishedAt).filter((t): t is string => t !== undefined);
  if (ends.length > 0) rec.finishedAt = ends.sort().at(-1);
  return rec;
}

/**
 * Adds the container steps of `list` (run at `prefix`) that the history has no event for, from
 * the steps inside them. `after`: a step after this list started (or the run ended), so a
 * container with nothing running inside has finished.
 */
export function addContainerSteps(
  list: readonly Step[],
  steps: Record<string, StepRecord>,
  after: boolean,
  prefix = '',
): void {
  let later = after;
  // Last first: whether a later sibling started decides whether an earlier container finished.
  for (let i = list.length - 1; i >= 0; i--) {
    const step = list[i] as Step;
    const path = join(prefix, step.id);
    const nested = nestedOf(step);
    if (nested?.exported) {
      for (const inner of nested.lists) addContainerSteps(inner, steps, later, prefix);
      if (!steps[path]) {
        const inner = innerIds(step).flatMap((id): Array<[string, StepRecord]> => {
          const p = join(prefix, id);
          return steps[p] ? [[p, steps[p]]] : [];
        });
        const rec = containerRecord(step, inner, later);
        if (rec) steps[path] = rec;
      }
    }
    if (steps[path]) later = true;
  }
}

const PHASE_OF_END: Record<string, RunPhase> = {
  completed: 'completed',
  failed: 'failed',
  timed_out: 'failed',
  cancelled: 'cancelled',
  terminated: 'cancelled',
};

/** The phase and running steps of a progress view, as the live query derives them. */
export function phaseOf(
  steps: Record<string, StepRecord>,
  pending: readonly PendingApproval[],
  finished?: string,
): { phase: RunPhase; current: string[] } {
  const current = Object.entries(steps)
    .filter(([, r]) => r.status === 'running' || r.status === 'waiting')
    .map(([p]) => p);
  if (finished !== undefined) return { phase: PHASE_OF_END[finished] ?? 'failed', current };
  return { phase: pending.length > 0 ? 'waiting_approval' : 'running', current };
}

function specOf(input: RunInput | undefined): ProgressView['spec'] {
  const version = input?.spec?.version;
  return { name: input?.spec?.name ?? '', ...(version !== undefined && { version }) };
}

/** The RunInput an execution's history starts with. */
export function inputOfHistory(history: History, decode: (p: Payload | null | undefined) => unknown) {
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const input = decode(payload) as RunInput | undefined;
  return input && typeof input === 'object' ? input : undefined;
}

/** The progress of one execution (the latest of a run, or any closed one) from its history alone. */
export function progressFromHistory(
  workflowId: string,
  history: History,
  decode: (p: Payload | null | undefined) => unknown,
): ProgressView {
  const input = inputOfHistory(history, decode);
  const carried = input?.resume?.steps && typeof input.resume.steps === 'object' ? input.resume.steps : {};
  const folded = foldRunEvents(historyToRunEvents(workflowId, [history], decode), carried);
  const specSteps = Array.isArray(input?.spec?.steps) ? input.spec.steps : [];
  addContainerSteps(specSteps, folded.steps, folded.finished !== undefined);
  // A fan-out's child runs items of its parent's step, which is the parent's to show.
  if (input?.fragment?.path !== undefined) delete folded.steps[input.fragment.path];
  return {
    spec: specOf(input),
    ...phaseOf(folded.steps, folded.pendingApprovals, folded.finished?.status),
    steps: folded.steps,
    pendingApprovals: folded.pendingApprovals,
    refusedDecisions: folded.refusedDecisions,
    generation: input?.resume?.generation ?? 0,
  };
}

/** A completed run's progress: its result holds every step's record (outputs included) and its usage. */
export function progressFromResult(result: RunResult, input: RunInput | undefined): ProgressView {
  return {
    spec: specOf(input),
    phase: 'completed',
    current: [],
    steps: result.steps,
    pendingApprovals: [],
    generation: input?.resume?.generation ?? 0,
    usage: result.usage,
  };
}
