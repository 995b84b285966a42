/**
 * The run's token and cost ledger: usage per step path and in total, and the budget gates. A
 * budget belongs to a scope (the run, or a step and everything under it); a model call first
 * passes every gate covering its step, and a crossed budget waits on one human decision per scope
 * — parallel callers share it — instead of spending on.
 */
import { ApplicationFailure, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { COST_USD_ATTRIBUTE, TOKENS_ATTRIBUTE } from '../contracts/run';
import { budgetApprovalId, type ApprovalDecision, type ApprovalRequest } from '../approvals/approval-request';
import {
  addUsage,
  asUsage,
  totalTokens,
  ZERO_USAGE,
  type Usage,
  type Budget,
  type LedgerState,
  type LedgerSummary,
  type UsageTotals,
} from '../contracts/llm';

/** The ledger as one step sees it. */
export interface StepLedger {
  /** Records a model call's usage against this step (and so the run). */
  charge(usage: Usage): void;
  /** Resolves when every budget covering this step has room; throws BudgetExceeded when a human said stop. */
  gate(): Promise<void>;
  /** Gives this step (and what runs under it) a budget of its own. */
  limit(budget: Budget): void;
  /** Usage of this step and everything under it. */
  spent(): UsageTotals;
  /** What every budget covering this step still allows, the tightest of each (a child run's budget). */
  remaining(): Budget;
}

/** The interpreter's approval wait: `recordPath` is the step shown waiting, `approvalId` what the API approves. */
export type BudgetApproval = (
  recordPath: string,
  request: ApprovalRequest,
  approvalId: string,
) => Promise<ApprovalDecision>;

interface Scope {
  path: string;
  original: Budget;
  limit: Budget;
  stopped?: ApprovalDecision;
  pending?: Promise<void>;
}

export const RUN_SCOPE = '';
export const RUN_BUDGET_APPROVAL = '~budget';

/** The detail a run's failure carries with its spend. */
export interface RunUsageDetail {
  runUsage: UsageTotals;
}

const isZero = (u: Usage) => u.calls === 0 && u.inputTokens === 0 && u.outputTokens === 0 && u.costUsd === 0;

/** What a child run spent, read from its result or from its failure's details. */
export function childUsage(outcome: { usage?: LedgerSummary } | unknown[] | null | undefined): Usage | undefined {
  const found = Array.isArray(outcome)
    ? (outcome.find((d) => d !== null && typeof d === 'object' && 'runUsage' in d) as RunUsageDetail | undefined)
        ?.runUsage
    : outcome?.usage?.total;
  const usage = asUsage(found);
  return usage && !isZero(usage) ? usage : undefined;
}

const round = (usd: number) => Math.round(usd * 1e9) / 1e9;
const withTotal = (u: Usage): UsageTotals => ({ ...u, costUsd: round(u.costUsd), totalTokens: totalTokens(u) });

/** `a` is `scope` or lies under it: `s`, `s.x`, `s[2].y`. */
function isUnder(path: string, scope: string): boolean {
  return scope === RUN_SCOPE || path === scope || path.startsWith(`${scope}.`) || path.startsWith(`${scope}[`);
}

function describeBudget(b: Budget): string {
  const parts = [];
  if (b.tokens !== undefined) parts.push(`${b.tokens} tokens`);
  if (b.usd !== undefined) parts.push(`$${b.usd}`);
  return parts.join(' or ');
}

function exceeded(limit: Budget, spent: Usage): boolean {
  return (
    (limit.tokens !== undefined && totalTokens(spent) >= limit.tokens) ||
    (limit.usd !== undefined && spent.costUsd >= limit.usd)
  );
}

export class Ledger {
  private total: Usage;
  private readonly byStep: Map<string, Usage>;
  private readonly scopes = new Map<string, Scope>();
  private dirty = false;

  constructor(
    private readonly opts: {
      budget?: Budget;
      carried?: LedgerState;
      requestApproval: BudgetApproval;
      /** Called with a step's new usage after each charge (progress shows it). */
      onCharge?: (path: string, usage: UsageTotals) => void;
    },
  ) {
    this.total = opts.carried?.total ?? ZERO_USAGE;
    this.byStep = new Map(Object.entries(opts.carried?.byStep ?? {}));
    // After continue-as-new the memo is written again at the first flush.
    this.dirty = this.total.calls > 0;
    if (opts.budget && (opts.budget.tokens !== undefined || opts.budget.usd !== undefined)) {
      this.addScope(RUN_SCOPE, opts.budget, opts.carried?.limits[RUN_SCOPE]);
    }
  }

  forStep(path: string): StepLedger {
    return {
      charge: (usage) => this.charge(path, usage),
      gate: () => this.gate(path),
      limit: (budget) => this.addScope(path, budget),
      spent: () => withTotal(this.spentIn(path)),
      remaining: () => this.remaining(path),
    };
  }

  /**
   * A run's failure with what the run spent attached (`{ runUsage }` appended to its details), so
   * the parent of a failed child run charges it too (see `childUsage`).
   */
  withUsage(err: unknown): unknown {
    if (!(err instanceof ApplicationFailure) || isZero(this.total)) return err;
    return ApplicationFailure.create({
      type: err.type ?? undefined,
      message: err.message,
      nonRetryable: err.nonRetryable ?? undefined,
      cause: err.cause,
      details: [...(err.details ?? []), { runUsage: withTotal(this.total) } satisfies RunUsageDetail],
    });
  }

  summary(): LedgerSummary {
    return {
      total: withTotal(this.total),
      budgets: [...this.scopes.values()].map((s) => ({
        scope: s.path === RUN_SCOPE ? 'run' : s.path,
        limit: s.limit,
        spent: withTotal(this.spentIn(s.path)),
        ...(s.stopped && { stopped: { by: s.stopped.by, at: s.stopped.at, comment: s.stopped.comment } }),
      })),
    };
  }

  state(): LedgerState {
    return {
      total: this.total,
      byStep: Object.fromEntries(this.byStep),
      limits: Object.fromEntries([...this.scopes.values()].map((s) => [s.path, s.limit])),
    };
  }

  /** Writes the totals to the run's memo and search attributes when they changed. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const total = withTotal(this.total);
    upsertMemo({ usage: total });
    upsertSearchAttributes([
      { key: TOKENS_ATTRIBUTE, value: total.totalTokens },
      { key: COST_USD_ATTRIBUTE, value: total.costUsd },
    ]);
  }

  private addScope(path: string, budget: Budget, carriedLimit?: Budget): void {
    if (this.scopes.has(path)) return;
    this.scopes.set(path, { path, original: budget, limit: carriedLimit ?? budget });
  }

  private charge(path: string, usage: Usage): void {
    this.total = addUsage(this.total, usage);
    const step = addUsage(this.byStep.get(path) ?? ZERO_USAGE, usage);
    this.byStep.set(path, step);
    this.dirty = true;
    this.opts.onCharge?.(path, withTotal(step));
  }

  private remaining(path: string): Budget {
    let tokens: number | undefined;
    let usd: number | undefined;
    for (const scope of this.scopes.values()) {
      if (!isUnder(path, scope.path)) continue;
      const spent = this.spentIn(scope.path);
      if (scope.limit.tokens !== undefined)
        tokens = Math.min(tokens ?? Infinity, Math.max(0, scope.limit.tokens - totalTokens(spent)));
      if (scope.limit.usd !== undefined) {
        const left = scope.limit.usd - spent.costUsd;
        // Rounded for display, but never to 0 while something is left (0 would ask for approval at once).
        usd = Math.min(usd ?? Infinity, left > 0 ? Math.max(round(left), 1e-9) : 0);
      }
    }
    return { ...(tokens !== undefined && { tokens }), ...(usd !== undefined && { usd }) };
  }

  private spentIn(scope: string): Usage {
    if (scope === RUN_SCOPE) return this.total;
    let sum = ZERO_USAGE;
    for (const [path, usage] of this.byStep) if (isUnder(path, scope)) sum = addUsage(sum, usage);
    return sum;
  }

  private async gate(path: string): Promise<void> {
    // Outermost first: the run's budget, then each enclosing step's.
    const covering = [...this.scopes.values()]
      .filter((s) => isUnder(path, s.path))
      .sort((a, b) => a.path.length - b.path.length);
    for (const scope of covering) {
      while (exceeded(scope.limit, this.spentIn(scope.path))) {
        if (scope.stopped) throw this.stoppedFailure(scope);
        scope.pending ??= this.askToRaise(scope, path).finally(() => (scope.pending = undefined));
        await scope.pending;
      }
    }
  }

  private async askToRaise(scope: Scope, recordPath: string): Promise<void> {
    const spent = withTotal(this.spentIn(scope.path));
    const raised = {
      ...(scope.limit.tokens !== undefined && { tokens: scope.limit.tokens + (scope.original.tokens ?? 0) }),
      ...(scope.limit.usd !== undefined && { usd: round(scope.limit.usd + (scope.original.usd ?? 0)) }),
    };
    const what = scope.path === RUN_SCOPE ? 'Run budget' : `Budget of step ${scope.path}`;
    const decision = await this.opts.requestApproval(
      recordPath,
      {
        prompt:
          `${what} reached: spent ${spent.totalTokens} tokens ($${spent.costUsd}) of ${describeBudget(scope.limit)}. ` +
          `Approve to raise it to ${describeBudget(raised)}, reject to stop.`,
        onTimeout: 'reject',
      },
      budgetApprovalId(scope.path),
    );
    if (decision.decision === 'approve') scope.limit = raised;
    else scope.stopped = decision;
  }

  private stoppedFailure(scope: Scope): ApplicationFailure {
    const spent = withTotal(this.spentIn(scope.path));
    const who = scope.stopped?.comment
      ? `${scope.stopped.by}: ${scope.stopped.comment}`
      : (scope.stopped?.by ?? 'a human');
    const what = scope.path === RUN_SCOPE ? 'run budget' : `budget of step ${scope.path}`;
    return ApplicationFailure.create({
      type: 'BudgetExceeded',
      message: `${what} of ${describeBudget(scope.limit)} reached (spent ${spent.totalTokens} tokens, $${spent.costUsd}); stopped by ${who}`,
      nonRetryable: true,
      details: [{ scope: scope.path || 'run', limit: scope.limit, spent }],
    });
  }
}
