/**
 * A run's approvals: what is pending, how a decision arrives (the `approve` update from the API,
 * or the `approve` signal from the Temporal CLI and Web UI), who may take it, and what the run
 * tells the inbox and webhooks. Of all decisions on one approval exactly one is taken: the update
 * validator and the signal path both check and set `decided` without yielding in between.
 */
import { HandlerUnfinishedPolicy } from '@temporalio/common';
import { condition, setHandler } from '@temporalio/workflow';
import { hasRole } from '../contracts/identity';
import {
  approveSignal,
  approveUpdate,
  type ApprovalInput,
  type ApprovalResult,
  type ClosedApproval,
  type PendingApproval,
  type RefusedDecision,
  type StepStatus,
} from '../contracts/run';
import { alreadyDecided, refusal } from '../steps/approval';
import type { ApprovalDecision, ApprovalRequest } from './approval-request';
import {
  DECISION_CHANNELS,
  invalidDecision,
  isGroupList,
  linkRefusal,
  notAnApprover,
  openApproval,
  parseSignal,
  type OpenApproval,
} from './decision-checks';
import { recordRefusal, syncInbox } from './inbox-state';
import type { RunNotices } from './run-notices';
import { checkDecisionToken } from './token-check';

/** Refused decisions the progress query shows (history keeps every one in the memo upserts). */
const REFUSALS_SHOWN = 20;

const iso = (ms: number) => new Date(ms).toISOString();

export class ApprovalDesk {
  private readonly pending = new Map<string, OpenApproval>();
  /** The last decision (or timeout) of each approval id that is no longer pending. */
  private readonly closed = new Map<string, ApprovalResult>();
  private readonly nonces: Set<string>;
  private readonly refusals: RefusedDecision[] = [];
  /** Signals are taken one at a time, in the order they arrived. */
  private signalTurn: Promise<void> = Promise.resolve();

  constructor(
    private readonly notices: RunNotices,
    usedNonces: readonly string[] = [],
  ) {
    this.nonces = new Set(usedNonces);
  }

  /** Registers the `approve` update and signal; call before the run's first await. */
  listen(): void {
    setHandler(approveUpdate, (input) => this.accept(input), {
      description: 'Decide a pending approval (the REST API sends this): { stepId, decision, by, groups, channel }',
      // Runs before each update is accepted, and after the handlers of earlier updates in the same
      // workflow task: of concurrent decisions on one step, exactly one is accepted.
      validator: (input) => this.validate(input),
    });
    setHandler(approveSignal, (input) => this.queueSignal(input), {
      description:
        'Decide a pending approval: { "stepId": "approve", "decision": "approve" | "reject", "token": "<decision token>", "comment"?, "choice"? } ' +
        '(a decision token: POST /workflows/<id>/approvals/<stepId>/signal-token)',
      // A signal still being checked when the run ends changes nothing; no warning needed.
      unfinishedPolicy: HandlerUnfinishedPolicy.ABANDON,
    });
  }

  get waiting(): boolean {
    return this.pending.size > 0;
  }

  pendingApprovals(): PendingApproval[] {
    return [...this.pending.values()].map((w) => w.request);
  }

  refusedDecisions(): RefusedDecision[] {
    return [...this.refusals];
  }

  /** For continue-as-new: the nonces (links, decision tokens) accepted so far. */
  usedNonces(): string[] {
    return [...this.nonces];
  }

  /**
   * Waits for a decision on approval `id` (the step's path, or a sub-decision of it); `path` is the
   * step that waits, whose `record` shows `waiting` meanwhile. A timeout escalates when the request
   * says so, then applies the default decision. Awaits exactly what the interpreter awaited before
   * this module existed (one condition), so recorded histories replay tick for tick.
   */
  async request(
    req: ApprovalRequest,
    id: string,
    path: string,
    record?: { status: StepStatus },
  ): Promise<ApprovalDecision> {
    const now = Date.now();
    this.closed.delete(id);
    const open: OpenApproval = {
      request: {
        stepId: id,
        prompt: req.prompt,
        approvers: req.approvers,
        requestedAt: iso(now),
        timeoutAt: req.timeoutMs === undefined ? undefined : iso(now + req.timeoutMs),
        onTimeout: req.onTimeout,
        choices: req.choices,
        ...(req.input && { kind: 'input' as const, requestedSchema: req.input.requestedSchema }),
        ...(req.server !== undefined && { server: req.server }),
      },
    };
    this.pending.set(id, open);
    if (record) record.status = 'waiting';
    syncInbox(this.pendingApprovals());
    this.notices.emit('approval.requested', { ...open.request }, id);
    let outcome: ClosedApproval | undefined;
    try {
      const decided = () => open.decided !== undefined;
      let answered =
        req.timeoutMs === undefined
          ? (await condition(decided), true)
          : await condition(decided, req.timeoutMs, { summary: `${path}: approval timeout` });
      if (!answered && req.escalate && req.timeoutMs !== undefined) {
        this.escalate(open, req.escalate);
        answered = await condition(decided, req.escalate.timeoutMs, { summary: `${path}: escalation timeout` });
      }
      if (answered && open.decided) {
        outcome = { ...open.decided, timedOut: false };
        return outcome;
      }
      open.decided = { stepId: id, decision: req.onTimeout, by: 'timeout', at: new Date().toISOString() };
      outcome = { ...open.decided, timedOut: true };
      return { decision: outcome.decision, by: outcome.by, at: outcome.at, timedOut: true };
    } finally {
      this.pending.delete(id);
      if (open.decided) this.closed.set(id, open.decided);
      if (record) record.status = 'running';
      syncInbox(this.pendingApprovals(), outcome);
      if (outcome) this.notices.emit('approval.decided', { ...outcome }, id);
    }
  }

