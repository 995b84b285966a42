/**
 * What a run tells the world about its approvals without being asked: the memo (read by the
 * inbox and, from history, by the run-event stream) and the search attributes the inbox queries.
 * Every change is one memo upsert and one search-attribute upsert in the same workflow task.
 */
import { patched, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import {
  APPROVAL_SINCE_ATTRIBUTE,
  APPROVERS_ATTRIBUTE,
  LAST_DECISION_MEMO,
  LAST_REFUSAL_MEMO,
  PENDING_APPROVALS_ATTRIBUTE,
  PENDING_APPROVALS_MEMO,
  type ClosedApproval,
  type PendingApproval,
  type RefusedDecision,
} from '../contracts/run';

/**
 * Runs from before the inbox upserted only AgentPendingApprovals; their histories replay that way.
 * The history contract (memo keys, what each upsert holds) is in /work/notes/issue10-design.md.
 */
export const APPROVAL_INBOX_PATCH = 'approval-inbox';

/** The AgentApprovers entry of an approval that names no approvers: anyone with the approver role. */
export const ANY_APPROVER = '*';
/** Prompts are copied into the memo up to this length (the full prompt is in the progress query). */
const MEMO_PROMPT_CHARS = 2000;

function forMemo(p: PendingApproval): PendingApproval {
  if (p.prompt === undefined || p.prompt.length <= MEMO_PROMPT_CHARS) return p;
  return { ...p, prompt: `${p.prompt.slice(0, MEMO_PROMPT_CHARS - 1)}…` };
}

/** Every approver entry of the pending approvals (`*` for one open to anyone), each once. */
export function approverEntries(pending: readonly PendingApproval[]): string[] {
  const entries = new Set<string>();
  for (const p of pending) {
    if (!p.approvers?.length) entries.add(ANY_APPROVER);
    else for (const a of p.approvers) entries.add(a);
  }
  return [...entries];
}

/** The oldest `requestedAt` (ISO strings of the workflow clock compare as times). */
function oldestRequest(pending: readonly PendingApproval[]): string | undefined {
  let oldest: string | undefined;
  for (const p of pending) if (oldest === undefined || p.requestedAt < oldest) oldest = p.requestedAt;
  return oldest;
}

/**
 * After the pending set changed (an approval requested, escalated or closed): the memo holds the
 * full list (and the closing decision), the search attributes who may decide and since when;
 * both are cleared when nothing is pending.
 */
export function syncInbox(pending: readonly PendingApproval[], closed?: ClosedApproval): void {
  if (!patched(APPROVAL_INBOX_PATCH)) {
    upsertSearchAttributes([{ key: PENDING_APPROVALS_ATTRIBUTE, value: pending.map((p) => p.stepId) }]);
    return;
  }
  upsertMemo({ [PENDING_APPROVALS_MEMO]: pending.map(forMemo), ...(closed && { [LAST_DECISION_MEMO]: closed }) });
  const approvers = approverEntries(pending);
  const since = oldestRequest(pending);
  upsertSearchAttributes([
    { key: PENDING_APPROVALS_ATTRIBUTE, value: pending.map((p) => p.stepId) },
    // null removes the attribute, so a run with nothing pending matches no approver query.
    { key: APPROVERS_ATTRIBUTE, value: approvers.length > 0 ? approvers : null },
    { key: APPROVAL_SINCE_ATTRIBUTE, value: since === undefined ? null : new Date(since) },
  ]);
}

/** A refused decision changes nothing pending: only the memo records it (history keeps each one). */
export function recordRefusal(refused: RefusedDecision): void {
  if (patched(APPROVAL_INBOX_PATCH)) upsertMemo({ [LAST_REFUSAL_MEMO]: refused });
}
