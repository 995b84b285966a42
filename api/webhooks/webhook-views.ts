/** What the /webhooks routes answer (also their OpenAPI components). */
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../../workflows/contracts/run-events';

export const webhookViewSchema = z.object({
  id: z
    .string()
    .meta({ description: 'The subscription id; deliveries carry it in their AgentWebhook search attribute.' }),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  spec: z.string().optional(),
  linksFor: z.string().optional(),
  retry: z
    .object({
      initialInterval: z.number().int().optional().meta({ description: 'In milliseconds.' }),
      maxAttempts: z.number().int().optional(),
    })
    .optional(),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type WebhookView = z.infer<typeof webhookViewSchema>;

export const webhookSecretSchema = z.string().meta({
  description:
    'The Standard Webhooks signing secret (`whsec_` + base64) to verify deliveries with. Derived from the ' +
    "server's SIGNING_SECRET and the id, never stored; also at GET /webhooks/{id}/secret.",
  example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
});

export const createWebhookResponseSchema = webhookViewSchema.extend({ secret: webhookSecretSchema });
export type CreateWebhookResponse = z.infer<typeof createWebhookResponseSchema>;

export const webhookSecretResponseSchema = z.object({ id: z.string(), secret: webhookSecretSchema });
export type WebhookSecretResponse = z.infer<typeof webhookSecretResponseSchema>;

export const listWebhooksResponseSchema = z.object({ webhooks: z.array(webhookViewSchema) });
export type ListWebhooksResponse = z.infer<typeof listWebhooksResponseSchema>;

const attemptSchema = z.object({
  attempt: z.number().int(),
  at: z.string().meta({ description: 'ISO time the attempt was scheduled.' }),
  outcome: z.enum(['delivered', 'failed']),
  status: z.number().int().optional().meta({ description: "The receiver's HTTP status, when it answered." }),
  error: z.string().optional(),
});

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled', 'terminated', 'timed_out'] as const;

export const deliveryViewSchema = z.object({
  id: z.string().meta({ description: 'The delivery id: its `webhook-id` header and its workflow id.' }),
  event: z.enum(WEBHOOK_EVENT_TYPES).nullable(),
  runWorkflowId: z.string().nullable().meta({ description: 'The run the event came from.' }),
  step: z.string().optional(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int().meta({ description: 'Attempts finished so far.' }),
  recent: z.array(attemptSchema).meta({ description: 'The latest attempts (up to 20), oldest first.' }),
  deliveredAt: z.string().optional(),
  nextAttemptAt: z.string().optional().meta({ description: 'When a pending delivery tries again.' }),
  startedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  webUiUrl: z.string(),
});
export type DeliveryView = z.infer<typeof deliveryViewSchema>;

export const listDeliveriesResponseSchema = z.object({
  deliveries: z.array(deliveryViewSchema),
  nextPageToken: z.string().optional(),
});
export type ListDeliveriesResponse = z.infer<typeof listDeliveriesResponseSchema>;
