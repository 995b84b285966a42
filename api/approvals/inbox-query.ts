/**
 * The visibility query behind GET /approvals, and the per-approval filter applied to each run's
 * memo. Visibility narrows runs (its attributes hold the union over a run's pending approvals);
 * the memo then says which of a run's approvals match. Pure, so both can be tested apart.
 */
import { type Identity, hasRole, mayDecide } from '../../workflows/contracts/identity';
import {
  APPROVAL_SINCE_ATTRIBUTE,
  APPROVERS_ATTRIBUTE,
  SPEC_NAME_ATTRIBUTE,
  type PendingApproval,
} from '../../workflows/contracts/run';
import { quoteVisibilityValue } from '../workflows/visibility-query';

/** The AgentApprovers entry of a step that names no approvers (anyone with the approver role). */
export const ANY_APPROVER = '*';

export interface InboxFilter {
  spec?: string;
  /** An approver entry: approvals whose approvers name it (`ana`, `user:ana`, `group:ops`; see approverFilterEntries). */
  approver?: string;
  /** A group: approvals whose approvers name it (`ops` or `group:ops`). */
  group?: string;
  /** Requested at or before this instant (ms since the epoch). */
  requestedBefore?: number;
  /** Only approvals this identity may decide. */
  decidableBy?: Identity;
}

const userEntries = (user: string) => [user, `user:${user}`];
const groupEntries = (group: string) => [group, `group:${group}`];

/** The entries an `approver` filter matches: `user:x` or `group:x` as written (and bare `x`); bare `x` either. */
export function approverFilterEntries(approver: string): string[] {
  if (approver.startsWith('user:')) return userEntries(approver.slice(5));
  if (approver.startsWith('group:')) return groupEntries(approver.slice(6));
  return [approver, `user:${approver}`, `group:${approver}`];
}

/** The approver entries under which `who` may decide a run's approval (for the visibility IN clause). */
export function entriesNaming(who: Pick<Identity, 'user' | 'groups'>): string[] {
  return [ANY_APPROVER, ...userEntries(who.user), ...who.groups.flatMap(groupEntries)];
}

function inClause(values: string[]): string {
  return `${APPROVERS_ATTRIBUTE.name} IN (${[...new Set(values)].map(quoteVisibilityValue).join(', ')})`;
}

/** Running executions with a pending approval that may match `filter`. */
export function buildInboxQuery(filter: InboxFilter): string {
  const clauses = [`ExecutionStatus = "Running"`, `${APPROVAL_SINCE_ATTRIBUTE.name} IS NOT NULL`];
  if (filter.spec !== undefined) clauses.push(`${SPEC_NAME_ATTRIBUTE.name} = ${quoteVisibilityValue(filter.spec)}`);
  if (filter.approver !== undefined) clauses.push(inClause(approverFilterEntries(filter.approver)));
  if (filter.group !== undefined) clauses.push(inClause(groupEntries(filter.group)));
  if (filter.decidableBy) clauses.push(inClause(entriesNaming(filter.decidableBy)));
  if (filter.requestedBefore !== undefined) {
    clauses.push(
      `${APPROVAL_SINCE_ATTRIBUTE.name} <= ${quoteVisibilityValue(new Date(filter.requestedBefore).toISOString())}`,
    );
  }
  return clauses.join(' AND ');
}

/** Whether `who` may decide `approval`: the approver role, and named by its approvers (or it names none). */
export function mayDecideApproval(approval: Pick<PendingApproval, 'approvers'>, who: Identity): boolean {
  return hasRole(who, 'approver') && mayDecide(approval.approvers, who);
}

/** The per-approval half of the filter (the visibility query only narrows runs). */
export function approvalMatches(approval: PendingApproval, filter: InboxFilter): boolean {
  const approvers = approval.approvers ?? [];
  if (filter.approver !== undefined && !approverFilterEntries(filter.approver).some((e) => approvers.includes(e))) {
    return false;
  }
  if (filter.group !== undefined && !groupEntries(filter.group).some((e) => approvers.includes(e))) return false;
  if (filter.requestedBefore !== undefined && !(Date.parse(approval.requestedAt) <= filter.requestedBefore)) {
    return false;
  }
  if (filter.decidableBy && !mayDecideApproval(approval, filter.decidableBy)) return false;
  return true;
}
