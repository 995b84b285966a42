/**
 * What the interpreter's approval wait takes and gives back, and the ids of the approvals the system
 * asks for itself (budgets). Shared by step kinds, the agent loop and the ledger.
 */
import { patched } from '@temporalio/workflow';
import type { DecisionChannel } from '../contracts/identity';

export interface ApprovalRequest {
  prompt?: string;
  approvers?: string[];
  timeoutMs?: number;
  onTimeout: 'approve' | 'reject';
  /** Named options beyond approve/reject (e.g. retry, skip, abort); a decision may carry one. */
  choices?: string[];
  /** When `timeoutMs` passes undecided: these approvers join, a notification goes out, and a new timeout starts. */
  escalate?: { approvers: string[]; timeoutMs: number };
  /** A person's input an MCP server asked for (elicitation): the pending approval's kind is `input`. */
  input?: { requestedSchema: Record<string, unknown> };
  /** The MCP server behind the request (inputs, sampling approvals). */
  server?: string;
}

export interface ApprovalDecision {
  decision: 'approve' | 'reject';
  by: string;
  groups?: string[];
  channel?: DecisionChannel;
  comment?: string;
  /** ISO time of the decision. */
  at: string;
  /** true when no human answered before the timeout and the default applied. */
  timedOut: boolean;
  /** One of the request's `choices`, when the human picked one. */
  choice?: string;
  /** An input's accepted content. */
  content?: Record<string, unknown>;
}

/**
 * Approvals the system asks for itself (a budget reached) have ids no step path can produce: step
 * ids are letters, digits, `_` and `-`, and paths join them with `.` and `[n]`, never `~`. `~` needs
 * no escaping in a URL path segment (POST /workflows/:id/approvals/:stepId).
 */
export const INTERNAL_APPROVAL_MARK = '~';

/** Runs that asked for a budget approval before this change used `budget` and `<path>.budget`. */
export const INTERNAL_APPROVAL_IDS_PATCH = 'internal-approval-ids';

/** The approval id of the budget of `scopePath` (`''`: the run's): `~budget`, `each[2].review~budget`. */
export function budgetApprovalId(scopePath: string): string {
  if (!patched(INTERNAL_APPROVAL_IDS_PATCH)) return scopePath ? `${scopePath}.budget` : 'budget';
  return `${scopePath}${INTERNAL_APPROVAL_MARK}budget`;
}
