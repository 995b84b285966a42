/**
 * The contract of one webhook delivery: the `deliverWebhook` workflow (one per subscription and
 * event, started by notifyWebhooks), the activity it calls, and the record it keeps in its memo
 * for GET /webhooks/:id/deliveries. Workflow-safe.
 */
import type { WebhookEvent, WebhookRetry, WebhookTarget } from './run-events';

export const DELIVER_WEBHOOK_WORKFLOW = 'deliverWebhook';
/** Memo key holding the DeliveryRecord, rewritten after every attempt. */
export const DELIVERY_MEMO = 'delivery';
/** Failure type of a delivery that gave up (the record is its detail). */
export const DELIVERY_FAILED = 'WebhookDeliveryFailed';

/** How deliveries retry. A subscription may set its own initial interval and a limit on attempts (none by default). */
export const DEFAULT_WEBHOOK_RETRY = {
  initialIntervalMs: 10_000,
  /** Waits double up to this. */
  maxIntervalMs: 60 * 60_000,
  /** No attempt starts later than this after the first. */
  expiryMs: 24 * 60 * 60_000,
} as const;
/** The memo keeps this many of the latest attempts (the count covers them all). */
export const RECORDED_ATTEMPTS = 20;

/** Where and how to deliver: the subscription as the run knows it, minus the event filter. */
export type DeliveryTarget = Omit<WebhookTarget, 'events'>;

export interface DeliverWebhookInput {
  target: DeliveryTarget;
  event: WebhookEvent;
}

export interface DeliveryAttempt {
  attempt: number;
  /** ISO time the attempt was scheduled. */
  at: string;
  outcome: 'delivered' | 'failed';
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why the attempt failed. */
  error?: string;
}

/** What a delivery reports (memo while it runs, result when delivered, failure detail when it gave up). */
export interface DeliveryRecord {
  subscriptionId: string;
  url: string;
  eventType: WebhookEvent['type'];
  /** The run the event is from. */
  runWorkflowId: string;
  step?: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** The latest attempts, oldest first. */
  recent: DeliveryAttempt[];
  deliveredAt?: string;
  /** When the next attempt is due, while one is. */
  nextAttemptAt?: string;
}

export interface DeliverWebhookRequest {
  /** The delivery's workflow id: the `webhook-id` header, the same on every attempt. */
  deliveryId: string;
  target: DeliveryTarget;
  event: WebhookEvent;
  attempt: number;
}

export interface DeliverWebhookResponse {
  status: number;
}

/** Failure details of a failed attempt: the receiver's status when it answered. */
export interface DeliveryFailureDetails {
  status?: number;
}

/** The orchestrator worker's delivery activity (activities/webhooks). */
export interface WebhookDeliveryActivities {
  deliverWebhook(req: DeliverWebhookRequest): Promise<DeliverWebhookResponse>;
}

/** The wait before attempt `attempt + 1` (exponential, capped). */
export function retryDelayMs(retry: WebhookRetry | undefined, attempt: number): number {
  const initial = retry?.initialIntervalMs ?? DEFAULT_WEBHOOK_RETRY.initialIntervalMs;
  return Math.min(initial * 2 ** (attempt - 1), Math.max(initial, DEFAULT_WEBHOOK_RETRY.maxIntervalMs));
}
