/**
 * A subscription's deliveries, from Temporal visibility: every `deliverWebhook` workflow tagged
 * with the subscription's AgentWebhook attribute, each with the record its memo keeps (attempts,
 * their outcomes, when the next one is due). One list call per page, no describe per delivery.
 * Visibility is eventually consistent: a delivery shows up a moment after its event. The order
 * is the server's: deliveries still pending first, then the others by close time, newest first.
 */
import { Inject, Injectable } from '@nestjs/common';
import { defaultPayloadConverter, type Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal, type google } from '@temporalio/proto';
import { runUrl, type TemporalConfig } from '../../temporal/config';
import { WEBHOOK_ATTRIBUTE } from '../../workflows/contracts/run';
import { DELIVER_WEBHOOK_WORKFLOW, DELIVERY_MEMO, type DeliveryRecord } from '../../workflows/contracts/webhooks';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import { listVisibilityPage } from '../workflows/visibility-page';
import { quoteVisibilityValue } from '../workflows/visibility-query';
import type { ListDeliveriesQuery } from './webhook-requests';
import type { DeliveryView, ListDeliveriesResponse } from './webhook-views';

const DEFAULT_PAGE_SIZE = 20;
const { WorkflowExecutionStatus } = temporal.api.enums.v1;

const STATUS_OF_CLOSED: Partial<Record<number, DeliveryView['status']>> = {
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED]: 'delivered',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED]: 'failed',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED]: 'cancelled',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED]: 'terminated',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT]: 'timed_out',
};

export function deliveriesQuery(subscriptionId: string): string {
  return (
    `WorkflowType = ${quoteVisibilityValue(DELIVER_WEBHOOK_WORKFLOW)} AND ` +
    `${WEBHOOK_ATTRIBUTE.name} = ${quoteVisibilityValue(subscriptionId)}`
  );
}

function isoOf(ts: google.protobuf.ITimestamp | null | undefined): string | null {
  if (!ts?.seconds) return null;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds.toNumber();
  return new Date(seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

function recordOf(memo: Record<string, Payload> | null | undefined): DeliveryRecord | undefined {
  const payload = memo?.[DELIVERY_MEMO];
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload<DeliveryRecord>(payload);
  } catch {
    return undefined;
  }
}

@Injectable()
export class WebhookDeliveries {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) private readonly config: TemporalConfig,
  ) {}

  async list(subscriptionId: string, query: ListDeliveriesQuery): Promise<ListDeliveriesResponse> {
    const page = await listVisibilityPage(this.client, this.config.namespace, {
      query: deliveriesQuery(subscriptionId),
      pageSize: query.pageSize ?? DEFAULT_PAGE_SIZE,
      nextPageToken: query.nextPageToken,
    });
    const deliveries = page.executions.map((e): DeliveryView => {
      const id = e.execution?.workflowId ?? '';
      const record = recordOf(e.memo?.fields);
      const running = e.status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
      return {
        id,
        event: record?.eventType ?? null,
        runWorkflowId: record?.runWorkflowId ?? null,
        ...(record?.step !== undefined && { step: record.step }),
        status: running ? 'pending' : (STATUS_OF_CLOSED[e.status ?? 0] ?? 'failed'),
        attempts: record?.attempts ?? 0,
        recent: record?.recent ?? [],
        ...(record?.deliveredAt !== undefined && { deliveredAt: record.deliveredAt }),
        ...(running && record?.nextAttemptAt !== undefined && { nextAttemptAt: record.nextAttemptAt }),
        startedAt: isoOf(e.startTime),
        closedAt: isoOf(e.closeTime),
        webUiUrl: runUrl(this.config, id, e.execution?.runId ?? undefined),
      };
    });
    return page.nextPageToken ? { deliveries, nextPageToken: page.nextPageToken } : { deliveries };
  }
}
