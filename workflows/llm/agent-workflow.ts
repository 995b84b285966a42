/**
 * A long agent loop as a child workflow of its own (`agentLoop`, id `<run>.<step path>.agent`)
 * that continues as new every few dozen turns, carrying only the conversation's reference and
 * counters: so no execution's history grows with the number of turns.
 *
 * The loop still belongs to its step. Approvals stay the parent run's (same ids, same API): the
 * child asks the parent by signal and the parent answers by signal. The budgets covering the step
 * are the parent's: the child starts with what they allow, and when it has spent that, it reports
 * its spend and asks the parent's ledger for more (which may wait on a human). What it spent
 * since its last report comes back with its result, or with its failure.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  isCancellation,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { ApprovalDecision, ApprovalRequest } from '../approvals/approval-request';
import {
  runAgentTurns,
  type AgentLoopContext,
  type AgentLoopOptions,
  type AgentLoopState,
  type AgentProgress,
  type AgentResult,
} from './agent-loop';
import { addUsage, totalTokens, ZERO_USAGE, type Usage, type Budget, type UsageTotals } from '../contracts/llm';
import { childUsage, type RunUsageDetail, type StepLedger } from './ledger';

export const AGENT_LOOP_WORKFLOW = 'agentLoop';
/** Turns one execution of the loop runs before it continues as new (sooner when Temporal suggests it). */
export const DEFAULT_TURNS_PER_RUN = 50;

/** The child asks its parent: a decision on a tool call, or more budget. */
export type AgentLoopRequest = { path: string; id: string; progress: AgentProgress } & (
  { kind: 'approval'; key?: string; request: ApprovalRequest } | { kind: 'budget'; spent: Usage }
);

export type AgentLoopAnswer = { id: string } & (
  | { decision: ApprovalDecision }
  | { budget: Budget }
  | { stopped: { type: string; message: string; details: unknown[] } }
);

export const agentLoopRequestSignal = defineSignal<[AgentLoopRequest]>('agentLoopRequest');
export const agentLoopAnswerSignal = defineSignal<[AgentLoopAnswer]>('agentLoopAnswer');
/** The loop's live progress, every shown turn (the parent's step shows it as of the last request). */
export const agentProgressQuery = defineQuery<AgentProgress>('agentProgress');

export interface RelayedLedgerState {
  /** What the parent's budgets allowed when it last answered. */
  allowance: Budget;
  /** Spent since then. */
  used: Usage;
  /** Spent and not yet reported to the parent. */
  unreported: Usage;
  total: Usage;
}

export interface AgentLoopInput {
  /** The agent step's path in the parent run: approval ids, summaries and messages use it. */
  path: string;
  options: AgentLoopOptions;
  /** What the budgets covering the step allowed when the loop started. */
  budget: Budget;
  turnsPerRun?: number;
  resume?: { loop: AgentLoopState; ledger: RelayedLedgerState };
}

export interface AgentLoopResult {
  result: AgentResult;
  progress: AgentProgress;
  /** Spent since the last report to the parent: the parent charges it. */
  usage: Usage;
}

const withTotal = (u: Usage): UsageTotals => ({ ...u, totalTokens: totalTokens(u) });

function exceeded(limit: Budget, spent: Usage): boolean {
  return (
    (limit.tokens !== undefined && totalTokens(spent) >= limit.tokens) ||
    (limit.usd !== undefined && spent.costUsd >= limit.usd)
  );
}

/** The loop's side of the parent's ledger: spends what it was allowed, then asks for more. */
class RelayedLedger implements StepLedger {
  private s: RelayedLedgerState;

  constructor(
    budget: Budget,
    carried: RelayedLedgerState | undefined,
    private readonly relay: (request: { kind: 'budget'; spent: Usage }) => Promise<AgentLoopAnswer>,
  ) {
    this.s = carried ?? { allowance: budget, used: ZERO_USAGE, unreported: ZERO_USAGE, total: ZERO_USAGE };
  }

  charge(usage: Usage): void {
    this.s.used = addUsage(this.s.used, usage);
    this.s.unreported = addUsage(this.s.unreported, usage);
    this.s.total = addUsage(this.s.total, usage);
  }

