import { ConflictException, Inject, Injectable } from '@nestjs/common';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { TemporalConfig } from '../../temporal/config';
import type { Identity } from '../../workflows/contracts/identity';
import { PENDING_APPROVALS_MEMO, SPEC_NAME_ATTRIBUTE, type PendingApproval } from '../../workflows/contracts/run';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import { listVisibilityPage } from '../workflows/visibility-page';
import { runStatusOf } from '../workflows/run-status';
import type { ListApprovalsQuery } from './approval-requests';
import type { ListApprovalsResponse, PendingApprovalItem } from './approval-views';
import { approvalMatches, buildInboxQuery, mayDecideApproval, type InboxFilter } from './inbox-query';
import { keywordOf, pendingApprovalsOf, pendingApprovalsOfFields } from './pending-memo';
import type { PublicUrls } from './public-urls';

const DEFAULT_PAGE_SIZE = 50;

/** A run's pending approval as the memo has it, with the run's current execution. */
export interface WaitingApproval {
  approval: PendingApproval;
  runId: string;
  spec: string | null;
}

/**
 * Pending approvals across runs, from Temporal visibility and each run's memo: one listing call
 * per page, no query to a worker per row, so the inbox works while workers are down.
 */
@Injectable()
export class InboxService {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) private readonly config: TemporalConfig,
  ) {}

  async list(
    query: ListApprovalsQuery,
    caller: Identity,
    urls: PublicUrls,
    now = Date.now(),
  ): Promise<ListApprovalsResponse> {
    const filter: InboxFilter = {
      spec: query.spec,
      approver: query.approver,
      group: query.group,
      requestedBefore: query.olderThan === undefined ? undefined : now - query.olderThan,
      decidableBy: query.mine ? caller : undefined,
    };
    // The page token is bound to the filter as asked, not to the query text: olderThan's cutoff moves.
    const pagingKey = JSON.stringify([
      query.spec,
      query.approver,
      query.group,
      query.olderThan,
      query.mine ? [caller.user, caller.groups] : null,
    ]);
    const page = await listVisibilityPage(this.client, this.config.namespace, {
      query: buildInboxQuery(filter),
      pageSize: query.pageSize ?? DEFAULT_PAGE_SIZE,
      nextPageToken: query.nextPageToken,
      pagingKey,
    });
    const approvals: PendingApprovalItem[] = [];
    for (const e of page.executions) {
      const workflowId = e.execution?.workflowId ?? '';
      const runId = e.execution?.runId ?? '';
      const spec = keywordOf(e.searchAttributes?.indexedFields, SPEC_NAME_ATTRIBUTE.name);
      for (const approval of pendingApprovalsOfFields(e.memo?.fields)) {
        if (!approvalMatches(approval, filter)) continue;
        approvals.push(itemOf(workflowId, { approval, runId, spec }, caller, urls));
      }
    }
    approvals.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
    return page.nextPageToken ? { approvals, nextPageToken: page.nextPageToken } : { approvals };
  }

  /**
   * A step of a running run that waits for a decision, from its memo (no worker needed); 409
   * when the run is closed or the step is not waiting. Temporal's not-found errors pass through (404).
   */
  async waiting(workflowId: string, stepId: string): Promise<WaitingApproval> {
    const description = await this.client.workflow.getHandle(workflowId).describe();
    const status = runStatusOf(description.status.name);
    if (status !== 'running') {
      throw new ConflictException(`run "${workflowId}" is ${status}: no step is waiting for approval`);
    }
    const pending = pendingOf(description);
    const approval = pending.find((p) => p.stepId === stepId);
    if (!approval) {
      const ids = pending.map((p) => p.stepId);
      throw new ConflictException(
        `step "${stepId}" is not waiting for approval` +
          (ids.length ? ` (waiting: ${ids.join(', ')})` : ' (no step is waiting)'),
      );
    }
    return { approval, runId: description.runId, spec: specOf(description) };
  }
}

function pendingOf(description: WorkflowExecutionDescription): PendingApproval[] {
  return pendingApprovalsOf(description.memo?.[PENDING_APPROVALS_MEMO]);
}

function specOf(description: WorkflowExecutionDescription): string | null {
  const memoSpec = description.memo?.spec;
  return typeof memoSpec === 'string' ? memoSpec : (description.typedSearchAttributes.get(SPEC_NAME_ATTRIBUTE) ?? null);
}

export function itemOf(
  workflowId: string,
  waiting: WaitingApproval,
  caller: Identity,
  urls: PublicUrls,
): PendingApprovalItem {
  const { approval } = waiting;
  return {
    workflowId,
    runId: waiting.runId,
    spec: waiting.spec,
    stepId: approval.stepId,
    prompt: approval.prompt ?? null,
    approvers: approval.approvers ?? [],
    requestedAt: approval.requestedAt,
    timeoutAt: approval.timeoutAt ?? null,
    onTimeout: approval.onTimeout,
    escalatedAt: approval.escalatedAt ?? null,
    choices: approval.choices ?? [],
    ...(approval.kind === 'input' && { kind: 'input' as const }),
    ...(approval.requestedSchema && { requestedSchema: approval.requestedSchema }),
    ...(approval.server !== undefined && { server: approval.server }),
    mayDecide: mayDecideApproval(approval, caller),
    links: {
      run: urls.run(workflowId),
      webUi: urls.webUi(workflowId),
      decide: urls.decide(workflowId, approval.stepId),
    },
  };
}
