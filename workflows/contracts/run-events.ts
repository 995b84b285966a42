/**
 * Run events: what GET /workflows/:id/events streams (rebuilt from history) and what webhooks
 * deliver. Defined once for the API, the workers and the workflows. Workflow-safe.
 */

export const RUN_EVENT_TYPES = [
  'run.started',
  'step.started',
  'step.finished',
  'step.failed',
  'step.skipped',
  /** Live detail from an activity's heartbeat (upload percent, build log lines, tokens so far). */
  'step.progress',
  'approval.requested',
  'approval.escalated',
  'approval.decided',
  /** A decision that arrived (e.g. as a signal) and was refused; the step is unchanged. */
  'approval.refused',
  'run.finished',
] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

/** The events a run emits itself, and so the ones a webhook can subscribe to. */
export const WEBHOOK_EVENT_TYPES = [
  'run.started',
  'approval.requested',
  'approval.escalated',
  'approval.decided',
  'run.finished',
] as const satisfies readonly RunEventType[];
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface RunEvent {
  /** Monotonic within one stream; see api/events for the format. */
  id: string;
  type: RunEventType;
  workflowId: string;
  /** ISO time of the event. */
  at: string;
  /** Step path, for step and approval events. */
  step?: string;
  data: Record<string, unknown>;
}

/** A webhook subscription as a run knows it (set by the API at start; no secret: the worker derives it). */
export interface WebhookTarget {
  id: string;
  url: string;
  events: WebhookEventType[];
  /** Mint approve/reject links for this user into approval.requested deliveries. */
  linksFor?: string;
  /** How deliveries retry (see contracts/webhooks.ts for the defaults). */
  retry?: WebhookRetry;
}

export interface WebhookRetry {
  /** Wait after the first failed attempt, in ms; doubles after each further failure. */
  initialIntervalMs?: number;
  /** Attempts in all, the first included; absent: as many as fit in the delivery's 24 hours. */
  maxAttempts?: number;
}

/** What a run hands to its webhook deliveries: the event without a stream id. */
export type WebhookEvent = Omit<RunEvent, 'id'> & { type: WebhookEventType };