  async gate(): Promise<void> {
    while (exceeded(this.s.allowance, this.s.used)) {
      const spent = this.takeUnreported();
      const answer = await this.relay({ kind: 'budget', spent });
      if ('stopped' in answer) {
        const { type, message, details } = answer.stopped;
        throw ApplicationFailure.create({ type, message, nonRetryable: true, details });
      }
      if ('budget' in answer) this.s = { ...this.s, allowance: answer.budget, used: ZERO_USAGE };
    }
  }

  /** The parent set the step's own budget before the loop started; nothing under the loop adds one. */
  limit(): void {}

  spent(): UsageTotals {
    return withTotal(this.s.total);
  }

  remaining(): Budget {
    const { allowance, used } = this.s;
    return {
      ...(allowance.tokens !== undefined && { tokens: Math.max(0, allowance.tokens - totalTokens(used)) }),
      ...(allowance.usd !== undefined && { usd: Math.max(0, allowance.usd - used.costUsd) }),
    };
  }

  takeUnreported(): Usage {
    const spent = this.s.unreported;
    this.s.unreported = ZERO_USAGE;
    return spent;
  }

  state(): RelayedLedgerState {
    return this.s;
  }

  /** A failure with what was spent since the last report attached, as a failed run's (RunUsageDetail). */
  withUsage(err: unknown): unknown {
    const spent = this.s.unreported;
    if (!(err instanceof ApplicationFailure) || spent.calls === 0) return err;
    return ApplicationFailure.create({
      type: err.type ?? undefined,
      message: err.message,
      nonRetryable: err.nonRetryable ?? undefined,
      cause: err.cause,
      details: [...(err.details ?? []), { runUsage: withTotal(spent) } satisfies RunUsageDetail],
    });
  }
}

/** What a request shows the parent of the loop: the turn it is in, not every turn before. */
function brief(progress: AgentProgress): AgentProgress {
  const turns = progress.turns.slice(-1);
  const earlierTurns = (progress.earlierTurns ?? 0) + progress.turns.length - turns.length;
  return { ...progress, turns, ...(earlierTurns > 0 && { earlierTurns }) };
}

/** The child workflow: runs the loop's turns, and continues as new between two of them. */
export async function agentLoop(input: AgentLoopInput): Promise<AgentLoopResult> {
  const parent = workflowInfo().parent;
  if (!parent) {
    throw ApplicationFailure.create({
      type: 'InvalidInput',
      message: 'agentLoop runs as the child of an agent step, not on its own',
      nonRetryable: true,
    });
  }
  const resume = input.resume;
  let progress: AgentProgress = {
    iteration: resume ? resume.loop.iteration - 1 : 0,
    maxIterations: input.options.maxIterations,
    turns: resume?.loop.turns ?? [],
    ...(resume?.loop.earlierTurns && { earlierTurns: resume.loop.earlierTurns }),
  };
  const answers = new Map<string, AgentLoopAnswer>();
  setHandler(agentLoopAnswerSignal, (answer) => void answers.set(answer.id, answer));
  setHandler(agentProgressQuery, () => progress);

  const parentRun = getExternalWorkflowHandle(parent.workflowId, parent.runId);
  const relay = async (
    request: { kind: 'approval'; key?: string; request: ApprovalRequest } | { kind: 'budget'; spent: Usage },
  ): Promise<AgentLoopAnswer> => {
    const id = uuid4();
    await parentRun.signal(agentLoopRequestSignal, { ...request, id, path: input.path, progress: brief(progress) });
    await condition(() => answers.has(id));
    const answer = answers.get(id) as AgentLoopAnswer;
    answers.delete(id);
    return answer;
  };
  const ledger = new RelayedLedger(input.budget, resume?.ledger, relay);
  const ctx: AgentLoopContext = {
    path: input.path,
    ledger,
    async requestApproval(request, key) {
      const answer = await relay({ kind: 'approval', key, request });
      if (!('decision' in answer))
        throw new Error(`the parent answered an approval request with ${JSON.stringify(answer)}`);
      return answer.decision;
    },
    report: (p) => (progress = p as AgentProgress),
  };

  const turnsPerRun = input.turnsPerRun ?? DEFAULT_TURNS_PER_RUN;
  try {
    const outcome = await runAgentTurns(
      ctx,
      input.options,
      resume?.loop,
      (turnsHere) => turnsHere >= turnsPerRun || workflowInfo().continueAsNewSuggested,
    );
    if ('paused' in outcome) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof agentLoop>({
        ...input,
        resume: { loop: outcome.paused, ledger: ledger.state() },
      });
    }
    return { result: outcome.done, progress, usage: ledger.takeUnreported() };
  } catch (err) {
    throw ledger.withUsage(err);
  }
}