  /** The first timeout passed undecided: the escalation's approvers join and a new timeout runs. */
  private escalate(open: OpenApproval, escalation: NonNullable<ApprovalRequest['escalate']>): void {
    const now = Date.now();
    const own = open.request.approvers;
    open.request = {
      ...open.request,
      // An approval open to anyone stays open to anyone.
      approvers: own?.length ? [...new Set([...own, ...escalation.approvers])] : own,
      escalatedAt: iso(now),
      timeoutAt: iso(now + escalation.timeoutMs),
    };
    syncInbox(this.pendingApprovals());
    this.notices.emit(
      'approval.escalated',
      { ...open.request, escalatedTo: escalation.approvers },
      open.request.stepId,
    );
  }

  private validate(input: ApprovalInput): void {
    if (input.channel !== undefined && !DECISION_CHANNELS.includes(input.channel))
      throw refusal('InvalidDecision', `channel must be one of: ${DECISION_CHANNELS.join(', ')}`);
    // Before AlreadyDecided: a link used twice says so, even when its first use decided the step.
    const link = input.channel === 'link' ? linkRefusal(input, this.nonces) : undefined;
    if (link) throw link;
    const open = openApproval(input.stepId, this.pending, this.closed);
    if (!('request' in open)) throw open;
    const invalid = invalidDecision(input, open.request);
    if (invalid) throw invalid;
    if (typeof input.by !== 'string' || input.by.length === 0)
      throw refusal('InvalidDecision', 'by is required: who decided');
    if (!isGroupList(input.groups)) throw refusal('InvalidDecision', 'groups must be a list of group names');
    const outsider = notAnApprover(open.request, { user: input.by, groups: input.groups ?? [] });
    if (outsider) throw outsider;
  }

  /** The update's handler: its validator accepted the decision just now, in this same task. */
  private accept(input: ApprovalInput): ApprovalResult {
    const result: ApprovalResult = {
      stepId: input.stepId,
      decision: input.decision,
      by: input.by,
      ...(input.groups !== undefined && { groups: input.groups }),
      channel: input.channel ?? 'api',
      ...(input.comment !== undefined && { comment: input.comment }),
      ...(input.choice !== undefined && { choice: input.choice }),
      ...(input.content !== undefined && { content: input.content }),
      at: new Date().toISOString(),
    };
    const open = this.pending.get(input.stepId);
    if (open?.decided) throw alreadyDecided(open.decided);
    if (open) open.decided = result;
    if (input.channel === 'link' && typeof input.nonce === 'string') this.nonces.add(input.nonce);
    return result;
  }

  private queueSignal(raw: unknown): Promise<void> {
    const turn = this.signalTurn.then(() => this.takeSignal(raw));
    this.signalTurn = turn;
    return turn;
  }

  /**
   * A signalled decision: refused (recorded, nothing else changes) unless the approval is open, the
   * token names someone holding the approver role whom its approvers name, a scoped token's nonce
   * is new, and no other decision came first meanwhile; then taken exactly as the update takes it,
   * with channel `signal`.
   */
  private async takeSignal(raw: unknown): Promise<void> {
    const parsed = parseSignal(raw);
    if (!parsed.ok) return this.refuse(parsed.stepId, parsed.reason);
    const input = parsed.input;
    const before = openApproval(input.stepId, this.pending, this.closed);
    if (!('request' in before)) return this.refuse(input.stepId, before.message);
    const invalid = invalidDecision(input, before.request);
    if (invalid) return this.refuse(input.stepId, invalid.message);

    const check = await checkDecisionToken({ stepId: input.stepId, decision: input.decision }, input.token);
    if (!check) return;
    if (!check.ok) return this.refuse(input.stepId, check.reason);
    const who = check.identity;
    const nonce = check.nonce;
    if (nonce !== undefined && this.nonces.has(nonce))
      return this.refuse(input.stepId, 'this decision token was already used: a decision token works once', who.user);
    if (!hasRole(who, 'approver'))
      return this.refuse(input.stepId, `${who.user} does not hold the approver role`, who.user);
    // The token check took a while: the approval may have been decided, escalated or closed.
    const open = openApproval(input.stepId, this.pending, this.closed);
    if (!('request' in open)) return this.refuse(input.stepId, open.message, who.user);
    const outsider = notAnApprover(open.request, who);
    if (outsider) return this.refuse(input.stepId, outsider.message, who.user);
    open.decided = {
      stepId: input.stepId,
      decision: input.decision,
      by: who.user,
      groups: who.groups,
      channel: 'signal',
      ...(input.comment !== undefined && { comment: input.comment }),
      ...(input.choice !== undefined && { choice: input.choice }),
      at: new Date().toISOString(),
    };
    if (nonce !== undefined) this.nonces.add(nonce);
  }

  private refuse(stepId: string, reason: string, by?: string): void {
    const refused: RefusedDecision = {
      stepId,
      channel: 'signal',
      ...(by !== undefined && { by }),
      reason,
      at: new Date().toISOString(),
    };
    this.refusals.push(refused);
    if (this.refusals.length > REFUSALS_SHOWN) this.refusals.shift();
    recordRefusal(refused);
  }
}