// ---- The parent's side: the agent step waits for its loop and answers what it asks. ----

/** Module state is per workflow execution: the agent steps of one run that wait on a child loop. */
const listeners = new Map<string, (request: AgentLoopRequest) => void>();
let listening = false;

function listenForAgent(path: string, onRequest: (request: AgentLoopRequest) => void): () => void {
  if (!listening) {
    listening = true;
    setHandler(agentLoopRequestSignal, (request) => listeners.get(request.path)?.(request));
  }
  listeners.set(path, onRequest);
  return () => {
    if (listeners.get(path) === onRequest) listeners.delete(path);
  };
}

const withoutRunUsage = (details: unknown[] | null | undefined): unknown[] =>
  (details ?? []).filter((d) => !(d !== null && typeof d === 'object' && 'runUsage' in d));

/** The loop's failure as the step would have raised it running the loop itself. */
function asLoopFailure(err: unknown): unknown {
  if (!(err instanceof ChildWorkflowFailure) || !(err.cause instanceof ApplicationFailure)) return err;
  const cause = err.cause;
  return ApplicationFailure.create({
    type: cause.type ?? undefined,
    message: cause.message,
    nonRetryable: true,
    cause: cause.cause,
    details: withoutRunUsage(cause.details),
  });
}

/** Runs the loop in a child workflow and serves its requests until it ends. */
export async function runAgentInChild(ctx: AgentLoopContext, options: AgentLoopOptions): Promise<AgentResult> {
  await ctx.ledger.gate();
  const workflowId = `${workflowInfo().workflowId}.${ctx.path}.agent`;
  const show = (p: AgentProgress) => ctx.report({ ...p, agentWorkflowId: workflowId });
  show({ iteration: 0, maxIterations: options.maxIterations, turns: [] });
  const inbox: AgentLoopRequest[] = [];
  const stopListening = listenForAgent(ctx.path, (request) => inbox.push(request));
  // Requests being served; cancelled when the loop ends (a failed loop leaves no approval pending).
  const serving = new CancellationScope();
  try {
    const child = await startChild(agentLoop, {
      workflowId,
      args: [{ path: ctx.path, options, budget: ctx.ledger.remaining() }],
      staticSummary: `agent ${ctx.path} (up to ${options.maxIterations} turns)`,
    });
    const answer = async (a: AgentLoopAnswer): Promise<void> => {
      try {
        await child.signal(agentLoopAnswerSignal, a);
      } catch (err) {
        // The loop ended meanwhile (failed, cancelled): nobody waits for the answer.
        if (isCancellation(err)) throw err;
      }
    };
    const serve = async (request: AgentLoopRequest): Promise<void> => {
      if (request.kind === 'approval') {
        const decision = await ctx.requestApproval(request.request, request.key);
        return answer({ id: request.id, decision });
      }
      if (request.spent.calls > 0) ctx.ledger.charge(request.spent);
      try {
        await ctx.ledger.gate();
      } catch (err) {
        if (!(err instanceof ApplicationFailure) || err.type !== 'BudgetExceeded') throw err;
        const stopped = { type: err.type, message: err.message, details: err.details ?? [] };
        return answer({ id: request.id, stopped });
      }
      return answer({ id: request.id, budget: ctx.ledger.remaining() });
    };

    let outcome: { ok: AgentLoopResult } | { err: unknown } | undefined;
    let broken: { err: unknown } | undefined;
    void child.result().then(
      (ok) => (outcome = { ok }),
      (err: unknown) => (outcome = { err }),
    );
    while (!outcome) {
      await condition(() => outcome !== undefined || broken !== undefined || inbox.length > 0);
      if (broken) throw broken.err;
      for (const request of inbox.splice(0)) {
        show(request.progress);
        void serving
          .run(() => serve(request))
          .catch((err: unknown) => {
            if (!isCancellation(err)) broken ??= { err };
          });
      }
    }
    if ('err' in outcome) {
      const err = outcome.err;
      if (err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure) {
        const spent = childUsage(err.cause.details);
        if (spent) ctx.ledger.charge(spent);
      }
      throw asLoopFailure(err);
    }
    const { result, progress, usage } = outcome.ok;
    if (usage.calls > 0) ctx.ledger.charge(usage);
    show(progress);
    return result;
  } finally {
    serving.cancel();
    stopListening();
  }
}
